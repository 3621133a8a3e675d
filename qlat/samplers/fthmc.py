r"""Field-transformation HMC (``fthmc``): HMC in the variables of a trained flow.

A trained bijection U = f(V) (:mod:`qlat.samplers.flow`, e.g. the gauge-equivariant U(1) couplings of
:mod:`qlat.samplers.flow.gauge`) changes variables in the path integral:

.. math:: \int dU\, e^{-S(U)} = \int dV\, e^{-\tilde S(V)}, \qquad
          \tilde S(V) = S(f(V)) - \log|\det J_f(V)|,

so HMC on S̃ in the variables V, mapped back by f, samples e^{−S(U)} exactly — whatever the quality
of the flow, which only changes how far the molecular dynamics moves U per trajectory (a flow that
maps weakly coupled V to the physical U decorrelates slow modes such as the topological charge).
One trajectory (:class:`FlowedAction` on the shared core :mod:`qlat.samplers.hmc_core`):
V₀ = f⁻¹(U₀) through the flow's inverse, momenta conjugate to V, leapfrog/Omelyan on S̃ with the
force ∂S̃/∂V by automatic differentiation through f and its log-Jacobian, the Metropolis test on
½Σp² + S̃(V) at both ends, U₁ = f(V₁) (a rejected chain keeps U₀ itself, not f(f⁻¹(U₀))).
Reversibility holds to the round-off of f∘f⁻¹ (~1e-14 in float64); the test uses S̃ exactly as the
force does, so the chain is exact in V and, f being a bijection, in U.

Smoothness: the conditioners of :mod:`qlat.samplers.flow.layers` use LeakyReLU, so S̃ is only
piecewise smooth and ΔH falls between O(ε) and O(ε²) (measured in ``tests/samplers/test_fthmc.py``);
the chain stays exact (each kick and drift is a shear, volume-preserving and reversible for any
force), only the acceptance at a given ε is lower than with a C¹ transformation (Jin constrains his
networks to be continuously differentiable for this reason).  Use the smooth ``ncp`` couplings:
the ``spline`` ones are only C¹, so their force jumps at the knots.

References: S. Foreman, T. Izubuchi, L. Jin, X.-Y. Jin, J. C. Osborn, A. Tomiya, "HMC with
Normalizing Flows", PoS LATTICE2021 (2022) 073, arXiv:2112.01586 (FTHMC with gauge-equivariant
flows for 2D U(1)); X.-Y. Jin, "Neural Network Field Transformation and Its Application in HMC",
arXiv:2201.01862; the flows: Kanwar et al. arXiv:2003.06413, Albergo et al. arXiv:2101.08176.

The state holds U (observables and stored ensembles are in the physical variables); the model is
pinned by the sha256 of its weights and card as for the ``flow`` sampler.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import ChainState, SampleBatch
from qlat.samplers.hmc_core import HMCCore, hmc_cli_options

if TYPE_CHECKING:
    import torch

    from qlat.samplers.flow.networks import FlowModel
    from qlat.theories.base import Theory


class FlowedAction:
    """The :class:`~qlat.samplers.hmc_core.HMCAction` of FTHMC: variables V = f⁻¹(U),
    S̃(V) = S(f(V)) − log|det J_f(V)| for both the force and the test (module docstring)."""

    def __init__(self, theory: Any, model: "FlowModel") -> None:
        self.theory = theory
        self.bijection = model.flow

    def transformed_action(self, v: "torch.Tensor") -> "torch.Tensor":
        """S̃(V) = S(f(V)) − log|det J_f(V)| per chain (differentiable)."""
        u, log_det = self.bijection(v)
        return self.theory.action(u) - log_det

    def begin(self, fields: "torch.Tensor", generator: "torch.Generator") -> tuple["torch.Tensor", "torch.Tensor"]:
        import torch

        with torch.no_grad():
            v, _ = self.bijection.inverse(fields)
        return v, self.accept_action(v)

    def force(self, v: "torch.Tensor") -> "torch.Tensor":
        """∂S̃/∂V by automatic differentiation through f and its log-Jacobian."""
        import torch

        with torch.enable_grad():
            leaf = v.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.transformed_action(leaf).sum(), leaf)
        return grad

    def accept_action(self, v: "torch.Tensor") -> "torch.Tensor":
        import torch

        with torch.no_grad():
            return self.transformed_action(v)

    def fields(self, v: "torch.Tensor") -> "torch.Tensor":
        import torch

        with torch.no_grad():
            return self.bijection(v)[0]


@SAMPLERS.register("fthmc")
class FieldTransformationHMC(HMCCore):
    """HMC in the variables of a trained flow (module docstring).

    Parameters
    ----------
    model: a flow model directory (``qlat flow train --out DIR``) trained for the theory sampled.
    model_sha256, card_sha256: if given, the sha256 the weights / model card must have.
    The shared keywords (trajectory_length, n_steps, integrator, target_acceptance, thermalization,
    every): :class:`~qlat.samplers.hmc_core.HMCOptions`.
    """

    name = "fthmc"
    requirement = "fthmc needs a theory with an action for which its flow model was trained (same couplings, lattice)"
    OPTIONS: tuple[Option, ...] = hmc_cli_options(
        Option("--model", "model", str, "flow model directory made by 'qlat flow train --out'", required=True))

    def __init__(self, *, model: str, model_sha256: str | None = None, card_sha256: str | None = None,
                 **options: Any) -> None:
        from qlat.samplers.flow.checkpoint import PinnedModel

        super().__init__(**options)
        self.pinned = PinnedModel(model, model_sha256=model_sha256, card_sha256=card_sha256)

    @classmethod
    def example(cls, theory: "Theory", workdir: Any = None) -> "FieldTransformationHMC":
        """HMC through the barely trained example flow of the ``flow`` sampler (conformance suite)."""
        from qlat.samplers.flow.sampler import FlowSampler

        flow = FlowSampler.example(theory, workdir)
        return cls(model=str(Path(flow.model)), trajectory_length=0.5, n_steps=4, thermalization=2)

    def variant_params(self) -> dict[str, Any]:
        return self.pinned.params()

    def supports(self, theory: "Theory") -> bool:
        """Theories with an action for which the model was trained."""
        return callable(getattr(theory, "action", None)) and self.pinned.supports(theory)

    def check_theory(self, theory: "Theory") -> None:
        """``ParameterError`` naming the first coupling or extent the model was not trained for."""
        if callable(getattr(theory, "params", None)):
            self.pinned.check(theory)
        super().check_theory(theory)

    def init_state(self, theory: "Theory", *, chains: int, seed: int, start: str = "hot") -> ChainState:
        """``hot``: the theory's random start taken as the flowed variables V, so the chain starts at
        U = f(V), a sample of the flow (near equilibrium for a trained flow; from a random U itself the
        flowed action of a briefly trained flow is stiff and a tuned step size collapses); ``cold``: ordered."""
        import dataclasses

        import torch

        state = super().init_state(theory, chains=chains, seed=seed, start=start)
        if start != "hot":
            return state
        with torch.no_grad():
            fields = theory.canonicalize(self.pinned.flow.flow(state.fields)[0])
        return dataclasses.replace(state, fields=fields)

    def hmc_action(self, theory: Any, stats: dict[str, Any]) -> FlowedAction:
        return FlowedAction(theory, self.pinned.flow)

    def finish_batch(self, theory: Any, batch: SampleBatch, stats: dict[str, Any], trajectories: int) -> None:
        """``batch.meta``: the sha256 of the model's weights and card (provenance)."""
        batch.meta.update({"model_sha256": self.pinned.model_sha256, "card_sha256": self.pinned.card_sha256})

r"""Self-learning hybrid Monte Carlo (``slhmc``) for Wilson fermions on small lattices.

SLHMC (Nagai, Okumura, Kobayashi, Shiga arXiv:1909.02255; for gauge theories with dynamical
fermions Nagai & Tomiya arXiv:2103.11965, with the CASK transformer arXiv:2501.16955): one
trajectory of every chain, from θ,

1. draw momenta p ~ N(0, 1) (:func:`qlat.samplers.hmc.standard_normal`);
2. integrate Hamilton's equations of the *effective* Hamiltonian H_eff = ½p² + S_eff[θ] with
   leapfrog or Omelyan (:mod:`qlat.samplers.integrators`); the force ∂S_eff/∂θ is the autograd
   gradient of the trained model (:class:`~qlat.samplers.slhmc.models.EffectiveAction`);
3. accept the end point (θ', p') with probability min(1, e^{−ΔH}),

   .. math:: ΔH = ½p'^2 + S[θ'] − ½p^2 − S[θ], \qquad S = S_g − N_f \log|\det D|,

   with the *exact* action S (dense LU: ``theory.effective_action_force_sign``).

The MD map of any smooth S_eff is reversible (p → −p) and volume preserving, so step 3 is the
Metropolis–Hastings test of a symmetric deterministic proposal and the chain samples e^{−S}
exactly whatever the model is — the model only decides the acceptance.  ΔH splits into the
integration error of the model's own dynamics, ΔH_eff = ½p'² + S_eff[θ'] − ½p² − S_eff[θ]
(``batch.meta["delta_h_md"]``), and the model error (S − S_eff)[θ'] − (S − S_eff)[θ].
For N_f = 1 the chain samples |det D| and ``batch.meta["sign"]`` holds sign det D of each kept
configuration for ⟨O s⟩/⟨s⟩, as for ``det-hmc``.  The exact action costs O(V³) per trajectory
(two LUs, one cached), against one LU *and* an inverse per MD step for ``det-hmc``; larger
lattices would need a stochastic estimator of the determinant ratio with an exact accept
(not implemented).

The sampler's parameters name the model directory and its weights' SHA-256, so an ensemble
rebuilds the same sampler only from the same model file.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import (
    COMMON_OPTIONS,
    TUNING_OPTION,
    ChainState,
    SampleBatch,
    check_int,
    check_target_acceptance,
    from_params_by_keywords,
    make_initial_state,
    run_chain,
)
from qlat.samplers.hmc import standard_normal
from qlat.samplers.integrators import INTEGRATORS, get_integrator

if TYPE_CHECKING:
    import torch


@SAMPLERS.register("slhmc")
class SLHMC:
    """HMC with the molecular dynamics of a trained S_eff and the exact accept (module doc).

    Parameters
    ----------
    model: a model directory written by :func:`qlat.samplers.slhmc.training.save_model`.
    trajectory_length, n_steps, integrator, target_acceptance, thermalization, every: as for
        :class:`~qlat.samplers.hmc.HMC`.
    device: torch device of the effective action's force (``cpu`` default, ``cuda`` …); the exact
        accept runs on the CPU.
    model_sha256: the expected SHA-256 of the weights (set from the card when omitted).
    """

    name = "slhmc"
    OPTIONS: tuple[Option, ...] = (
        Option("--model", "model", str, "model directory written by 'qlat slhmc train'", required=True),
        Option("--tau", "trajectory_length", float, "trajectory length τ (> 0)", default=1.0),
        Option("--steps", "n_steps", int, "integration steps per trajectory (>= 1)", default=10),
        Option("--integrator", "integrator", str, "molecular-dynamics integrator", default="leapfrog",
               choices=tuple(INTEGRATORS)),
        Option("--device", "device", str, "slhmc: torch device of the effective-action force (default cpu)",
               default="cpu"),
        TUNING_OPTION,
        *COMMON_OPTIONS,
    )

    def __init__(self, *, model: str, trajectory_length: float = 1.0, n_steps: int = 10,
                 integrator: str = "leapfrog", target_acceptance: float | None = None, thermalization: int = 0,
                 every: int = 1, device: str = "cpu", model_sha256: str | None = None) -> None:
        from qlat.core.errors import ParameterError
        from qlat.samplers.slhmc.training import load_model

        try:
            ok = math.isfinite(float(trajectory_length)) and float(trajectory_length) > 0
        except (TypeError, ValueError):
            ok = False
        require(ok, "trajectory_length", "must be a finite number > 0", trajectory_length)
        require(integrator in INTEGRATORS, "integrator", f"must be one of {', '.join(INTEGRATORS)}", integrator)
        self.trajectory_length = float(trajectory_length)
        self.n_steps = check_int(n_steps, "n_steps", 1)
        self.integrator = integrator
        self.target_acceptance = check_target_acceptance(target_acceptance)
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)
        self.device = _check_device(device)
        self._integrate = get_integrator(integrator)
        require(isinstance(model, str) and model != "", "model", "must be a model directory", model)
        self.model_path = model
        net, self.card = load_model(model)
        self.model_sha256 = str(self.card["weights_sha256"])
        if model_sha256 is not None and model_sha256 != self.model_sha256:
            raise ParameterError("model", "is not the model this sampler was made with (SHA-256 differs)", model)
        self.model = net.to(self.device)

    @classmethod
    def example(cls, theory: Any, workdir: Any = None) -> "SLHMC":
        """SLHMC with the untrained pure-gauge model for ``theory`` (or the Schwinger example), written
        into ``workdir``: exact all the same."""
        import tempfile
        from pathlib import Path

        from qlat.samplers.slhmc.models import EffectiveAction
        from qlat.samplers.slhmc.training import save_model
        from qlat.theories.schwinger_wilson import ExactDeterminantAction, SchwingerTheory

        if not isinstance(theory, ExactDeterminantAction) or getattr(theory, "name", "") != "schwinger":
            theory = SchwingerTheory.example()
        base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="qlat-slhmc-example-"))
        path = base / "slhmc-example-linear"
        if not path.is_dir():
            save_model(path, EffectiveAction.pure_gauge(theory.beta), theory_params=theory.params())
        return cls(model=str(path), trajectory_length=0.5, n_steps=4, thermalization=2)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "SLHMC":
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model_path, "model_sha256": self.model_sha256,
                "trajectory_length": self.trajectory_length, "n_steps": self.n_steps,
                "integrator": self.integrator, "target_acceptance": self.target_acceptance,
                "thermalization": self.thermalization, "every": self.every, "device": self.device}

    # -------------------------------------------------------------- compatibility
    def supports(self, theory: Any) -> bool:
        """Theories with an exact fermion determinant (the accept) and 2D link angles (the model)."""
        from qlat.theories.schwinger_wilson import ExactDeterminantAction

        shape = tuple(getattr(theory, "field_shape", ()))
        return isinstance(theory, ExactDeterminantAction) and len(shape) == 3 and shape[0] == 2

    def _checked(self, theory: Any) -> None:
        from qlat.samplers.slhmc.training import check_card_theory

        require(self.supports(theory), "theory", "slhmc needs a 2D gauge theory with an exact fermion determinant "
                "(schwinger)", getattr(theory, "name", type(theory).__name__))
        check_card_theory(self.card, theory.params(), path=self.model_path)

    def init_state(self, theory: Any, *, chains: int, seed: int, start: str = "hot") -> ChainState:
        self._checked(theory)
        return make_initial_state(theory, chains=chains, seed=seed, start=start,
                                  step_size=self.trajectory_length / self.n_steps)

    # -------------------------------------------------------------- updates
    def effective_action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S_eff per configuration (on the CPU, float64)."""
        import torch

        with torch.no_grad():
            return self.model(fields.to(self.device)).to("cpu", torch.float64)

    def exact_action(self, theory: Any, fields: "torch.Tensor") -> "torch.Tensor":
        """The accept action S = S_g − N_f log|det D| (dense LU)."""
        return theory.effective_action_force_sign(fields, need_force=False)[0]

    def trajectory(self, theory: Any, fields: "torch.Tensor", generator: "torch.Generator", step_size: float,
                   s0: "torch.Tensor | None" = None
                   ) -> tuple["torch.Tensor", np.ndarray, np.ndarray, float, "torch.Tensor", np.ndarray]:
        """One trajectory of every chain: (fields, accepted, ΔH, mean min(1, e^{−ΔH}), S of the new fields,
        ΔH_eff of the molecular dynamics)."""
        import torch

        chains = fields.shape[0]
        if s0 is None:
            s0 = self.exact_action(theory, fields)
        p = standard_normal(tuple(fields.shape), generator=generator).to(fields.dtype)
        k0 = 0.5 * p.square().reshape(chains, -1).sum(1)
        q1, p1 = self._integrate(fields, p, self.model.force, step_size, self.n_steps)
        k1 = 0.5 * p1.square().reshape(chains, -1).sum(1)
        s1 = self.exact_action(theory, q1)
        dh = k1 + s1 - k0 - s0
        dh = torch.where(torch.isnan(dh), torch.full_like(dh, math.inf), dh)
        dh_md = (k1 + self.effective_action(q1) - k0 - self.effective_action(fields)).numpy().copy()
        u = torch.rand(chains, dtype=fields.dtype, generator=generator)
        accept = torch.log(u) < -dh
        view = (chains,) + (1,) * (fields.dim() - 1)
        new = theory.canonicalize(torch.where(accept.view(view), q1, fields))
        s_new = torch.where(accept, s1, s0)
        dh_np = dh.numpy().copy()
        with np.errstate(over="ignore", invalid="ignore"):
            prob = np.where(np.isfinite(dh_np), np.minimum(1.0, np.exp(-dh_np)), 0.0)
        return new, accept.numpy().copy(), dh_np, float(prob.mean()), s_new, dh_md

    def run(self, theory: Any, n: int, *, state: ChainState, progress: bool = False
            ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains by ``n`` kept configurations.

        ``batch.meta``: ``sign`` (sign det D, ``(n, chains)``) and ``delta_h_md`` (ΔH_eff of every
        trajectory of this run, thermalization included, ``(trajectories, chains)``)."""
        self._checked(theory)
        cache: dict[str, Any] = {"fields": None, "action": None}
        md: list[np.ndarray] = []

        def step(fields, gen, eps):
            s0 = cache["action"] if cache["fields"] is fields else None
            new, acc, dh, prob, s_new, dh_md = self.trajectory(theory, fields, gen, eps, s0)
            cache["fields"], cache["action"] = new, s_new
            md.append(dh_md)
            return new, acc, dh, prob

        batch, new_state = run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                                     target_acceptance=self.target_acceptance, accepted_dtype=bool,
                                     progress=progress, desc=self.name)
        configs = batch.configurations
        flat = configs.reshape(-1, *configs.shape[2:])
        sign = theory.dirac(flat).log_abs_det()[1]
        batch.meta["sign"] = sign.reshape(configs.shape[0], configs.shape[1])
        batch.meta["delta_h_md"] = np.stack(md) if md else np.zeros((0, state.chains))
        return batch, new_state

    def __repr__(self) -> str:
        return (f"SLHMC(model={self.model_path!r}, trajectory_length={self.trajectory_length}, "
                f"n_steps={self.n_steps}, integrator={self.integrator!r})")


def _check_device(device: Any) -> str:
    import torch

    require(isinstance(device, str) and device != "", "device", "must be a torch device name (cpu, cuda, cuda:0 …)",
            device)
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        from qlat.core.errors import ParameterError

        raise ParameterError("device", "is not a torch device name (cpu, cuda, cuda:0 …)", device) from None
    if dev.type == "cuda":
        require(torch.cuda.is_available(), "device", "CUDA is not available on this machine", device)
    return device

r"""Self-learning hybrid Monte Carlo (``slhmc``) for Wilson fermions on small lattices.

SLHMC (Nagai, Okumura, Kobayashi, Shiga arXiv:1909.02255; for gauge theories with dynamical
fermions Nagai & Tomiya arXiv:2103.11965, with the CASK transformer arXiv:2501.16955; the
self-learning Monte Carlo of Nagai, Tanaka, Tomiya arXiv:2010.11900 accepts effective-action
updates with the exact fermion action in the same way): one
trajectory of every chain, from θ,

1. draw momenta p ~ N(0, 1);
2. integrate Hamilton's equations of the *effective* Hamiltonian H_eff = ½p² + S_eff[θ] with
   leapfrog or Omelyan (:mod:`qlat.samplers.integrators`); the force ∂S_eff/∂θ is the autograd
   gradient of the trained model (:class:`~qlat.samplers.slhmc.effective_actions.EffectiveAction`);
3. accept the end point (θ', p') with probability min(1, e^{−ΔH}),

   .. math:: ΔH = ½p'^2 + S[θ'] − ½p^2 − S[θ], \qquad S = S_g − N_f \log|\det D|,

   with the *exact* action S (dense LU: ``theory.effective_action_force_sign``).

Steps 1–3 are the shared HMC core (:mod:`qlat.samplers.hmc_core`); this variant only supplies its
:class:`~qlat.samplers.hmc_core.HMCAction` (:class:`SurrogateAction`): MD force ∂S_eff/∂θ,
accept action S.

The MD map of any smooth S_eff is reversible (p → −p) and volume preserving, so step 3 is the
Metropolis–Hastings test of a symmetric deterministic proposal and the chain samples e^{−S}
exactly whatever the model is — the model only decides the acceptance.  ΔH splits into the
integration error of the model's own dynamics, ΔH_eff = ½p'² + S_eff[θ'] − ½p² − S_eff[θ]
(``batch.meta["delta_h_md"]``, kept trajectories), and the model error
δ = (S − S_eff)[θ'] − (S − S_eff)[θ] (``batch.meta["model_error"]``, every trajectory of the run).
For N_f = 1 the chain samples |det D| and ``batch.meta["sign"]`` holds sign det D of each kept
configuration for ⟨O s⟩/⟨s⟩, as for ``det-hmc``.  The exact action costs O(V³) per trajectory
(one LU: the action of the configuration a trajectory starts from is the one computed at the end
of the previous trajectory, reused when the configuration is bit for bit that one), against one LU
*and* an inverse per MD step for ``det-hmc``; larger
lattices would need a stochastic estimator of the determinant ratio with an exact accept
(not implemented).

The sampler's parameters name the model directory and the SHA-256 of its weights and card, so an
ensemble rebuilds the same sampler only from the same model files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.files import sha256_file
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import SampleBatch
from qlat.samplers.hmc_core import HMCCore, hmc_cli_options

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


class SurrogateAction:
    """The :class:`~qlat.samplers.hmc_core.HMCAction` of SLHMC: MD force ∂S_eff/∂θ (autograd), accept
    action S = S_g − N_f log|det D| (exact); the model error δ of each trajectory goes to ``stats``."""

    def __init__(self, sampler: "SLHMC", theory: Any, stats: dict[str, Any]) -> None:
        self.sampler, self.theory, self.stats = sampler, theory, stats
        self._gap0: "torch.Tensor | None" = None
        self._fields0: Any = None
        self._s0: Any = None

    def begin(self, fields: "torch.Tensor", generator: "torch.Generator") -> tuple["torch.Tensor", "torch.Tensor"]:
        s0 = self._cached(fields)
        if s0 is None:
            s0 = self.sampler.exact_action(self.theory, fields)
        self._fields0, self._s0 = fields, s0
        self._gap0 = s0 - self.sampler.effective_action(fields)
        return fields, s0

    def _cached(self, fields: "torch.Tensor") -> "torch.Tensor | None":
        """S of ``fields`` if every chain holds exactly the end point or the start of the previous trajectory
        (its accepted or rejected configuration), else None: one LU per trajectory instead of two."""
        import torch

        cache = self.stats.get("cache")
        if cache is None:
            return None
        (end, s_end), (start, s_start) = cache
        if end.shape != fields.shape:
            return None
        at_end = (fields == end).flatten(1).all(1)
        at_start = (fields == start).flatten(1).all(1)
        if not bool((at_end | at_start).all()):
            return None
        return torch.where(at_end, s_end, s_start)

    def force(self, q: "torch.Tensor") -> "torch.Tensor":
        return self.sampler.model.force(q)

    def accept_action(self, q: "torch.Tensor") -> "torch.Tensor":
        end = self.theory.canonicalize(q)  # S(q) = S(canonical q); the next trajectory may start there
        s1 = self.sampler.exact_action(self.theory, end)
        self.stats["cache"] = ((end, s1), (self._fields0, self._s0))
        if self._gap0 is not None:
            gap1 = s1 - self.sampler.effective_action(q)
            self.stats.setdefault("model_error", []).append((gap1 - self._gap0).numpy().copy())
        return s1

    def fields(self, q: "torch.Tensor") -> "torch.Tensor":
        return q


@SAMPLERS.register("slhmc")
class SLHMC(HMCCore):
    """HMC with the molecular dynamics of a trained S_eff and the exact accept (module doc).

    Parameters
    ----------
    model: a model directory written by :func:`qlat.samplers.slhmc.training.save_model`.
    device: torch device of the effective action's force (``cpu`` default, ``cuda`` …); the exact
        accept runs on the CPU.
    model_sha256, card_sha256: if given, the SHA-256 the weights / card must have.

    The shared keywords (trajectory_length, n_steps, integrator, target_acceptance, thermalization,
    every) are those of :class:`~qlat.samplers.hmc_core.HMCOptions`.
    """

    name = "slhmc"
    requirement = "slhmc needs a 2D gauge theory with an exact fermion determinant (schwinger)"
    OPTIONS: tuple[Option, ...] = hmc_cli_options(
        Option("--model", "model", str, "model directory written by 'qlat slhmc train'", required=True),
        Option("--device", "device", str, "slhmc: torch device of the effective-action force (default cpu)",
               default="cpu"))

    def __init__(self, *, model: str, device: str = "cpu", model_sha256: str | None = None,
                 card_sha256: str | None = None, **options: Any) -> None:
        from pathlib import Path

        from qlat.samplers.slhmc.training import CARD_NAME, load_model

        super().__init__(**options)
        self.device = _check_device(device)
        require(isinstance(model, str) and model != "", "model", "must be a model directory", model)
        self.model_path = model
        net, self.card = load_model(model)
        self.model_sha256 = str(self.card["weights_sha256"])
        self.card_sha256 = sha256_file(Path(model) / CARD_NAME)
        for given, have, what in ((model_sha256, self.model_sha256, "weights"), (card_sha256, self.card_sha256, "card")):
            if given is not None and given != have:
                raise ParameterError("model", f"is not the model this sampler was made with (SHA-256 of its {what} "
                                     "differs)", model)
        self.model = net.to(self.device)

    @classmethod
    def example(cls, theory: Any, workdir: Any = None) -> "SLHMC":
        """SLHMC with the untrained pure-gauge model for ``theory`` (or the Schwinger example), written
        into ``workdir``: exact all the same."""
        import tempfile
        from pathlib import Path

        from qlat.samplers.slhmc.effective_actions import EffectiveAction
        from qlat.samplers.slhmc.training import save_model
        from qlat.theories.schwinger_wilson import ExactDeterminantAction, SchwingerTheory

        if not isinstance(theory, ExactDeterminantAction) or getattr(theory, "name", "") != "schwinger":
            theory = SchwingerTheory.example()
        base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="qlat-slhmc-example-"))
        path = base / "slhmc-example-linear"
        if not path.is_dir():
            save_model(path, EffectiveAction.pure_gauge(theory.beta), theory_params=theory.params())
        return cls(model=str(path), trajectory_length=0.5, n_steps=4, thermalization=2)

    def variant_params(self) -> dict[str, Any]:
        return {"model": self.model_path, "model_sha256": self.model_sha256, "card_sha256": self.card_sha256,
                "device": self.device}

    # -------------------------------------------------------------- compatibility
    def supports(self, theory: "Theory") -> bool:
        """Theories with an exact fermion determinant (the accept) and 2D link angles (the model)."""
        from qlat.theories.schwinger_wilson import ExactDeterminantAction

        shape = tuple(getattr(theory, "field_shape", ()))
        return isinstance(theory, ExactDeterminantAction) and len(shape) == 3 and shape[0] == 2

    def check_theory(self, theory: "Theory") -> None:
        """Refuse other theories, and (naming ``model``) a model trained for other couplings or lattice."""
        from qlat.samplers.slhmc.training import check_card_theory

        super().check_theory(theory)
        check_card_theory(self.card, theory.params(), path=self.model_path)

    # -------------------------------------------------------------- actions
    def effective_action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S_eff per configuration (on the CPU, float64)."""
        import torch

        with torch.no_grad():
            return self.model(fields.to(self.device)).to("cpu", torch.float64)

    def exact_action(self, theory: Any, fields: "torch.Tensor") -> "torch.Tensor":
        """The accept action S = S_g − N_f log|det D| (dense LU)."""
        return theory.effective_action_force_sign(fields, need_force=False)[0]

    def hmc_action(self, theory: Any, stats: dict[str, Any]) -> SurrogateAction:
        return SurrogateAction(self, theory, stats)

    def finish_batch(self, theory: Any, batch: SampleBatch, stats: dict[str, Any], trajectories: int) -> None:
        """``batch.meta``: ``sign`` (sign det D of every kept configuration, ``(n, chains)``), ``model_error``
        (δ of every trajectory of this run, thermalization included, ``(trajectories, chains)``),
        ``delta_h_md`` (ΔH − δ of the kept trajectories, ``(n, chains)``), the model's SHA-256s."""
        configs = batch.configurations
        n, chains = configs.shape[:2]
        flat = configs.reshape(-1, *configs.shape[2:])
        batch.meta["sign"] = theory.dirac(flat).log_abs_det()[1].reshape(n, chains)
        errors = np.stack(stats.get("model_error", [])) if stats.get("model_error") else np.zeros((0, chains))
        batch.meta["model_error"] = errors
        kept = trajectories - n * self.every + self.every - 1 + self.every * np.arange(n)
        batch.meta["delta_h_md"] = batch.delta_h - errors[kept] if len(errors) == trajectories else None
        batch.meta.update({"model_sha256": self.model_sha256, "card_sha256": self.card_sha256})


def _check_device(device: Any) -> str:
    import torch

    require(isinstance(device, str) and device != "", "device", "must be a torch device name (cpu, cuda, cuda:0 …)",
            device)
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise ParameterError("device", "is not a torch device name (cpu, cuda, cuda:0 …)", device) from None
    if dev.type == "cuda":
        require(torch.cuda.is_available(), "device", "CUDA is not available on this machine", device)
    return device

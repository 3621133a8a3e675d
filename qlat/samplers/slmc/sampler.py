r"""Self-learning Monte Carlo with cumulative updates (Liu, Qi, Meng, Fu arXiv:1611.09364; Nagai & Tomiya
arXiv:2306.11527).

One SLMC update of every chain, from configuration a:

1. K single-spin Metropolis steps under the effective action S_eff = β H_eff: each picks a site
   uniformly at random (independently per chain), proposes a new spin uniform in the cap of
   half-angle δ (:func:`~qlat.samplers.slmc.moves.propose_spins`, δ = π: uniform on the sphere) and
   accepts it with min(1, e^{−ΔS_eff}).  Each step is reversible with respect to e^{−S_eff}, so the
   K-step kernel T is too: T(a→b) e^{−S_eff(a)} = T(b→a) e^{−S_eff(b)}.  For a model quadratic in
   the spins (the linear model, ``coupling_matrix``) the steps use ΔS_eff = −β(S'_i − S_i)·h_i with
   local fields h = 𝒥S kept up to date (O(N) NumPy per step for all chains, no model evaluation), so
   K of several sweeps costs less than the one diagonalization of the exact test: at 8×8 the
   shoot-out's K = 8N cumulative update decorrelates |m_s| in ~1.4 updates.
2. The end point b is accepted with

   .. math:: \min\big(1, \exp\{−β[(E_b − E_b^\text{eff}) − (E_a − E_a^\text{eff})]\}\big)
             = \min\big(1, e^{−[(S_b − S^\text{eff}_b) − (S_a − S^\text{eff}_a)]}\big),

   with the exact action S = −log W (one diagonalization per update).  This is the
   Metropolis–Hastings test for the proposal T, so the chain samples e^{−S} exactly whatever H_eff is;
   the model only decides the acceptance.

Two-level proposals (optional, ``proposal_model``: a model with an O(1) single-spin energy change,
i.e. a linear model): each of the K effective-model steps is then itself a chain of m =
``proposal_steps`` cheap local updates under S_lin = β H_lin, accepted against the expensive model with
min(1, e^{−[(S_eff(c') − S_lin(c')) − (S_eff(c) − S_lin(c))]}) — the same Metropolis–Hastings construction
one level down, so the K-step kernel is still reversible with respect to e^{−S_eff} and the chain
still exact; the transformer is evaluated K times per update instead of once per spin update.

The recorded acceptance of a sample is the outer (exact) test of the update that produced it
(0 or 1 per chain); ``inner_acceptance`` of the last run is kept in ``SampleBatch.meta``.
The sampler's parameters name the model directory and its weights' SHA-256, so an ensemble
rebuilds the same sampler only from the same model file.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import (
    COMMON_OPTIONS,
    ChainState,
    SampleBatch,
    check_int,
    make_initial_state,
    run_chain,
    train_command,
)
from qlat.samplers.slmc.exact_local import ActionCache, check_spin_theory
from qlat.samplers.slmc.moves import UnitSpinAction, check_step, propose_spins, spin_at, with_spin

if TYPE_CHECKING:
    import torch



#: Theory parameters that must match between a model card and the theory sampled.
MATCHED_PARAMS = ("name", "shape", "boundary", "t", "J", "mu", "T")


@SAMPLERS.register("slmc")
class SLMC:
    """Self-learning Monte Carlo with a trained effective model (see the module doc).

    Parameters
    ----------
    model: a model directory written by :func:`qlat.samplers.slmc.training.save_model`.
    n_inner: K, effective-model steps per update (>= 1; default 0 means K = number of sites).
    inner_step: cap half-angle δ of the inner proposals (radians, (0, π]).
    thermalization: updates discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` updates (>= 1).
    model_sha256: the expected SHA-256 of the weights (set from the card when omitted).
    proposal_model: optional linear model directory for two-level proposals (see the module doc).
    proposal_steps: m, cheap spin updates per effective-model step with ``proposal_model`` (>= 1);
        then the default K is max(1, N // m).
    proposal_sha256: the expected SHA-256 of the proposal model's weights.
    """

    name = "slmc"
    OPTIONS: tuple[Option, ...] = (
        Option("--model", "model", str, "model directory written by 'qlat slmc train'", required=True),
        Option("--inner", "n_inner", int, "effective-model steps K per SLMC update (0: N, or N/--proposal-steps with --proposal-model)",
               default=0),
        Option("--inner-step", "inner_step", float,
               "cap half-angle of the effective-model proposals in radians (π = uniform)", default=math.pi),
        Option("--proposal-model", "proposal_model", str,
               "a linear model directory whose cheap local chain proposes the --model steps (two levels)"),
        Option("--proposal-steps", "proposal_steps", int,
               "spin updates of the --proposal-model chain per --model step (>= 1)", default=8),
        *COMMON_OPTIONS,
    )

    def __init__(self, *, model: str, n_inner: int = 0, inner_step: float = math.pi, thermalization: int = 0,
                 every: int = 1, model_sha256: str | None = None, proposal_model: str | None = None,
                 proposal_steps: int = 8, proposal_sha256: str | None = None) -> None:
        self.model_path, self.model, self.card, self.model_sha256 = _load(model, model_sha256, "model")
        self.proposal_path = proposal_model
        self.proposal: Any = None
        self.proposal_card: dict[str, Any] = {}
        self.proposal_sha256: str | None = None
        if proposal_model is not None:
            self.proposal_path, self.proposal, self.proposal_card, self.proposal_sha256 = _load(
                proposal_model, proposal_sha256, "proposal_model")
            require(callable(getattr(self.proposal, "coupling_matrix", None)), "proposal_model",
                    "must be a model quadratic in the spins (a linear model)", proposal_model)
        self.proposal_steps = check_int(proposal_steps, "proposal_steps", 1)
        self.n_inner = check_int(n_inner, "n_inner", 0)
        self.inner_step = check_step(inner_step, "inner_step")
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)

    @classmethod
    def example(cls, theory: Any, workdir: Any = None) -> SLMC:
        """SLMC with an untrained linear effective model for ``theory`` (or the double-exchange example
        if ``theory`` has no unit spins), written into ``workdir``: exact all the same, only slower."""
        import tempfile
        from pathlib import Path

        from qlat.samplers.slmc.training import make_model, save_model

        if not isinstance(theory, UnitSpinAction):
            from qlat.theories.double_exchange import DoubleExchangeTheory

            theory = DoubleExchangeTheory.example()
        base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="qlat-slmc-example-"))
        path = base / "slmc-example-linear"
        if not path.is_dir():
            save_model(path, make_model("linear", theory, shells=2), theory_params=theory.params())
        return cls(model=str(path), n_inner=4, thermalization=2)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SLMC:
        kwargs = {k: v for k, v in params.items() if k != "name"}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ParameterError("params", f"invalid parameters for sampler 'slmc': {exc}", sorted(kwargs)) from None

    def params(self) -> dict[str, Any]:
        out = {"name": self.name, "model": self.model_path, "model_sha256": self.model_sha256,
               "n_inner": self.n_inner, "inner_step": self.inner_step, "thermalization": self.thermalization,
               "every": self.every}
        if self.proposal is not None:
            out.update(proposal_model=self.proposal_path, proposal_steps=self.proposal_steps,
                       proposal_sha256=self.proposal_sha256)
        return out

    # -------------------------------------------------------------- compatibility
    @classmethod
    def could_sample(cls, theory: Any) -> bool:
        """Whether some trained effective model could sample ``theory`` (unit-spin theories)."""
        return isinstance(theory, UnitSpinAction)

    def supports(self, theory: Any) -> bool:
        """Unit-spin theories (:class:`UnitSpinAction`); whether the model fits the theory's lattice and
        couplings is checked by :meth:`init_state` and :meth:`run`, with an error naming ``model``."""
        return isinstance(theory, UnitSpinAction)

    def check_model(self, theory: Any) -> None:
        """ParameterError naming ``model`` unless the model was trained for this lattice and these couplings."""
        wanted = theory.params()
        cards: list[tuple[str, Any, dict[str, Any]]] = [("model", self.model_path, self.card)]
        if self.proposal is not None:
            cards.append(("proposal_model", self.proposal_path, self.proposal_card))
        for parameter, path, card in cards:
            trained = card.get("theory", {})
            for key in MATCHED_PARAMS:
                a, b = trained.get(key), wanted.get(key)
                if (list(a) if isinstance(a, tuple) else a) != (list(b) if isinstance(b, tuple) else b):
                    raise ParameterError(parameter, f"was trained for {key} = {a!r}, not {b!r}", path,
                                         hint=f"train one for this theory: {train_command('slmc', wanted)}")

    def _checked(self, theory: Any) -> None:
        check_spin_theory(theory)
        self.check_model(theory)

    def init_state(self, theory: Any, *, chains: int, seed: int, start: str = "hot") -> ChainState:
        self._checked(theory)
        return make_initial_state(theory, chains=chains, seed=seed, start=start, step_size=self.inner_step)

    # -------------------------------------------------------------- updates
    def effective_action(self, theory: Any, fields: torch.Tensor) -> torch.Tensor:
        """S_eff = β H_eff per configuration."""
        import torch

        with torch.no_grad():
            return self.model(fields) * theory.beta

    def _local_steps(self, theory: Any, model: Any, current: torch.Tensor, steps: int, generator: torch.Generator,
                     seff: torch.Tensor) -> tuple[torch.Tensor, float, torch.Tensor]:
        """``steps`` single-spin Metropolis updates under β·``model`` (random site per chain and step), each
        re-evaluating the whole model (any model).  Returns (fields, mean acceptance, β·model of the fields)."""
        import torch

        b = current.shape[0]
        lx, ly = theory.shape
        acc = 0.0
        for _ in range(steps):
            site = torch.randint(0, lx * ly, (b,), generator=generator)
            xs, ys = site // ly, site % ly
            new_spin = propose_spins(spin_at(current, xs, ys), self.inner_step, generator=generator)
            proposal = with_spin(current, xs, ys, new_spin)
            seff_new = self._action_of(model, theory, proposal)
            u = torch.rand(b, dtype=torch.float64, generator=generator)
            accept = torch.log(u) < -(seff_new - seff)
            current = torch.where(accept[:, None, None, None], proposal, current)
            seff = torch.where(accept, seff_new, seff)
            acc += float(accept.double().mean())
        return current, acc / max(steps, 1), seff

    def _quadratic_steps(self, theory: Any, model: Any, current: torch.Tensor, steps: int,
                         generator: torch.Generator) -> tuple[torch.Tensor, float]:
        r"""``steps`` single-spin Metropolis updates under β·``model`` for a model quadratic in the spins
        (``model.coupling_matrix()``: H = E₀ − ½ Σ_ij 𝒥_ij S_i·S_j, the linear model).

        The same chain as :meth:`_local_steps` (random site per chain and step, a symmetric proposal,
        min(1, e^{−βΔH})), with ΔH = −(S'_i − S_i)·h_i from the local fields h = 𝒥 S kept up to date
        after every accepted move (O(N) per step instead of a model evaluation): one small NumPy
        step for all chains.  Sites, uniforms and (δ = π) the new spins, uniform on the sphere
        (normalized Gaussian 3-vectors), are drawn from ``generator`` up front.  Returns (fields,
        mean acceptance).
        """
        import torch

        b = current.shape[0]
        n = theory.n_sites
        jm = model.coupling_matrix().numpy()
        spins = current.reshape(b, 3, n).transpose(1, 2).numpy().copy()  # (b, n, 3)
        field = jm @ spins  # h_i = Σ_j 𝒥_ij S_j, (b, n, 3)
        sites = torch.randint(0, n, (steps, b), generator=generator).numpy()
        log_u = torch.log(torch.rand((steps, b), dtype=torch.float64, generator=generator)).numpy()
        uniform = self.inner_step >= math.pi
        if uniform:
            g = torch.randn((steps, b, 3), dtype=torch.float64, generator=generator)
            fresh = (g / g.norm(dim=2, keepdim=True)).numpy()
        beta = float(theory.beta)
        rows = np.arange(b)
        accepted = 0
        for k in range(steps):
            site = sites[k]
            old = spins[rows, site]
            new = fresh[k] if uniform else propose_spins(torch.from_numpy(old), self.inner_step,
                                                         generator=generator).numpy()
            delta = new - old
            d_action = -beta * np.einsum("bc,bc->b", delta, field[rows, site])
            accept = log_u[k] < -d_action
            delta *= accept[:, None]
            spins[rows, site] += delta
            field += jm[site][:, :, None] * delta[:, None, :]
            accepted += int(accept.sum())
        out = torch.from_numpy(np.ascontiguousarray(spins.transpose(0, 2, 1))).reshape(current.shape)
        return out, accepted / max(steps * b, 1)

    @staticmethod
    def _action_of(model: Any, theory: Any, fields: torch.Tensor) -> torch.Tensor:
        import torch

        with torch.no_grad():
            return model(fields) * theory.beta

    def update(self, theory: Any, fields: torch.Tensor, generator: torch.Generator,
               cache: ActionCache) -> tuple[torch.Tensor, np.ndarray, float]:
        """One SLMC update of every chain: (fields, accepted per chain, inner acceptance)."""
        import torch

        b = fields.shape[0]
        s_a = cache.get(fields)
        seff_a = self.effective_action(theory, fields)
        if self.proposal is None:
            k_inner = self.n_inner or theory.n_sites
            if callable(getattr(self.model, "coupling_matrix", None)):
                current, inner_acc = self._quadratic_steps(theory, self.model, fields, k_inner, generator)
                seff = self.effective_action(theory, current)  # the outer test uses the full effective action
            else:
                current, inner_acc, seff = self._local_steps(theory, self.model, fields, k_inner, generator, seff_a)
        else:  # two levels: cheap linear chains propose the effective-model steps
            k_inner = self.n_inner or max(1, theory.n_sites // self.proposal_steps)
            current, seff = fields, seff_a
            slin = self._action_of(self.proposal, theory, current)
            inner_acc = 0.0
            for _ in range(k_inner):
                cand, _ = self._quadratic_steps(theory, self.proposal, current, self.proposal_steps, generator)
                slin_c = self._action_of(self.proposal, theory, cand)
                seff_c = self.effective_action(theory, cand)
                u = torch.rand(b, dtype=torch.float64, generator=generator)
                accept = torch.log(u) < -((seff_c - slin_c) - (seff - slin))
                current = torch.where(accept[:, None, None, None], cand, current)
                seff = torch.where(accept, seff_c, seff)
                slin = torch.where(accept, slin_c, slin)
                inner_acc += float(accept.double().mean())
            inner_acc /= k_inner
        s_b = theory.action(current)
        log_ratio = -((s_b - seff) - (s_a - seff_a))
        u = torch.rand(b, dtype=torch.float64, generator=generator)
        accept = torch.log(u) < log_ratio
        new = torch.where(accept[:, None, None, None], current, fields)
        cache.set(new, torch.where(accept, s_b, s_a))
        return new, accept.numpy().astype(np.float64), inner_acc

    def run(self, theory: Any, n: int, *, state: ChainState, progress: bool = False
            ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations."""
        self._checked(theory)
        cache = ActionCache(theory)
        inner: list[float] = []

        def step(fields, gen, _step):
            new, acc, a_inner = self.update(theory, fields, gen, cache)
            inner.append(a_inner)
            return new, acc, np.full(fields.shape[0], np.nan), float(acc.mean())

        batch, new_state = run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                                     target_acceptance=None, accepted_dtype=np.float64, progress=progress,
                                     desc=self.name)
        batch.meta["inner_acceptance"] = float(np.mean(inner)) if inner else math.nan
        return batch, new_state

    def __repr__(self) -> str:
        return f"SLMC(model={self.model_path!r}, n_inner={self.n_inner}, inner_step={self.inner_step})"


def _load(path: Any, sha256: str | None, parameter: str) -> tuple[str, Any, dict[str, Any], str]:
    """(path, model, card, SHA-256) of a model directory, checked against an expected SHA-256."""
    from qlat.samplers.slmc.training import load_model

    require(isinstance(path, str) and path != "", parameter, "must be a model directory", path)
    model, card = load_model(path)
    sha = card["weights_sha256"]
    if sha256 is not None and sha256 != sha:
        raise ParameterError(parameter, "is not the model this sampler was made with (SHA-256 differs)", path)
    return path, model, card, sha

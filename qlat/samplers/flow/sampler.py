r"""Independence Metropolis–Hastings over normalizing-flow proposals (arXiv:2101.08176 §II.D).

Every update draws, for each chain, a fresh proposal x' = f(z), z ~ r, with density q(x'), and
accepts it with probability

.. math:: \min\Big(1, \frac{p(x')\,q(x)}{p(x)\,q(x')}\Big) = \min\big(1, e^{\log w(x') − \log w(x)}\big),
          \qquad \log w = −S − \log q,

against the *true* action S, so the chain samples e^{−S} exactly whatever the training quality
(a poor flow only lowers the acceptance and raises τ_int).

State and resumability: the :class:`~qlat.samplers.base.ChainState` holds the current
configurations and the generator; the current log-weight is *recomputed from the configuration*
through the flow inverse (log q(x) = log r(f⁻¹(x)) + log|det ∂f⁻¹/∂x|), at the start of every
``run`` and after every update that accepted — always on the whole batch of chains, so a resumed
chain uses bit-for-bit the same numbers as an uninterrupted one.  The proposal's own log q comes
from the forward pass.  ``delta_h`` of a sample records −(log w(x') − log w(x)) of its proposal
(the analogue of HMC's ΔH: acceptance min(1, e^{−ΔH})).  ``batch.meta["proposal_log_weights"]``
holds log w of every proposal of the run, thermalization included, shape ``(updates, chains)``:
fresh draws from q whose effective sample size and tail shape bound the chain's autocorrelation
(:class:`qlat.analysis.statistics.IndependenceDiagnostics`); for a stored chain
:meth:`FlowSampler.recorded_proposal_log_weights` rebuilds them from ``delta_h``.

Provenance: :meth:`FlowSampler.params` holds the model directory (absolute), the sha256 of its
weights and of its model card; :meth:`FlowSampler.from_params` reloads the model and refuses it if
either changed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.core.options import Option
from qlat.core.registry import SAMPLERS
from qlat.samplers.base import (
    COMMON_OPTIONS,
    ChainState,
    SampleBatch,
    check_int,
    check_state,
    from_params_by_keywords,
    run_chain,
)

if TYPE_CHECKING:
    import torch

    from qlat.theories.base import Theory


#: Flow samples per chain among which a hot start is picked by importance resampling (:meth:`FlowSampler.init_state`).
START_CANDIDATES = 64


@SAMPLERS.register("flow")
class FlowSampler:
    """Independence Metropolis over the proposals of a trained flow (``qlat flow train --out DIR``).

    Parameters
    ----------
    model: the model directory (a :mod:`~qlat.samplers.flow.checkpoint` layout).
    model_sha256: if given, the sha256 the weights must have (as stored in an ensemble).
    card_sha256: if given, the sha256 the model card must have.
    thermalization: updates discarded at the start of a chain (>= 0).
    every: keep one configuration every ``every`` updates (>= 1).
    """

    name = "flow"
    #: The proposals do not depend on the chain's state (independence Metropolis): the analysis reads
    #: the chain's rejection runs and the weights of its proposals
    #: (:class:`qlat.analysis.statistics.IndependenceDiagnostics`).
    independent_proposals = True
    OPTIONS: tuple[Option, ...] = (
        Option("--model", "model", str, "flow model directory made by 'qlat flow train --out'", required=True),
        *COMMON_OPTIONS,
    )

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> FlowSampler:
        """Rebuild from :meth:`params`: loads the model from its stored path and checks its hashes."""
        return from_params_by_keywords(cls, params)  # type: ignore[no-any-return]

    def __init__(self, *, model: str, model_sha256: str | None = None, card_sha256: str | None = None,
                 thermalization: int = 0, every: int = 1) -> None:
        from qlat.samplers.flow.checkpoint import PinnedModel

        self.pinned = PinnedModel(model, model_sha256=model_sha256, card_sha256=card_sha256)
        self.flow, self.card = self.pinned.flow, self.pinned.card
        self.model, self.model_sha256, self.card_sha256 = self.pinned.path, self.pinned.model_sha256, self.pinned.card_sha256
        self.thermalization = check_int(thermalization, "thermalization", 0)
        self.every = check_int(every, "every", 1)

    @classmethod
    def example(cls, theory: Theory, workdir: Any = None) -> FlowSampler:
        """A barely trained flow (10 steps, 2 layers) for ``theory`` — or, if flows do not exist for
        it, for the U(1) example — written into ``workdir`` (conformance suite; exact all the same)."""
        import tempfile

        import torch

        from qlat.samplers.flow.checkpoint import save_checkpoint
        from qlat.samplers.flow.networks import THEORY_NAMES, FlowModel
        from qlat.samplers.flow.training import TrainConfig, train

        if theory.params().get("name") not in THEORY_NAMES or len(theory.params().get("shape", ())) != 2:
            from qlat.theories.u1 import U1Theory

            theory = U1Theory.example()
        params = theory.params()
        base = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="qlat-flow-example-"))
        path = base / f"flow-example-{params['name']}"
        if not (path / "model.json").is_file():
            torch.manual_seed(0)
            model = FlowModel(params, {"n_layers": 2, "hidden": [4]})
            config = TrainConfig(steps=10, batch=16, lr=3e-3, seed=0)
            save_checkpoint(path, model, config=config, state=train(model, theory, config=config))
        return cls(model=str(path), thermalization=2)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model, "model_sha256": self.model_sha256,
                "card_sha256": self.card_sha256, "thermalization": self.thermalization, "every": self.every}

    # ------------------------------------------------------------------ theory checks
    @classmethod
    def could_sample(cls, theory: Theory) -> bool:
        """Whether some trained flow could sample ``theory`` (flows exist for 2D phi4 and u1)."""
        from qlat.samplers.flow.networks import THEORY_NAMES

        params = theory.params() if callable(getattr(theory, "params", None)) else {}
        return params.get("name") in THEORY_NAMES and len(params.get("shape", ())) == 2

    def supports(self, theory: Theory) -> bool:
        """Whether the model was trained for exactly this theory (name, couplings, lattice)."""
        return callable(getattr(theory, "log_prob", None)) and self.pinned.supports(theory)

    def _check_theory(self, theory: Theory) -> None:
        self.pinned.check(theory)

    # ------------------------------------------------------------------ chain
    def log_weight(self, theory: Theory, fields: torch.Tensor) -> torch.Tensor:
        """log w(x) = −S(x) − log q(x), log q through the flow inverse (float64, no gradient)."""
        import torch

        from qlat.samplers.flow.metrics import importance_log_weight

        with torch.no_grad():
            return importance_log_weight(theory.log_prob(fields), self.flow.log_prob(fields))

    def init_state(self, theory: Theory, *, chains: int, seed: int, start: str = "hot") -> ChainState:
        """``hot``: each chain starts at an importance resample of :data:`START_CANDIDATES` flow samples
        (drawn from ``seed``); ``cold``: the ordered start.

        Sampling-importance-resampling (one of K proposals picked with probability ∝ w = p/q) starts a
        chain closer to p than a bare flow sample: measured on tiny U(1) and φ⁴ flows with light-tailed
        weights, the bias of the mean over thousands of chains at the start fell from 0.3–1.0 σ
        (bare sample) to 0.05–0.1 σ (K = 64), σ the observable's spread.  Any start is exact in the
        limit; the resample only shortens the thermalization needed.
        """
        import torch

        from qlat.samplers.flow.metrics import importance_log_weight

        self._check_theory(theory)
        chains = check_int(chains, "chains", 1)
        seed = check_int(seed, "seed", 0)
        require(start in ("hot", "cold"), "start", "must be 'hot' or 'cold'", start)
        g = torch.Generator()
        g.manual_seed(seed)
        if start == "hot":
            k = START_CANDIDATES
            with torch.no_grad():
                candidates, log_q = self.flow.sample(chains * k, generator=g)
                candidates = theory.canonicalize(candidates)
                log_w = importance_log_weight(theory.log_prob(candidates), log_q).reshape(chains, k)
            log_w = torch.where(torch.isnan(log_w), torch.full_like(log_w, -math.inf), log_w)
            weights = torch.softmax(log_w, dim=1)
            weights = torch.where(torch.isfinite(weights).all(dim=1, keepdim=True), weights, torch.ones_like(weights))
            pick = torch.multinomial(weights, 1, generator=g).reshape(chains)
            fields = candidates.reshape(chains, k, *candidates.shape[1:])[torch.arange(chains), pick]
        else:
            fields = theory.cold_start(chains)
        return ChainState(fields=fields, rng_state=g.get_state(), step_size=0.0, n_steps_done=0, seed=seed)

    def run(
        self, theory: Theory, n: int, *, state: ChainState, progress: bool = False
    ) -> tuple[SampleBatch, ChainState]:
        """Continue the chains of ``state`` by ``n`` kept configurations (after any thermalization left)."""
        import torch

        from qlat.samplers.flow.metrics import importance_log_weight

        self._check_theory(theory)
        check_state(theory, state)
        current = {"log_w": self.log_weight(theory, state.fields)}
        proposal_log_w: list[np.ndarray] = []

        def step(fields: torch.Tensor, gen: torch.Generator, _eps: float):
            chains = fields.shape[0]
            with torch.no_grad():
                proposal, log_q = self.flow.sample(chains, generator=gen)
                proposal = theory.canonicalize(proposal)
                log_w_new = importance_log_weight(theory.log_prob(proposal), log_q)
            proposal_log_w.append(log_w_new.numpy().copy())
            diff = log_w_new - current["log_w"]
            diff = torch.where(torch.isnan(diff), torch.full_like(diff, -math.inf), diff)
            u = torch.rand(chains, dtype=torch.float64, generator=gen)
            accept = torch.log(u) < diff
            view = (chains,) + (1,) * (fields.dim() - 1)
            new = torch.where(accept.view(view), proposal, fields)
            if bool(accept.any()):
                current["log_w"] = self.log_weight(theory, new)
            d = diff.numpy().copy()
            with np.errstate(over="ignore", invalid="ignore"):
                prob = np.where(np.isfinite(d), np.minimum(1.0, np.exp(np.minimum(d, 0.0))), 0.0)
            return new, accept.numpy().copy(), -d, float(prob.mean())

        batch, new_state = run_chain(step, theory, n, state, thermalization=self.thermalization, every=self.every,
                                     target_acceptance=None, accepted_dtype=bool, progress=progress, desc="flow")
        batch.meta.update({"model_sha256": self.model_sha256, "card_sha256": self.card_sha256,
                           "proposal_log_weights": np.stack(proposal_log_w) if proposal_log_w else None,
                           "thermalization_updates": min(new_state.n_steps_done, self.thermalization)})
        return batch, new_state

    def evaluated_pareto_k(self) -> float | None:
        """The tail shape k̂ of the weights measured by ``qlat flow train`` (model card metrics), if recorded."""
        metrics = self.card.get("metrics") or {}
        value = (metrics.get("ess") or {}).get("provenance", {}).get("pareto_k")
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    def recorded_proposal_log_weights(self, theory: Theory, first: torch.Tensor, delta_h: np.ndarray,
                                      accepted: np.ndarray) -> np.ndarray:
        """log w of the proposals of a stored chain kept with ``every = 1``, rebuilt from its record.

        ``first`` holds the configurations before the first recorded update (one per chain),
        ``delta_h`` and ``accepted`` the ``(n, chains)`` record of :meth:`run` (``delta_h`` =
        −(log w(x') − log w(x))).  With L₀ = log w(first): log w(x'_i) = L_{i−1} − ΔH_i and
        L_i = log w(x'_i) if accepted else L_{i−1}.
        """
        require(self.every == 1, "every", "the proposals of a thinned chain are not recorded", self.every)
        dh = np.asarray(delta_h, dtype=np.float64)
        acc = np.asarray(accepted, dtype=bool)
        require(dh.shape == acc.shape and dh.ndim == 2, "delta_h", "must have the shape of accepted (n, chains)",
                dh.shape)
        level = self.log_weight(theory, first).numpy().astype(np.float64)
        out = np.empty_like(dh)
        for i in range(dh.shape[0]):
            out[i] = level - dh[i]
            level = np.where(acc[i], out[i], level)
        return out


    def __repr__(self) -> str:
        return f"FlowSampler(model={self.model!r}, thermalization={self.thermalization}, every={self.every})"

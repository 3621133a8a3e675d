r"""The sampler shoot-out: CPU seconds per statistically independent topological charge.

The figure of merit of a Monte Carlo sampler (issue 19; Tomiya's seed talk: independent
configurations per unit time, training included) is the cost of one independent measurement of
the slowest observable, the topological charge Q:

.. math::

    c = 2\,\tau_{\rm int}(Q)\; t_{\rm sample},
    \qquad
    \delta c = 2\,\delta\tau_{\rm int}(Q)\; t_{\rm sample},

with :math:`t_{\rm sample}` = CPU seconds of the run (thermalization included) per sample (one
kept configuration of one chain, thermalization updates counted) and :math:`\tau_{\rm int}` in
units of the sample spacing from the Γ-method (:func:`qlat.analysis.statistics.gamma_estimate`,
Wolff hep-lat/0306017, chains as replicas).  A sampler that had to be trained (a flow) pays its
training cost :math:`T` spread over the N samples it will draw:

.. math::

    c_N = 2\,\tau_{\rm int}(Q)\,\bigl(t_{\rm sample} + T/N\bigr).

:func:`measure_charge_cost` runs a sampler in blocks until every chain is at least
:data:`MIN_CHAIN_TAUS` τ_int long (measured on the chain so far) or a CPU budget is spent; a
τ_int that is not backed by such a chain, or whose Γ-method estimate carries a warning (too few
samples per τ_int, a frozen charge), or whose thermalization was shorter than
:data:`MIN_THERMALIZATION_TAUS` τ_int, is **flagged** (:attr:`ChargeCost.reasons`): its cost is
then a lower bound at best.  :func:`speedup` is the ratio of HMC's cost to another sampler's
(> 1: the sampler is cheaper per independent Q) with the error of both τ_int; :func:`crossovers`
finds the β where an ML sampler's speedup crosses 1, interpolating ln(speedup) linearly in β.
``benchmarks/shootout.py`` runs the comparison for 2D U(1).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.core.errors import require

#: Chains must be this many τ_int(Q) long for τ_int (and so the cost) to count as measured (issue 19).
MIN_CHAIN_TAUS = 100
#: The thermalization must be this many τ_int(Q) long, else the chains may not have reached equilibrium in Q.
MIN_THERMALIZATION_TAUS = 5
#: Numbers of samples the training cost is amortized over in the records (issue 19).
AMORTIZE_OVER = (10_000, 1_000_000)


def seconds_per_independent(tau_int: float, tau_int_error: float, seconds_per_sample: float
                            ) -> tuple[float, float]:
    """``(2 τ_int t, 2 δτ_int t)``: seconds per independent sample and its error (module docstring)."""
    require(seconds_per_sample >= 0 and math.isfinite(seconds_per_sample), "seconds_per_sample",
            "must be a finite number >= 0", seconds_per_sample)
    return 2.0 * tau_int * seconds_per_sample, 2.0 * tau_int_error * seconds_per_sample


def amortized_seconds_per_sample(seconds_per_sample: float, training_seconds: float, n_samples: int) -> float:
    """``t + T/N``: the cost of one sample when a training of ``T`` seconds is spread over ``N`` samples."""
    require(training_seconds >= 0 and math.isfinite(training_seconds), "training_seconds",
            "must be a finite number >= 0", training_seconds)
    require(isinstance(n_samples, int) and n_samples >= 1, "n_samples", "must be an integer >= 1", n_samples)
    return seconds_per_sample + training_seconds / n_samples


class _SamplingCost:
    """The cost arithmetic :class:`ChargeCost` and :class:`ObservableCost` share (module docstring): a
    dataclass with ``cpu_seconds``, ``samples``, ``tau_int``, ``tau_int_error``, ``training_seconds`` and
    ``reasons`` inherits it."""

    cpu_seconds: float
    samples: int
    tau_int: float
    tau_int_error: float
    training_seconds: float
    reasons: list[str]

    @property
    def reliable(self) -> bool:
        return not self.reasons

    @property
    def seconds_per_sample(self) -> float:
        return self.cpu_seconds / self.samples

    @property
    def seconds_per_independent(self) -> tuple[float, float]:
        """``(2 τ_int t_sample, its error)``, training not included."""
        return seconds_per_independent(self.tau_int, self.tau_int_error, self.seconds_per_sample)

    def amortized(self, n_samples: int) -> tuple[float, float]:
        """``(2 τ_int (t_sample + T/N), its error)``: training of ``training_seconds`` spread over ``n_samples``."""
        t = amortized_seconds_per_sample(self.seconds_per_sample, self.training_seconds, n_samples)
        return seconds_per_independent(self.tau_int, self.tau_int_error, t)


@dataclass
class ChargeCost(_SamplingCost):
    """One sampler at one point: its cost per independent Q, the τ_int behind it and why it may be untrustworthy.

    ``samples``: updates summed over chains, thermalization included (the CPU seconds buy them all);
    ``n_per_chain``: kept samples per chain, on which τ_int is measured; ``reasons``: empty when the
    τ_int is reliable, else every reason it is not.
    """

    sampler: str
    beta: float
    L: int
    chains: int
    n_per_chain: int
    thermalization: int
    cpu_seconds: float
    samples: int
    acceptance: float
    tau_int: float
    tau_int_error: float
    q2: float
    q2_error: float
    q2_exact: float
    training_seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds_per_independent_q(self) -> tuple[float, float]:
        """``(2 τ_int t_sample, its error)``, training not included (:attr:`seconds_per_independent`)."""
        return self.seconds_per_independent

    def to_dict(self) -> dict[str, Any]:
        cost, err = self.seconds_per_independent_q
        out: dict[str, Any] = {
            "sampler": self.sampler, "beta": self.beta, "L": self.L, "chains": self.chains,
            "n_per_chain": self.n_per_chain, "thermalization": self.thermalization,
            "cpu_seconds": self.cpu_seconds, "samples": self.samples,
            "cpu_seconds_per_sample": self.seconds_per_sample, "acceptance": round(self.acceptance, 4),
            "tau_int_Q": self.tau_int, "tau_int_Q_error": self.tau_int_error,
            "chain_length_in_tau_int": self.n_per_chain / self.tau_int if self.tau_int > 0 else None,
            "reliable": self.reliable, "flags": list(self.reasons),
            "cpu_seconds_per_independent_Q": cost, "cpu_seconds_per_independent_Q_error": err,
            "training_cpu_seconds": self.training_seconds,
            "q2": self.q2, "q2_error": self.q2_error, "q2_exact": self.q2_exact,
            "q2_z": (self.q2 - self.q2_exact) / self.q2_error if self.q2_error > 0 else None,
        }
        for n in AMORTIZE_OVER:
            value, error = self.amortized(n)
            out[f"cpu_seconds_per_independent_Q_amortized_{n}"] = value
            out[f"cpu_seconds_per_independent_Q_amortized_{n}_error"] = error
        out.update(self.extra)
        return out


def _charges(theory: Any, batch: Any) -> np.ndarray:
    n, chains = batch.configurations.shape[:2]
    flat = batch.configurations.reshape(n * chains, *theory.field_shape)
    return np.asarray(theory.topological_charge(flat).reshape(n, chains).numpy(), dtype=np.float64)


def _run_until_long(sampler: Any, theory: Any, series_of: Any, *, chains: int, seed: int, block: int,
                    max_cpu_seconds: float, start: Any, min_chain_taus: int, max_per_chain: int | None
                    ) -> tuple[np.ndarray, float, int, float, Any]:
    """Extend the chains until each is ``min_chain_taus`` τ_int of ``series_of(batch)`` long (or a budget is spent).

    ``series_of(batch)``: the observable, shape ``(n, chains)``.  Returns the whole series, the CPU
    seconds (process time), the kept samples per chain, the acceptance and the end state.
    """
    import dataclasses

    from qlat.analysis.statistics import gamma_estimate

    require(isinstance(block, int) and block >= 5, "block", "must be an integer >= 5", block)
    require(max_cpu_seconds > 0, "max_cpu_seconds", "must be > 0", max_cpu_seconds)
    t0 = time.process_time()
    state = sampler.init_state(theory, chains=chains, seed=seed)  # charged: a flow draws 64 samples per chain
    init_cpu = time.process_time() - t0
    if start is not None:  # the first chains start from ``start``, any others from the sampler's own start
        k = min(int(start.shape[0]), chains)
        fields = state.fields.clone()
        fields[:k] = start[:k]
        state = dataclasses.replace(state, fields=fields)
    cap = max_per_chain if max_per_chain is not None else 10**9
    parts: list[np.ndarray] = []
    accepted: list[float] = []
    cpu = init_cpu
    n = 0
    step = block
    while True:
        t0 = time.process_time()
        batch, state = sampler.run(theory, step, state=state)
        cpu += time.process_time() - t0
        part = np.asarray(series_of(batch), dtype=np.float64)
        # the cost divides by chains × samples: a chain count that is not the one asked for is a bug
        require(part.shape[1:] == (chains,), "chains", f"the run has {part.shape[1:]} chains, not {chains}", chains)
        parts.append(part)
        accepted.append(float(np.mean(batch.accepted)) * step)
        n += step
        series = np.concatenate(parts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = gamma_estimate(series, name="series")
        tau = est.tau_int if est.tau_int is not None else math.inf
        if n >= min_chain_taus * tau or n >= cap:
            break
        rate = cpu / n  # seconds per kept sample per chain, thermalization included: conservative
        left = max_cpu_seconds - cpu
        if left <= 0:
            break
        want = int(min_chain_taus * tau) + 1 - n if math.isfinite(tau) else 2 * n
        step = max(5, min(want, max(n, block), int(left / rate), cap - n))
    return series, cpu, n, sum(accepted) / n, state


def _equilibrated(start: Any, chains: int) -> Any:
    """``start`` if it starts every chain (then the thermalization rule does not apply), else None."""
    return start if start is not None and int(start.shape[0]) >= chains else None


def _flags(est: Any, *, n: int, thermalization: int, start: Any, min_chain_taus: int, what: str
           ) -> tuple[float, float, list[str]]:
    """τ_int, its error and every reason they cannot be trusted (module docstring)."""
    reasons = list(est.warnings)
    tau = est.tau_int if est.tau_int is not None else math.inf
    tau_err = est.tau_int_error if est.tau_int_error is not None else math.inf
    if n < min_chain_taus * tau:
        reasons.append(f"chains {n} samples long = {n / tau:.1f} tau_int({what}) (< {min_chain_taus}): tau_int and "
                       "the cost are lower bounds at best")
    if thermalization < MIN_THERMALIZATION_TAUS * tau and start is None:
        reasons.append(f"thermalization {thermalization} < {MIN_THERMALIZATION_TAUS} tau_int({what}) from a hot start"
                       " (or from the sampler's own start for some chains)")
    return float(tau), float(tau_err), reasons


def measure_charge_cost(sampler: Any, theory: Any, *, chains: int, seed: int, block: int, max_cpu_seconds: float,
                        start: Any = None, training_seconds: float = 0.0, min_chain_taus: int = MIN_CHAIN_TAUS,
                        max_per_chain: int | None = None) -> tuple[ChargeCost, Any]:
    """Run ``sampler`` on ``theory`` and measure its CPU seconds per independent Q; returns the cost and the end state.

    The chains (``chains`` of them, seeded by ``seed``; ``start``: configurations to start the first
    chains from, the others — all, without ``start`` — from the sampler's own start) are extended ``block`` samples at a time, then by as many as the
    τ_int(Q) measured so far says are needed, until each is ``min_chain_taus`` τ_int long, the CPU
    spent reaches ``max_cpu_seconds`` or the chains reach ``max_per_chain``.  CPU time is process time
    (the machine is shared), thermalization included.  ``training_seconds`` is recorded for
    :meth:`ChargeCost.amortized`.  The Γ-method runs once more on the whole series at the end; its
    warnings, a chain shorter than ``min_chain_taus`` τ_int and a thermalization shorter than
    :data:`MIN_THERMALIZATION_TAUS` τ_int flag the result (:attr:`ChargeCost.reasons`).
    """
    from qlat.analysis.statistics import gamma_estimate
    from qlat.exact import u1_character_expansion as exact_u1

    q, cpu, n, acceptance, state = _run_until_long(
        sampler, theory, lambda batch: _charges(theory, batch), chains=chains, seed=seed, block=block,
        max_cpu_seconds=max_cpu_seconds, start=start, min_chain_taus=min_chain_taus, max_per_chain=max_per_chain)
    thermalization = int(getattr(sampler, "thermalization", 0))
    est_q = gamma_estimate(q, name=f"Q ({sampler.name}, beta={theory.beta:g})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est_q2 = gamma_estimate(q * q, name="Q^2")
    tau, tau_err, reasons = _flags(est_q, n=n, thermalization=thermalization, start=_equilibrated(start, chains),
                                   min_chain_taus=min_chain_taus, what="Q")
    shape = tuple(theory.lattice.shape)
    cost = ChargeCost(
        sampler=sampler.name, beta=float(theory.beta), L=int(shape[0]), chains=chains, n_per_chain=n,
        thermalization=thermalization, cpu_seconds=cpu, samples=chains * (n + thermalization),
        acceptance=acceptance, tau_int=tau, tau_int_error=tau_err,
        q2=est_q2.value, q2_error=est_q2.error, q2_exact=exact_u1.topological_q2(theory.beta, shape),
        training_seconds=float(training_seconds), reasons=reasons)
    return cost, state


@dataclass
class ObservableCost(_SamplingCost):
    """:class:`ChargeCost` for any observable ``observable`` (a per-configuration method of the theory).

    ``value``/``error``: its Γ-method mean; ``training_seconds``: everything paid before sampling
    (for SLMC the exact-chain training data *and* the fit), amortized by :meth:`amortized`.
    """

    sampler: str
    observable: str
    L: int
    chains: int
    n_per_chain: int
    thermalization: int
    cpu_seconds: float
    samples: int
    acceptance: float
    tau_int: float
    tau_int_error: float
    value: float
    error: float
    training_seconds: float = 0.0
    reasons: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)



    def to_dict(self) -> dict[str, Any]:
        cost, err = self.seconds_per_independent
        out: dict[str, Any] = {
            "sampler": self.sampler, "observable": self.observable, "L": self.L, "chains": self.chains,
            "n_per_chain": self.n_per_chain, "thermalization": self.thermalization,
            "cpu_seconds": self.cpu_seconds, "samples": self.samples,
            "cpu_seconds_per_sample": self.seconds_per_sample, "acceptance": round(self.acceptance, 4),
            "tau_int": self.tau_int, "tau_int_error": self.tau_int_error,
            "chain_length_in_tau_int": self.n_per_chain / self.tau_int if self.tau_int > 0 else None,
            "reliable": self.reliable, "flags": list(self.reasons),
            "cpu_seconds_per_independent": cost, "cpu_seconds_per_independent_error": err,
            "training_cpu_seconds": self.training_seconds, "value": self.value, "error": self.error,
        }
        for n in AMORTIZE_OVER:
            value, error = self.amortized(n)
            out[f"cpu_seconds_per_independent_amortized_{n}"] = value
            out[f"cpu_seconds_per_independent_amortized_{n}_error"] = error
        out.update(self.extra)
        return out


def measure_observable_cost(sampler: Any, theory: Any, observable: str, *, chains: int, seed: int, block: int,
                            max_cpu_seconds: float, start: Any = None, training_seconds: float = 0.0,
                            min_chain_taus: int = MIN_CHAIN_TAUS, max_per_chain: int | None = None
                            ) -> tuple[ObservableCost, Any]:
    """:func:`measure_charge_cost` for ``theory.<observable>(configurations)`` instead of Q (same loop and flags)."""
    from qlat.analysis.statistics import gamma_estimate

    fn: Any = getattr(theory, observable, None)
    require(callable(fn), "observable", f"must be a per-configuration method of {type(theory).__name__}",
            observable)

    def series_of(batch: Any) -> np.ndarray:
        n, c = batch.configurations.shape[:2]
        flat = batch.configurations.reshape(n * c, *theory.field_shape)
        return np.asarray(fn(flat).reshape(n, c).numpy(), dtype=np.float64)

    x, cpu, n, acceptance, state = _run_until_long(
        sampler, theory, series_of, chains=chains, seed=seed, block=block, max_cpu_seconds=max_cpu_seconds,
        start=start, min_chain_taus=min_chain_taus, max_per_chain=max_per_chain)
    thermalization = int(getattr(sampler, "thermalization", 0))
    est = gamma_estimate(x, name=f"{observable} ({sampler.name})")
    tau, tau_err, reasons = _flags(est, n=n, thermalization=thermalization, start=_equilibrated(start, chains),
                                   min_chain_taus=min_chain_taus, what=observable)
    cost = ObservableCost(
        sampler=sampler.name, observable=observable, L=int(theory.lattice.shape[0]), chains=chains, n_per_chain=n,
        thermalization=thermalization, cpu_seconds=cpu, samples=chains * (n + thermalization),
        acceptance=acceptance, tau_int=tau, tau_int_error=tau_err, value=est.value, error=est.error,
        training_seconds=float(training_seconds), reasons=reasons)
    return cost, state


def speedup(reference: ChargeCost | ObservableCost, other: ChargeCost | ObservableCost, *,
            amortize: int | None = None) -> tuple[float, float]:
    """HMC's (``reference``; for SLMC the exact chain's) cost per independent sample over ``other``'s, with the
    error of both τ_int.

    ``amortize``: spread ``other``'s training over that many samples (None: training left out).
    > 1 means ``other`` is the cheaper sampler.  Relative errors add in quadrature.
    """
    c_ref, e_ref = reference.seconds_per_independent
    c_oth, e_oth = other.seconds_per_independent if amortize is None else other.amortized(amortize)
    if not (c_oth > 0 and c_ref > 0) or not (math.isfinite(c_oth) and math.isfinite(c_ref)):
        return (0.0 if not math.isfinite(c_oth) else math.nan), math.nan
    ratio = c_ref / c_oth
    return ratio, ratio * math.hypot(e_ref / c_ref, e_oth / c_oth)


def crossovers(betas: Sequence[float], ratios: Sequence[float], errors: Sequence[float]) -> list[dict[str, Any]]:
    """Where ``ratio`` (a speedup over HMC, :func:`speedup`) crosses 1 between neighbouring β.

    ln(ratio) is interpolated linearly between the two β that bracket a sign change,
    β* = β₁ + Δβ y₁/(y₁ − y₂) with y = ln ratio, and the error propagated from δy = δratio/ratio:
    δβ* = Δβ √(y₂² δy₁² + y₁² δy₂²)/(y₁ − y₂)².  ``direction`` is ``"overtakes"`` when the
    sampler becomes cheaper than HMC as β grows, ``"falls behind"`` otherwise.  Points with a
    non-finite or non-positive ratio are skipped.  Empty list: no crossover in range.
    """
    require(len(betas) == len(ratios) == len(errors), "ratios", "betas, ratios and errors must have one length",
            (len(betas), len(ratios), len(errors)))
    pts = sorted((b, r, e) for b, r, e in zip(betas, ratios, errors) if math.isfinite(r) and r > 0)
    found = []
    for (b1, r1, e1), (b2, r2, e2) in zip(pts, pts[1:]):
        y1, y2 = math.log(r1), math.log(r2)
        if y1 * y2 > 0 or y1 == y2:
            continue
        d1 = e1 / r1 if math.isfinite(e1) else math.inf
        d2 = e2 / r2 if math.isfinite(e2) else math.inf
        width = b2 - b1
        beta = b1 + width * y1 / (y1 - y2)
        error = width * math.hypot(y2 * d1, y1 * d2) / (y1 - y2) ** 2
        found.append({"beta": beta, "error": error, "between": [b1, b2],
                      "direction": "overtakes" if y2 > y1 else "falls behind"})
    return found


#: The samplers of the shoot-out, in the order they run (HMC first: the others start from its final configurations).
#: ``flow-tree`` is the registry's ``flow`` sampler with a gauge-fixed tree flow (:class:`TreeFlowPlan`).
SAMPLER_NAMES = ("hmc", "heatbath", "heatbath-instanton", "flow", "fthmc", "flow-tree")
#: Those that are trained (their training cost is amortized).
ML_SAMPLERS = ("flow", "fthmc", "flow-tree")
#: Those that use the plan's stripe flow, trained at ``train_betas`` and transferred to every point.
TRANSFERRED_FLOW_SAMPLERS = ("flow", "fthmc")


@dataclass
class SamplerPlan:
    """How one sampler runs at each point: registry parameters (``model`` filled in for flows), chains,
    the first block, the CPU budget per point (seconds) and an optional cap on the chain length."""

    params: dict[str, Any]
    chains: int
    block: int
    max_cpu_seconds: float
    max_per_chain: int | None = None


@dataclass
class TreeFlowPlan:
    """How the ``flow-tree`` entry is trained (:mod:`qlat.samplers.flow.tree`), once per β of the plan.

    Phase 1 (``trainable="shared"``): the one-plaquette map at ``train_L`` (it does not depend on L).
    Phase 2 (``trainable="tail"``): at each point's L, a flow with ``tail = min(tail, L − 1)``
    conditioned stages gets the phase-1 map and trains only its tail.  A point is charged both
    phases' CPU time.
    """

    train_L: int = 8
    n_mix: int = 8
    shared_steps: int = 3000
    shared_batch: int = 512
    shared_lr: float = 0.1
    tail: int = 15
    hidden: Sequence[int] = (32,)
    tail_steps: int = 2000
    tail_batch: int = 256
    tail_lr: float = 3e-3

    def architecture(self, L: int) -> dict[str, Any]:
        return {"layout": "tree", "n_layers": 0, "coupling": "ncp", "n_mix": self.n_mix,
                "tail": min(self.tail, L - 1), "hidden": [int(h) for h in self.hidden]}

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, (tuple, list)) else v) for k, v in self.__dict__.items()}


@dataclass
class ShootoutPlan:
    """The points (``L`` × ``betas``), the samplers and the flow training of a shoot-out.

    ``train_betas``: β at which a flow is trained (at ``train_L``, ``train_steps`` steps of batch
    ``train_batch``, architecture ``architecture``); every point uses the flow trained at the
    nearest β (on a tie the lower β, whose flow is the wider proposal), transferred untrained to its β and L (:func:`~qlat.samplers.flow.checkpoint.transfer_checkpoint`),
    and is charged that flow's whole training CPU time.
    """

    L: Sequence[int]
    betas: Sequence[float]
    samplers: dict[str, SamplerPlan]
    train_betas: Sequence[float]
    train_L: int = 8
    train_steps: int = 1000
    train_batch: int = 64
    train_lr: float = 3e-3
    architecture: dict[str, Any] = field(default_factory=lambda: {"n_layers": 8, "hidden": [8, 8],
                                                                  "coupling": "ncp"})
    seed: int = 2024
    tree: TreeFlowPlan | None = None

    def estimated_cpu_seconds(self, *, seconds_per_train_step: float) -> float:
        """An upper estimate of the CPU seconds of the run: every point spends its whole budget, plus the training."""
        points = len(self.L) * len(self.betas) * sum(p.max_cpu_seconds for p in self.samplers.values())
        trained = any(name in self.samplers for name in TRANSFERRED_FLOW_SAMPLERS)
        total = points + (len(self.train_betas) * self.train_steps * seconds_per_train_step if trained else 0.0)
        if self.tree is not None and "flow-tree" in self.samplers:  # measured here: 0.017 s/step (L = 8, batch
            # 512) for the shared map, 0.033 s/step (L = 16, batch 256) for the tail
            total += len(self.betas) * (self.tree.shared_steps * 0.02 + len(self.L) * self.tree.tail_steps * 0.035)
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"L": list(self.L), "betas": list(self.betas), "train_betas": list(self.train_betas),
                "train_L": self.train_L, "train_steps": self.train_steps, "train_batch": self.train_batch,
                "train_lr": self.train_lr, "architecture": dict(self.architecture), "seed": self.seed,
                "tree": None if self.tree is None else self.tree.to_dict(),
                "samplers": {k: {"params": dict(v.params), "chains": v.chains, "block": v.block,
                                 "max_cpu_seconds": v.max_cpu_seconds, "max_per_chain": v.max_per_chain}
                             for k, v in self.samplers.items()}}


def train_shootout_flow(plan: ShootoutPlan, beta: float, out: Any) -> dict[str, Any]:
    """Train the plan's flow at ``beta`` (L = ``train_L``) into ``out``; the training record (CPU seconds …)."""
    import torch

    from qlat.core.lattice import Lattice
    from qlat.samplers.flow import FlowModel, TrainConfig, save_checkpoint, train
    from qlat.theories import U1Theory

    theory = U1Theory(Lattice((plan.train_L, plan.train_L)), beta=beta)
    torch.manual_seed(plan.seed)
    model = FlowModel(theory.params(), dict(plan.architecture))
    config = TrainConfig(steps=plan.train_steps, batch=plan.train_batch, lr=plan.train_lr, seed=plan.seed)
    t0 = time.process_time()
    state = train(model, theory, config=config)
    cpu = time.process_time() - t0
    save_checkpoint(out, model, config=config, state=state)
    tail = state.history["ess"][-50:]
    return {"beta": beta, "L": plan.train_L, "steps": state.step, "batch": plan.train_batch,
            "cpu_seconds": cpu, "wall_seconds": state.wall_s,
            "final_batch_ess": float(np.mean(tail)) if tail else None, "architecture": dict(plan.architecture)}


def train_tree_flow(plan: ShootoutPlan, beta: float, L: int, out: Any, *, shared: Any = None
                    ) -> tuple[dict[str, Any], Any]:
    """Train the plan's tree flow for (β, L) into ``out`` (:class:`TreeFlowPlan`); (record, shared model).

    ``shared``: the phase-1 model of this β if already trained (its CPU time is then not repeated
    but still charged, from its record)."""
    import torch

    from qlat.core.lattice import Lattice
    from qlat.samplers.flow import FlowModel, TrainConfig, save_checkpoint, train
    from qlat.samplers.flow.checkpoint import load_learned_weights
    from qlat.theories import U1Theory

    tp = plan.tree
    require(tp is not None, "tree", "the plan has no tree flow", tp)
    assert tp is not None
    if shared is None:
        small = U1Theory(Lattice((tp.train_L, tp.train_L)), beta=beta)
        torch.manual_seed(plan.seed)
        model = FlowModel(small.params(), tp.architecture(tp.train_L) | {"tail": 0})
        config = TrainConfig(steps=tp.shared_steps, batch=tp.shared_batch, lr=tp.shared_lr, seed=plan.seed,
                             trainable="shared")
        c0 = time.process_time()
        state = train(model, small, config=config)
        shared = {"model": model, "cpu_seconds": time.process_time() - c0, "steps": state.step,
                  "final_batch_acceptance": float(np.mean(state.history["acceptance"][-50:]))}
    theory = U1Theory(Lattice((L, L)), beta=beta)
    arch = tp.architecture(L)
    torch.manual_seed(plan.seed + 1)
    model = FlowModel(theory.params(), arch)
    load_learned_weights(model, shared["model"], parameter="tree", fresh_tail=True)  # the shared map; tail fresh
    config = TrainConfig(steps=tp.tail_steps if arch["tail"] else 0, batch=tp.tail_batch, lr=tp.tail_lr,
                         seed=plan.seed + 1, trainable="tail" if arch["tail"] else "shared")
    c0 = time.process_time()
    state = train(model, theory, config=config)
    tail_cpu = time.process_time() - c0
    save_checkpoint(out, model, config=config, state=state)
    tail_acc = state.history["acceptance"][-50:]
    return ({"beta": beta, "L": L, "sampler": "flow-tree", "architecture": arch,
             "shared": {"L": tp.train_L, "steps": shared["steps"], "cpu_seconds": shared["cpu_seconds"],
                        "final_batch_acceptance": shared["final_batch_acceptance"]},
             "tail": {"L": L, "steps": state.step, "cpu_seconds": tail_cpu,
                      "final_batch_acceptance": float(np.mean(tail_acc)) if tail_acc else None},
             "cpu_seconds": shared["cpu_seconds"] + tail_cpu}, shared)


def run_shootout(plan: ShootoutPlan, workdir: Any, *, log: Any = None) -> dict[str, Any]:
    """Run every sampler of ``plan`` at every (L, β); flows are trained first, into ``workdir``.

    Returns ``{"training": [...], "costs": [ChargeCost, ...], "speedups": [...], "crossovers": [...]}``:
    the speedups over HMC per point, without training and with it amortized over each of
    :data:`AMORTIZE_OVER`, and the β where an ML sampler's speedup crosses 1 (:func:`crossovers`).
    ``log(line)`` is called with a progress line after each measurement.
    """
    from pathlib import Path

    from qlat.core.lattice import Lattice
    from qlat.samplers.base import sampler_from_params
    from qlat.samplers.flow.checkpoint import transfer_checkpoint
    from qlat.theories import U1Theory

    say = log or (lambda line: None)
    workdir = Path(workdir)
    unknown = [name for name in plan.samplers if name not in SAMPLER_NAMES]
    require(not unknown, "samplers", f"must be among {', '.join(SAMPLER_NAMES)}", unknown)
    require("hmc" in plan.samplers, "samplers", "must include hmc (the reference)", list(plan.samplers))
    training: dict[float, dict[str, Any]] = {}
    tree_records: list[dict[str, Any]] = []
    shared_maps: dict[float, Any] = {}
    if any(name in plan.samplers for name in TRANSFERRED_FLOW_SAMPLERS):
        for beta in plan.train_betas:
            rec = train_shootout_flow(plan, beta, workdir / f"trained_b{beta:g}")
            training[beta] = rec
            say(f"trained flow at beta={beta:g}, L={plan.train_L}: {rec['steps']} steps, "
                f"{rec['cpu_seconds']:.1f} CPU s, batch ESS/N {rec['final_batch_ess']:.3f}")
    costs: list[ChargeCost] = []
    for L in plan.L:
        for i, beta in enumerate(plan.betas):
            theory = U1Theory(Lattice((L, L)), beta=beta)
            seed = plan.seed + 1000 * L + i
            start: Any = None
            for name in (n for n in SAMPLER_NAMES if n in plan.samplers):
                sp = plan.samplers[name]
                params = {"name": name, **sp.params}
                train_s = 0.0
                origin = None
                if name == "flow-tree":
                    params["name"] = "flow"
                    model = workdir / f"tree_L{L}_b{beta:g}"
                    rec, shared_maps[beta] = train_tree_flow(plan, beta, L, model, shared=shared_maps.get(beta))
                    tree_records.append(rec)
                    params["model"] = str(model)
                    train_s = rec["cpu_seconds"]
                    say(f"trained tree flow at beta={beta:g}: shared map at L={rec['shared']['L']} "
                        f"({rec['shared']['cpu_seconds']:.1f} CPU s), tail at L={L} ({rec['tail']['cpu_seconds']:.1f} "
                        f"CPU s), batch acceptance {rec['tail']['final_batch_acceptance']}")
                elif name in ML_SAMPLERS:
                    origin = min(training, key=lambda b: (abs(b - beta), b))
                    model = workdir / f"L{L}_b{beta:g}_from_b{origin:g}"
                    if not model.exists():
                        transfer_checkpoint(workdir / f"trained_b{origin:g}", theory.params(), model)
                    params["model"] = str(model)
                    train_s = training[origin]["cpu_seconds"]
                sampler = sampler_from_params(params)
                warm = sampler_from_params({**params, "thermalization": 0})  # compile (numba) outside the timing
                warm.run(theory, 2, state=warm.init_state(theory, chains=2, seed=seed))
                begin: Any = None if start is None else start[: sp.chains]
                cost, end = measure_charge_cost(sampler, theory, chains=sp.chains, seed=seed, block=sp.block,
                                                max_cpu_seconds=sp.max_cpu_seconds, start=begin,
                                                training_seconds=train_s, max_per_chain=sp.max_per_chain)
                cost.extra["start"] = ("hot" if begin is None else "the final configurations of the HMC chains"
                                       + ("" if begin is None or len(begin) >= sp.chains
                                          else f" for the first {len(begin)}, the sampler's own start for the rest"))
                if name == "flow-tree":
                    cost.extra["flow"] = (f"tree flow: shared map trained at L={plan.tree.train_L if plan.tree else '?'}, "
                                          f"beta={beta:g}; tail trained at this point")
                    cost.sampler = "flow-tree"
                if origin is not None:
                    cost.extra["flow"] = (f"trained at beta={origin:g}, L={plan.train_L}; transferred untrained"
                                          if (origin, plan.train_L) != (beta, L) else "trained at this point")
                if name in ("hmc", "fthmc"):
                    cost.extra["tuned_step_size"] = float(end.step_size)
                if name == "hmc":
                    start = end.fields
                costs.append(cost)
                c, e = cost.seconds_per_independent_q
                say(f"L={L} beta={beta:g} {name:18s} acc={cost.acceptance:.3f} tau_int(Q)={cost.tau_int:.2f}"
                    f"±{cost.tau_int_error:.2f} n/chain={cost.n_per_chain} CPU/sample={cost.seconds_per_sample:.2e}s "
                    f"CPU/indep Q={c:.2e}±{e:.1e}s" + ("" if cost.reliable else "  FLAGGED"))
    return {"training": list(training.values()) + tree_records, "costs": costs, **compare(costs)}


def compare(costs: Sequence[ChargeCost]) -> dict[str, Any]:
    """Speedups over HMC at each (L, β) (:func:`speedup`) and the crossover β of every non-HMC sampler.

    Each speedup row: L, β, sampler, ``variant`` (``"sampling"``: training left out, or
    ``"amortized_N"``), speedup, error, and whether both costs are reliable.  Each crossover:
    L, sampler, variant and the :func:`crossovers` entries (empty: none in range).
    """
    hmc = {(c.L, c.beta): c for c in costs if c.sampler == "hmc"}
    rows: list[dict[str, Any]] = []
    for c in costs:
        if c.sampler == "hmc" or (c.L, c.beta) not in hmc:
            continue
        ref = hmc[(c.L, c.beta)]
        variants: list[tuple[str, int | None]] = [("sampling", None)]
        if c.training_seconds > 0:
            variants += [(f"amortized_{n}", n) for n in AMORTIZE_OVER]
        for label, n in variants:
            value, error = speedup(ref, c, amortize=n)
            rows.append({"L": c.L, "beta": c.beta, "sampler": c.sampler, "variant": label, "speedup": value,
                         "error": error, "reliable": ref.reliable and c.reliable})
    found = []
    for key in sorted({(r["L"], r["sampler"], r["variant"]) for r in rows}):
        sel = sorted((r for r in rows if (r["L"], r["sampler"], r["variant"]) == key), key=lambda r: r["beta"])
        found.append({"L": key[0], "sampler": key[1], "variant": key[2], "ml": key[1] in ML_SAMPLERS,
                      "betas": [r["beta"] for r in sel],
                      "crossovers": crossovers([r["beta"] for r in sel], [r["speedup"] for r in sel],
                                               [r["error"] for r in sel])})
    return {"speedups": rows, "crossovers": found}

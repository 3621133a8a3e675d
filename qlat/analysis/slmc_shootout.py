r"""The SLMC half of the shoot-out: CPU seconds per independent |m_s|, SLMC against the exact local chain.

For the double exchange model (:class:`~qlat.theories.double_exchange.DoubleExchangeTheory`) the
reference is the exact local Metropolis chain (one sample = one sweep, N diagonalizations) and the
contender self-learning Monte Carlo (Liu, Qi, Meng, Fu arXiv:1611.09364; Nagai & Tomiya
arXiv:2306.11527: one sample = one update, K effective-model steps and one diagonalization).  The
figure of merit is that of :mod:`qlat.analysis.shootout` for the slowest order parameter, the
staggered magnetization |m_s| (half filling: antiferromagnetic correlations):

.. math::

    c = 2\,\tau_{\rm int}(|m_s|)\, t_{\rm sample},
    \qquad
    c_N = 2\,\tau_{\rm int}(|m_s|)\,\bigl(t_{\rm sample} + (T_{\rm data} + T_{\rm fit})/N\bigr),

where SLMC's up-front cost is the CPU time of the **exact chain that generated its training data**
(thermalization included) plus the fit :math:`T_{\rm fit}`; both are amortized over N = 10⁴ and
10⁶ samples.  The ratio exact/SLMC (> 1: SLMC wins) carries the error of both τ_int
(:func:`~qlat.analysis.shootout.speedup`).  Chains run until ≥ :data:`MIN_CHAIN_TAUS` τ_int (issue
19: 50) or the CPU budget is spent, then flagged.  ``benchmarks/bench_slmc.py shootout`` runs it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qlat.analysis.shootout import AMORTIZE_OVER, ObservableCost, measure_observable_cost, speedup
from qlat.core.errors import require

#: Chains must be this many τ_int(|m_s|) long for the SLMC comparison (issue 19).
MIN_CHAIN_TAUS = 50
#: The observable whose τ_int sets the cost.
OBSERVABLE = "staggered_magnetization"


@dataclass
class ChainPlan:
    """Chains, thermalization, first block and CPU budget (seconds) of one measured chain."""

    chains: int
    thermalization: int
    block: int
    max_cpu_seconds: float
    max_per_chain: int | None = None


@dataclass
class SLMCShootoutPlan:
    """Lattice sizes, the double-exchange point, the exact reference, SLMC's training data, model and chain.

    ``data_*``: the exact local chain whose configurations are the training data (its CPU is charged
    to SLMC); ``model``: ``linear`` or ``transformer`` (with ``layers``, ``epochs``, ``lr``);
    ``shells``: neighbour shells of the effective energy (``None``: every pair distance of the lattice,
    the long-range couplings of the double-exchange SLMC, Liu et al. arXiv:1611.09364);
    ``n_inner``: K, effective-model steps per exact test (0: ``inner_sweeps`` × the number of sites).
    """

    sizes: Sequence[int]
    exact: ChainPlan
    slmc: ChainPlan
    J: float = 1.0
    mu: float = 0.0
    T: float = 0.05
    data_chains: int = 4
    data_sweeps: int = 60
    data_thermalization: int = 50
    model: str = "linear"
    shells: int | None = 4
    layers: int = 2
    epochs: int = 30
    lr: float = 1e-2
    n_inner: int = 0
    inner_sweeps: int = 1
    seed: int = 2024
    min_chain_taus: int = MIN_CHAIN_TAUS
    extra: dict[str, Any] = field(default_factory=dict)

    def theory(self, L: int) -> Any:
        from qlat.theories.double_exchange import DoubleExchangeTheory

        return DoubleExchangeTheory((L, L), t=1.0, J=self.J, mu=self.mu, T=self.T)

    def shells_for(self, theory: Any) -> int:
        """The shells of the effective energy on ``theory``'s lattice (``shells``, or all pair distances)."""
        from qlat.samplers.slmc.effective_hamiltonians import pair_distance_count

        return self.shells if self.shells is not None else pair_distance_count(theory.shape, theory.boundary)

    def inner_steps(self, theory: Any) -> int:
        """K, the effective-model steps per exact Metropolis test on ``theory``'s lattice."""
        require(self.n_inner >= 0 and self.inner_sweeps >= 1, "inner_sweeps", "need n_inner >= 0, inner_sweeps >= 1",
                (self.n_inner, self.inner_sweeps))
        return self.n_inner or self.inner_sweeps * theory.n_sites

    def to_dict(self) -> dict[str, Any]:
        def chain(p: ChainPlan) -> dict[str, Any]:
            return {"chains": p.chains, "thermalization": p.thermalization, "block": p.block,
                    "max_cpu_seconds": p.max_cpu_seconds, "max_per_chain": p.max_per_chain}

        return {"sizes": list(self.sizes), "point": {"t": 1.0, "J": self.J, "mu": self.mu, "T": self.T},
                "exact": chain(self.exact), "slmc": chain(self.slmc),
                "training_data": {"chains": self.data_chains, "sweeps": self.data_sweeps,
                                  "thermalization": self.data_thermalization},
                "model": {"kind": self.model, "shells": self.shells, "layers": self.layers, "epochs": self.epochs,
                          "lr": self.lr}, "n_inner": self.n_inner, "inner_sweeps": self.inner_sweeps,
                "seed": self.seed,
                "min_chain_taus": self.min_chain_taus}


def training_cpu_seconds(data_seconds: float, fit_seconds: float) -> float:
    """SLMC's up-front cost T = T_data + T_fit: the exact chain that made the training data, then the fit."""
    require(data_seconds >= 0 and fit_seconds >= 0, "training", "CPU seconds must be >= 0",
            (data_seconds, fit_seconds))
    return data_seconds + fit_seconds


def train_slmc_model(plan: SLMCShootoutPlan, theory: Any, out: Path) -> dict[str, Any]:
    """Generate the exact-chain training data, fit the plan's model into ``out``; the CPU seconds of each."""
    import torch

    from qlat.samplers.slmc.training import exact_training_data, make_model, save_model, train_model

    t0 = time.process_time()
    data = exact_training_data(theory, n=plan.data_sweeps, chains=plan.data_chains, seed=plan.seed + 7,
                               thermalization=plan.data_thermalization)
    data_seconds = time.process_time() - t0
    torch.manual_seed(plan.seed)
    shells = plan.shells_for(theory)
    model = make_model(plan.model, theory, layers=plan.layers, shells=shells, seed=plan.seed)
    t0 = time.process_time()
    record = train_model(model, data, epochs=plan.epochs, lr=plan.lr, batch_size=32, seed=0)
    fit_seconds = time.process_time() - t0
    save_model(out, model, theory_params=theory.params(), training=record.to_dict())
    return {"configurations": len(data), "data_cpu_seconds": data_seconds, "fit_cpu_seconds": fit_seconds,
            "training_cpu_seconds": training_cpu_seconds(data_seconds, fit_seconds),
            "data_exact_sweeps": plan.data_chains * (plan.data_sweeps + plan.data_thermalization),
            "shells": shells, "validation_mse": record.best_val_mse}


def run_slmc_shootout(plan: SLMCShootoutPlan, workdir: Any = None, *, log: Any = None) -> dict[str, Any]:
    """Per lattice size: the exact chain's and SLMC's cost per independent |m_s| and their ratios.

    Returns ``{"training": [...], "costs": [ObservableCost, ...], "ratios": [...]}``; each ratio row
    is L, ``variant`` (``"sampling"``: SLMC's training left out, ``"amortized_N"``: training data +
    fit spread over N samples), ratio exact/SLMC, its error, and whether both costs are reliable.
    SLMC starts from the exact chain's final configurations.
    """
    from qlat.samplers.slmc.exact_local import ExactLocalMetropolis
    from qlat.samplers.slmc.sampler import SLMC

    say = log or (lambda line: None)
    workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="slmc-shootout-"))
    training: list[dict[str, Any]] = []
    costs: list[ObservableCost] = []
    rows: list[dict[str, Any]] = []
    for L in plan.sizes:
        theory = plan.theory(L)
        seed = plan.seed + 1000 * L
        rec = {"L": L, **train_slmc_model(plan, theory, workdir / f"model_L{L}")}
        training.append(rec)
        say(f"L={L}: {rec['configurations']} exact training configurations in {rec['data_cpu_seconds']:.1f} CPU s, "
            f"{plan.model} ({rec['shells']} shells) fit {rec['fit_cpu_seconds']:.1f} CPU s, "
            f"validation MSE {rec['validation_mse']:.3g} t^2; K = {plan.inner_steps(theory)}")
        exact = ExactLocalMetropolis(thermalization=plan.exact.thermalization)
        ref, state = measure_observable_cost(
            exact, theory, OBSERVABLE, chains=plan.exact.chains, seed=seed, block=plan.exact.block,
            max_cpu_seconds=plan.exact.max_cpu_seconds, min_chain_taus=plan.min_chain_taus,
            max_per_chain=plan.exact.max_per_chain)
        ref.extra["start"] = "hot"
        slmc = SLMC(model=str(workdir / f"model_L{L}"), thermalization=plan.slmc.thermalization,
                    n_inner=plan.inner_steps(theory))
        begin = state.fields[: plan.slmc.chains]
        require(begin.shape[0] == plan.slmc.chains, "slmc.chains", "must be <= exact.chains (SLMC starts from the "
                "exact chain's final configurations)", plan.slmc.chains)
        cost, _ = measure_observable_cost(
            slmc, theory, OBSERVABLE, chains=plan.slmc.chains, seed=seed + 1, block=plan.slmc.block,
            max_cpu_seconds=plan.slmc.max_cpu_seconds, start=begin, training_seconds=rec["training_cpu_seconds"],
            min_chain_taus=plan.min_chain_taus, max_per_chain=plan.slmc.max_per_chain)
        cost.extra.update({"start": "the final configurations of the exact chains", "model": plan.model,
                           "training_data_cpu_seconds": rec["data_cpu_seconds"],
                           "fit_cpu_seconds": rec["fit_cpu_seconds"], "n_inner": slmc.n_inner,
                           "shells": rec["shells"]})
        costs += [ref, cost]
        for c in (ref, cost):
            v, e = c.seconds_per_independent
            say(f"L={L} {c.sampler:12s} acc={c.acceptance:.3f} tau_int={c.tau_int:.2f}±{c.tau_int_error:.2f} "
                f"n/chain={c.n_per_chain} CPU/sample={c.seconds_per_sample:.2e}s CPU/indep={v:.2e}±{e:.1e}s"
                + ("" if c.reliable else "  FLAGGED"))
        rows += ratios(ref, cost)
    return {"training": training, "costs": costs, "ratios": rows}


def ratios(exact: ObservableCost, slmc: ObservableCost) -> list[dict[str, Any]]:
    """Exact/SLMC cost per independent sample: sampling only, then with T_data + T_fit amortized over each N."""
    out = []
    variants: list[tuple[str, int | None]] = [("sampling", None)] + [(f"amortized_{n}", n) for n in AMORTIZE_OVER]
    for label, n in variants:
        value, error = speedup(exact, slmc, amortize=n)
        out.append({"L": exact.L, "variant": label, "ratio": value, "error": error,
                    "relative_error": error / value if value > 0 else None,
                    "reliable": exact.reliable and slmc.reliable})
    return out


def estimated_cpu_seconds(plan: SLMCShootoutPlan, L: int, *, sweep_seconds: float, update_seconds: float,
                          tau_exact: float, tau_slmc: float, fit_seconds: float) -> dict[str, float]:
    """CPU seconds one size of ``plan`` should take, from per-chain costs of one exact sweep and one SLMC update.

    Training data: chains × (thermalization + sweeps) sweeps; each chain then runs
    max(``min_chain_taus`` τ, first block) samples plus its thermalization (capped by its budget).
    ``tau_*``: guessed τ_int(|m_s|) in samples.
    """
    data = plan.data_chains * (plan.data_sweeps + plan.data_thermalization) * sweep_seconds
    n_ex = max(plan.min_chain_taus * tau_exact, plan.exact.block) + plan.exact.thermalization
    n_sl = max(plan.min_chain_taus * tau_slmc, plan.slmc.block) + plan.slmc.thermalization
    exact = min(plan.exact.chains * n_ex * sweep_seconds, plan.exact.max_cpu_seconds)
    slmc = min(plan.slmc.chains * n_sl * update_seconds, plan.slmc.max_cpu_seconds)
    return {"L": L, "training_data": data, "fit": fit_seconds, "exact": exact, "slmc": slmc,
            "exact_uncapped": plan.exact.chains * n_ex * sweep_seconds,
            "slmc_uncapped": plan.slmc.chains * n_sl * update_seconds,
            "total": data + fit_seconds + exact + slmc}

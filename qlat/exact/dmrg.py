r"""DMRG ground and first excited states of the qubit Schwinger model for long chains (TeNPy).

Exact diagonalization (:mod:`qlat.exact.diagonalization`) stops at N ≈ 24 qubits; this module
reaches N = 200 and beyond.  H is the compact automaton MPO of :mod:`qlat.exact.schwinger_mpo`
(bond dimension 5, built from :func:`~qlat.theories.schwinger_qubit.schwinger_terms`), and the
two-site DMRG of TeNPy (Hauschild & Pollmann, SciPost Phys. Lect. Notes 5 (2018),
arXiv:1805.00055; White, PRL 69, 2863 (1992)) runs with the total charge ½ Σ_n Z_n conserved,
started in the bare vacuum, i.e. in the physical zero-charge sector, with the subspace-expansion
mixer for the first sweeps.

- Ground state ψ₀ at bond dimension χ (``bond_dim``); the first excited state of the same sector
  by DMRG in the orthogonal complement of ψ₀ (TeNPy's ``orthogonal_to``, which projects ψ₀ out of
  the effective Hamiltonian; the projected-out direction has eigenvalue 0, so the MPO is shifted
  by a constant that makes E₁ negative and the shift is added back).  gap = E₁ − E₀.
- Observables: every qubit observable the model declares
  (:mod:`qlat.theories.schwinger_observables`, plug-ins included: the same definitions as the ED
  backend's), contracted on the MPS by :func:`qlat.exact.mps_observables.mps_pauli_expectations`; the
  energy and energy density (``hamiltonian_factor``) take ⟨ψ|H_MPO|ψ⟩ (one MPO contraction) instead.  Besides
  them: ``gap`` and the von Neumann entanglement entropy S_n = −Σ λ² ln λ² of the Schmidt values on
  each bond n (between sites n and n + 1), ``entanglement_entropy``.
- Truncation error: every value is computed at three bond dimensions, χ_ref = χ/2 (default),
  χ_mid = (χ_ref + χ)//2 and χ (each warm-started from the one before); the Estimate's value is the χ
  one and its *systematic* error the larger of the extrapolations linear in the discarded weights
  from χ_ref and from χ_mid (White & Huse 1993; :mod:`qlat.exact.dmrg_truncation`, which also says
  why two references and when to warn).  It is the Estimate's
  ``systematic`` with ``provenance["systematic_sources"] = {"truncation": ...}`` and the method in
  ``provenance["truncation"]``; the statistical ``error`` is 0.

Layers: exact/ imports core/ and theories/ only; the observables come from the model layer, so no
formula is written here.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require, warn
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.core.registry import BACKENDS
from qlat.exact.dmrg_truncation import middle_bond_dim
from qlat.exact.schwinger_mpo import COMPACT_BOND_DIM, MPO_KINDS, bare_vacuum_mps, product_mps, quiet_tenpy, tenpy_model
from qlat.theories.schwinger_observables import (
    QubitObservable,
    qubit_observable,
    qubit_observable_names,
    site_condensate_values,
)
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms, bare_vacuum_bits

if TYPE_CHECKING:  # pragma: no cover
    from tenpy.models.model import MPOModel
    from tenpy.networks.mps import MPS

__all__ = [
    "DEFAULT_OBSERVABLES",
    "MPS_ONLY_OBSERVABLES",
    "STARTS",
    "DMRGBackend",
    "DMRGSolver",
    "DMRGRun",
    "DMRGSettings",
    "dmrg_estimates",
    "dmrg_observables",
    "excited_state",
    "ground_state",
    "lowest_start",
    "lowest_states",
    "mps_measurements",
    "start_bits",
    "terms_excitation_scale",
]

#: What DMRG offers besides the model's qubit observables: the bond entropies and (a second DMRG) the gap.
MPS_ONLY_OBSERVABLES: tuple[str, ...] = ("entanglement_entropy", "gap")
#: What :func:`dmrg_estimates` reports when asked for nothing in particular (as the ED backend).
DEFAULT_OBSERVABLES: tuple[str, ...] = (
    "energy", "energy_density", "condensate", "condensate_subtracted", "total_charge", "electric_field", "gap",
)


def dmrg_observables(model: SchwingerModel) -> list[str]:
    """Every observable the DMRG backend estimates on ``model``: the model's qubit observables and
    :data:`MPS_ONLY_OBSERVABLES`."""
    return sorted(qubit_observable_names(model)) + list(MPS_ONLY_OBSERVABLES)


# --- settings and runs -----------------------------------------------------------------------
@dataclass(frozen=True)
class DMRGSettings:
    """Convergence and truncation settings of one DMRG run.

    bond_dim:     χ_max, the largest bond dimension kept.
    svd_min:      Schmidt values below this are discarded (discarded weight ≲ N·svd_min²).
    energy_tol:   stop when the energy changes by less than this per sweep (absolute, for E < 1) …
    entropy_tol:  … and the mean bond entropy by less than this.
    min_sweeps, max_sweeps: bounds on the number of sweeps.
    mixer_sweeps: sweeps with TeNPy's subspace-expansion mixer (needed to leave a product state
                  with charge conservation), then switched off.
    mpo:          ``"compact"`` (the automaton, default) or ``"explicit"`` (TeNPy's generic MPO from
                  the N²/2 couplings; benchmarks only).
    blas_threads: BLAS threads during the run (``threadpoolctl``); ``None`` leaves them alone.
                  TeNPy's block-sparse tensors are many small blocks, for which one thread is
                  fastest: at N ≤ 12 two OpenBLAS threads cost 2.5× the CPU time of one on a
                  loaded 2-core machine, hence the default 1.
    """

    bond_dim: int = 64
    svd_min: float = 1e-12
    energy_tol: float = 1e-12
    entropy_tol: float = 1e-8
    min_sweeps: int = 4
    max_sweeps: int = 60
    mixer_sweeps: int = 3
    mpo: str = "compact"
    blas_threads: int | None = 1

    def __post_init__(self) -> None:
        require(isinstance(self.bond_dim, (int, np.integer)) and not isinstance(self.bond_dim, bool)
                and self.bond_dim >= 2, "bond_dim", "must be an integer >= 2", self.bond_dim)
        require(math.isfinite(self.svd_min) and 0.0 <= self.svd_min < 1e-3, "svd_min", "must be in [0, 1e-3)",
                self.svd_min)
        require(math.isfinite(self.energy_tol) and self.energy_tol > 0, "energy_tol", "must be > 0",
                self.energy_tol)
        require(math.isfinite(self.entropy_tol) and self.entropy_tol > 0, "entropy_tol", "must be > 0",
                self.entropy_tol)
        require(isinstance(self.max_sweeps, (int, np.integer)) and self.max_sweeps >= 1, "max_sweeps",
                "must be an integer >= 1", self.max_sweeps)
        require(isinstance(self.min_sweeps, (int, np.integer)) and 1 <= self.min_sweeps <= self.max_sweeps,
                "min_sweeps", "must be an integer in [1, max_sweeps]", self.min_sweeps)
        require(isinstance(self.mixer_sweeps, (int, np.integer)) and self.mixer_sweeps >= 0, "mixer_sweeps",
                "must be an integer >= 0", self.mixer_sweeps)
        if self.mpo not in MPO_KINDS:
            raise ParameterError("mpo", f"must be one of {', '.join(MPO_KINDS)}", self.mpo)
        require(self.blas_threads is None or (isinstance(self.blas_threads, (int, np.integer))
                                               and self.blas_threads >= 1),
                "blas_threads", "must be None or an integer >= 1", self.blas_threads)

    def tenpy_options(self) -> dict[str, Any]:
        """The options of :class:`tenpy.algorithms.dmrg.TwoSiteDMRGEngine`."""
        options: dict[str, Any] = {
            "trunc_params": {"chi_max": int(self.bond_dim), "svd_min": float(self.svd_min)},
            "max_E_err": float(self.energy_tol),
            "max_S_err": float(self.entropy_tol),
            "min_sweeps": int(max(self.min_sweeps, self.mixer_sweeps + 1)),
            "max_sweeps": int(self.max_sweeps),
            "combine": True,
            # TeNPy raises when the final discarded weight exceeds 1e-4; a truncating χ is a
            # legitimate request here (its effect is the systematic error), so never raise.
            "max_trunc_err": 1.0,
        }
        if self.mixer_sweeps > 0:
            options["mixer"] = True
            options["mixer_params"] = {"amplitude": 1e-5, "decay": 2.0, "disable_after": int(self.mixer_sweeps)}
        else:
            options["mixer"] = False
        return options

    def as_dict(self) -> dict[str, Any]:
        return {
            "bond_dim": int(self.bond_dim), "svd_min": self.svd_min, "energy_tol": self.energy_tol,
            "entropy_tol": self.entropy_tol, "min_sweeps": int(self.min_sweeps),
            "max_sweeps": int(self.max_sweeps), "mixer_sweeps": int(self.mixer_sweeps), "mpo": self.mpo,
            "blas_threads": self.blas_threads,
        }


@dataclass
class DMRGRun:
    """One converged (or stopped) DMRG run.

    psi:              the MPS (TeNPy), normalized, zero total charge.
    energy:           the DMRG energy (constant included, shift removed).
    settings:         the :class:`DMRGSettings` used.
    sweeps:           number of sweeps done.
    converged:        whether the energy/entropy criteria were met before ``max_sweeps``.
    max_bond_dim:     the largest bond dimension of ``psi``.
    discarded_weight: largest discarded weight (sum of dropped λ²) of the last sweep.
    seconds:          wall time.
    sweep_energies:   energy after each sweep.
    overlap:          |⟨ψ₀|ψ⟩| for an excited state (should be ≈ 0), else ``None``.
    """

    psi: MPS
    energy: float
    settings: DMRGSettings
    sweeps: int
    converged: bool
    max_bond_dim: int
    discarded_weight: float
    seconds: float
    sweep_energies: list[float] = field(default_factory=list)
    overlap: float | None = None

    def summary(self) -> dict[str, Any]:
        out = {
            "energy": self.energy, "bond_dim": int(self.settings.bond_dim), "max_bond_dim": self.max_bond_dim,
            "sweeps": self.sweeps, "converged": self.converged, "discarded_weight": self.discarded_weight,
            "seconds": round(self.seconds, 3),
        }
        if self.overlap is not None:
            out["overlap_with_ground"] = self.overlap
        return out


ProgressCallback = Callable[[dict[str, Any]], None]


@lru_cache(maxsize=1)
def _engine_class() -> type:
    """TeNPy's two-site DMRG engine with a per-sweep report hook (imported lazily)."""
    from tenpy.algorithms.dmrg import TwoSiteDMRGEngine

    class ReportingDMRGEngine(TwoSiteDMRGEngine):  # type: ignore[misc, valid-type]
        report: ProgressCallback | None = None

        def is_converged(self) -> bool:
            """TeNPy's criterion, or: the energy has stopped changing beyond the truncation's effect.

            At a truncating χ the energy moves from sweep to sweep by about the energy change the
            truncation itself causes (``max_E_trunc``, measured on the last sweep), often as a
            left/right period-2 cycle, and never meets |ΔE| < tol.  Then the run is converged
            when both |E_k − E_{k−1}| and |E_k − E_{k−2}| are below max(tol, max_E_trunc) (or
            E and S two sweeps apart are within the tolerances).
            """
            if super().is_converged():
                return True
            stats = self.sweep_stats
            if len(stats["E"]) < 3:
                return False
            max_e = self.options.get("max_E_err", 1.0e-8, "real")
            max_s = self.options.get("max_S_err", 1.0e-5, "real")
            d1 = abs(stats["E"][-1] - stats["E"][-2])
            d2 = abs(stats["E"][-1] - stats["E"][-3])
            if d2 < max_e and abs(stats["S"][-1] - stats["S"][-3]) < max_s:
                return True
            floor = max(max_e, abs(float(stats["max_E_trunc"][-1])))
            return bool(d1 < floor and d2 < floor)

        def status_update(self, iteration_start_time: float) -> None:
            super().status_update(iteration_start_time)
            if self.report is not None:
                stats = self.sweep_stats
                self.report({
                    "sweep": int(self.sweeps), "energy": float(stats["E"][-1]),
                    "delta_energy": float(stats["Delta_E"][-1]), "max_bond_dim": int(stats["max_chi"][-1]),
                    "discarded_weight": float(stats["max_trunc_err"][-1]),
                })

    return ReportingDMRGEngine


def _run(
    hamiltonian: MPOModel,
    initial: MPS,
    settings: DMRGSettings,
    *,
    orthogonal_to: Sequence[MPS] = (),
    energy_shift: float = 0.0,
    report: ProgressCallback | None = None,
) -> DMRGRun:
    from threadpoolctl import threadpool_limits

    engine_cls = _engine_class()
    start = time.perf_counter()
    with quiet_tenpy(), threadpool_limits(limits=settings.blas_threads, user_api="blas"):
        psi = initial.copy()
        engine = engine_cls(psi, hamiltonian, settings.tenpy_options(), orthogonal_to=list(orthogonal_to))
        if report is not None:
            def shifted(info: dict[str, Any]) -> None:
                report({**info, "energy": info["energy"] + energy_shift})
            engine.report = shifted
        energy, psi = engine.run()
        converged = bool(engine.is_converged()) if engine.sweep_stats["E"] else False
        stats = engine.sweep_stats
    seconds = time.perf_counter() - start
    if not converged:
        warnings.warn(f"DMRG (bond dimension {settings.bond_dim}) stopped after {engine.sweeps} sweeps without "
                      f"meeting |ΔE| < {settings.energy_tol:g}; raise max_sweeps or bond_dim", RuntimeWarning,
                      stacklevel=3)
    return DMRGRun(
        psi=psi, energy=float(energy) + energy_shift, settings=settings, sweeps=int(engine.sweeps),
        converged=converged, max_bond_dim=int(max(psi.chi)),
        discarded_weight=float(stats["max_trunc_err"][-1]) if stats["max_trunc_err"] else 0.0,
        seconds=seconds, sweep_energies=[float(e) + energy_shift for e in stats["E"]],
    )


def _settings(settings: DMRGSettings | None, bond_dim: int | None) -> DMRGSettings:
    settings = settings or DMRGSettings()
    if bond_dim is not None:
        settings = replace(settings, bond_dim=bond_dim)
    return settings


def ground_state(
    model: SchwingerModel,
    *,
    bond_dim: int | None = None,
    settings: DMRGSettings | None = None,
    initial: MPS | None = None,
    progress: ProgressCallback | None = None,
) -> DMRGRun:
    """The DMRG ground state of ``model`` in the zero-charge sector.

    Starts from ``initial`` (default: the bare vacuum, :func:`bare_vacuum_mps`); ``bond_dim``
    overrides ``settings.bond_dim``; ``progress`` is called after each sweep with a dict
    (``sweep``, ``energy``, ``delta_energy``, ``max_bond_dim``, ``discarded_weight``).
    """
    _check_model(model)
    settings = _settings(settings, bond_dim)
    hamiltonian = tenpy_model(model, mpo=settings.mpo)
    start = initial if initial is not None else bare_vacuum_mps(model.n_sites)
    _check_sector(start)
    return _run(hamiltonian, start, settings, report=progress)


#: The cold starts of :func:`lowest_start`: the bare vacuum and its complement (every qubit flipped, still
#: zero charge: the staggering of the other branch of the level crossing near θ = π).
STARTS: tuple[str, ...] = ("bare_vacuum", "flipped_vacuum")


def start_bits(n_sites: int, start: str) -> list[int]:
    """The product state ``start`` (one of :data:`STARTS`) as qubit bits."""
    require(start in STARTS, "start", f"must be one of {', '.join(STARTS)}", start)
    bits = bare_vacuum_bits(n_sites)
    return (bits if start == "bare_vacuum" else 1 - bits).astype(int).tolist()


def lowest_start(
    model: SchwingerModel,
    *,
    settings: DMRGSettings,
    progress: ProgressCallback | None = None,
) -> tuple[DMRGRun, str, dict[str, float]]:
    r"""``(run, start, {start: energy})``: DMRG from each of :data:`STARTS`, the run of lower energy kept.

    Near θ = π above the critical mass the two lowest branches cross; DMRG from the bare vacuum can stay
    on the upper one (a local minimum of the MPS manifold at small χ, which warm-started larger χ
    inherit, so no truncation line sees it: measured at N = 14, χ = 4, θ = 2.68, m = 0.73, a field
    0.94 off ED at |z| ≈ 600).  The flipped vacuum starts on the other branch; by the variational
    principle the lower energy is the better state.
    """
    runs = {start: ground_state(model, settings=settings, initial=product_mps(start_bits(model.n_sites, start)),
                                progress=progress)
            for start in STARTS}
    best = min(runs, key=lambda start: runs[start].energy)
    return runs[best], best, {start: float(run.energy) for start, run in runs.items()}


def excitation_scale(model: SchwingerModel) -> float:
    """A generous bound on E₁ − E₀: 1 + N(4w + 2|m| + 2J) (used to shift the MPO, see module doc)."""
    return 1.0 + model.n_sites * (4.0 * model.w + 2.0 * abs(model.mass) + 2.0 * model.J)


def _excited_start(n_sites: int) -> MPS:
    """The bare vacuum with the two middle sites swapped: one pair, still zero charge."""
    bits = bare_vacuum_bits(n_sites).tolist()
    h = n_sites // 2
    bits[h - 1], bits[h] = bits[h], bits[h - 1]
    return product_mps(bits)


def excited_state(
    model: SchwingerModel,
    ground: DMRGRun,
    *,
    bond_dim: int | None = None,
    settings: DMRGSettings | None = None,
    initial: MPS | None = None,
    progress: ProgressCallback | None = None,
) -> DMRGRun:
    """The first excited state of the zero-charge sector: DMRG orthogonal to ``ground.psi``.

    The MPO constant is lowered by ``E₀ + excitation_scale(model)`` so that the target energy is
    negative (TeNPy's projection gives the projected-out state eigenvalue 0); the returned
    energy has the shift removed.  ``overlap`` records |⟨ψ₀|ψ₁⟩|.
    """
    _check_model(model)
    settings = _settings(settings, bond_dim if bond_dim is not None else ground.settings.bond_dim)
    shift = ground.energy + excitation_scale(model)
    terms = model.terms()
    hamiltonian = tenpy_model(replace(terms, constant=terms.constant - shift), mpo=settings.mpo)
    start = initial if initial is not None else _excited_start(model.n_sites)
    _check_sector(start)
    run = _run(hamiltonian, start, settings, orthogonal_to=[ground.psi], energy_shift=shift, report=progress)
    with quiet_tenpy():
        run.overlap = float(abs(ground.psi.overlap(run.psi)))
    return run


def terms_excitation_scale(terms: SchwingerTerms) -> float:
    """A generous bound on E_k − E₀ for any low state of ``terms``: 1 + N(8 max|h_n| + 2 max|μ_n|)."""
    n = terms.n_qubits
    return 1.0 + n * (8.0 * float(np.max(np.abs(terms.hopping), initial=0.0))
                      + 2.0 * float(np.max(np.abs(terms.z), initial=0.0)))


def _swapped_start(bits: Sequence[int], k: int) -> list[int]:
    """``bits`` with the k-th adjacent occupied/empty pair (counted outwards from the middle)
    exchanged: a different product state of the same charge sector for the k-th excited state."""
    out = [int(b) for b in bits]
    n = len(out)
    bonds = sorted((i for i in range(n - 1) if out[i] != out[i + 1]), key=lambda i: (abs(i + 0.5 - n / 2), i))
    if bonds:
        i = bonds[(k - 1) % len(bonds)]
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def lowest_states(
    terms: SchwingerTerms,
    n_states: int,
    *,
    start_bits: Sequence[int],
    settings: DMRGSettings | None = None,
    warm: Sequence[MPS] | None = None,
    progress: ProgressCallback | None = None,
) -> list[DMRGRun]:
    r"""The ``n_states`` lowest states of H (as Schwinger terms) in the charge sector of ``start_bits``.

    Sequential DMRG: state k minimizes H in the orthogonal complement of states 0..k−1
    (TeNPy's ``orthogonal_to``; as :func:`excited_state`, the MPO constant is lowered by
    E₀ + :func:`terms_excitation_scale` so that the projected-out directions, which get
    eigenvalue 0, lie above every target).  The ground state starts from the product state
    ``start_bits`` (any sector: odd chains and charged sectors included), state k from it with
    one adjacent pair exchanged (:func:`_swapped_start`), or each from ``warm[k]`` (e.g. the
    same state at a smaller bond dimension).  Runs are returned sorted by energy (a later run
    that lands below an earlier one is moved down).  Degenerate levels come out as some
    orthonormal basis of their eigenspace.
    """
    require(isinstance(n_states, (int, np.integer)) and n_states >= 1, "n_states", "must be an integer >= 1",
            n_states)
    settings = settings or DMRGSettings()
    require(warm is None or len(warm) >= n_states, "warm", f"must hold at least {n_states} states",
            None if warm is None else len(warm))
    runs: list[DMRGRun] = []
    for k in range(int(n_states)):
        if k == 0:
            shift = 0.0
            hamiltonian = tenpy_model(terms, mpo=settings.mpo)
        elif k == 1:
            shift = runs[0].energy + terms_excitation_scale(terms)
            hamiltonian = tenpy_model(replace(terms, constant=terms.constant - shift), mpo=settings.mpo)
        start = warm[k] if warm is not None else product_mps(
            list(start_bits) if k == 0 else _swapped_start(start_bits, k))
        report = None if progress is None else (lambda info, k=k: progress({"state": k, **info}))
        run = _run(hamiltonian, start, settings, orthogonal_to=[r.psi for r in runs], energy_shift=shift,
                   report=report)
        if runs:
            with quiet_tenpy():
                run.overlap = float(max(abs(r.psi.overlap(run.psi)) for r in runs))
        runs.append(run)
    return sorted(runs, key=lambda r: r.energy)


def _check_model(model: Any) -> None:
    if not isinstance(model, SchwingerModel):
        raise ParameterError("target", "DMRG needs a SchwingerModel", type(model).__name__)


def _check_sector(psi: MPS) -> None:
    with quiet_tenpy():
        charge = float(np.sum(np.real(psi.expectation_value("Sigmaz")))) / 2.0
    require(abs(charge) < 1e-8, "initial", "must lie in the zero-charge sector", charge)


# --- observables -----------------------------------------------------------------------------
def mps_measurements(
    model: SchwingerModel, psi: MPS, observables: list[QubitObservable] | None = None, *,
    energy: float | None = None, entropy: bool = True,
) -> dict[str, float]:
    """``{key: ⟨O⟩}`` on the MPS ``psi`` for the qubit ``observables`` (default: every one the model
    declares), plus ``entanglement_entropy[n]`` on the N − 1 bonds with ``entropy``.

    Observables with a ``hamiltonian_factor`` f take f·⟨H⟩, with ⟨H⟩ = ``energy`` if known, else
    ⟨ψ|H_MPO|ψ⟩ contracted once; the others are contracted term by term
    (:func:`qlat.exact.mps_observables.mps_pauli_expectations`).
    """
    from qlat.exact.mps_observables import mps_pauli_expectations

    _check_model(model)
    if observables is None:
        observables = [qubit_observable(name, model) for name in qubit_observable_names(model)]
    out: dict[str, float] = {}
    contracted: dict[str, Any] = {}
    for obs in observables:
        if obs.hamiltonian_factor is not None:
            if energy is None:
                with quiet_tenpy():
                    energy = float(np.real(tenpy_model(model).H_MPO.expectation_value(psi)))
            out[obs.keys[0]] = obs.hamiltonian_factor * float(energy)
        else:
            contracted.update(obs.keyed_terms)
    out.update(mps_pauli_expectations(psi, contracted))
    if entropy:
        with quiet_tenpy():
            values = np.asarray(psi.entanglement_entropy(), dtype=float)
        out.update({f"entanglement_entropy[{i}]": float(v) for i, v in enumerate(values)})
    return out


# --- estimates -------------------------------------------------------------------------------
def _check_names(model: SchwingerModel, observables: Sequence[str] | str | None) -> list[str]:
    if observables is None:
        return list(DEFAULT_OBSERVABLES)
    names = [observables] if isinstance(observables, str) else list(observables)
    require(len(names) >= 1 and all(isinstance(n, str) for n in names), "observables",
            "must be a non-empty sequence of observable names", observables)
    known = dmrg_observables(model)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ParameterError("observables", f"the dmrg backend estimates {', '.join(known)}", ", ".join(unknown))
    return names


def _progress_reporter(progress: bool | ProgressCallback | None) -> tuple[Callable[[str], ProgressCallback | None],
                                                                         Callable[[], None]]:
    """(stage → per-sweep callback, close) for ``progress``: False/None, True (tqdm) or a callable."""
    if not progress:
        return (lambda stage: None), (lambda: None)
    if callable(progress):
        user = progress
        return (lambda stage: (lambda info: user({"stage": stage, **info}))), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(desc="dmrg", unit="sweep", leave=False)

    def for_stage(stage: str) -> ProgressCallback:
        def update(info: dict[str, Any]) -> None:
            bar.set_postfix_str(f"{stage} E={info['energy']:.12f}", refresh=False)
            bar.update(1)
        return update

    return for_stage, bar.close


def dmrg_estimates(
    model: SchwingerModel,
    observables: Sequence[str] | str | None = None,
    *,
    bond_dim: int = 64,
    reference_bond_dim: int | None = None,
    truncation_check: bool = True,
    settings: DMRGSettings | None = None,
    progress: bool | ProgressCallback | None = False,
) -> dict[str, Estimate]:
    """DMRG ground-state Estimates ``{key: Estimate}`` with the ED backend's keys and values.

    Keys: the name for a scalar, ``name[i]`` for a profile component (``electric_field[i]`` on
    link i, ``charge_density[i]`` on site i, ``entanglement_entropy[i]`` on bond i), ``gap`` for
    E₁ − E₀ (only when asked for: it costs a second DMRG).  Values at bond dimension
    ``bond_dim``; with ``truncation_check`` everything is also computed at ``reference_bond_dim``
    (default ``bond_dim // 2``) and at χ_mid = (χ_ref + χ)//2 (when it lies strictly between), and the
    larger of the two lines in the discarded weight, (χ_ref, χ) and (χ_mid, χ)
    (:func:`qlat.exact.dmrg_truncation.truncation_errors_of_runs`), is the systematic truncation error in
    ``Estimate.systematic`` (source ``provenance["systematic_sources"]["truncation"]``; error 0; a warning
    on every Estimate when a run did not converge or the discarded weight did not fall).
    The χ_ref run comes first (from the bare vacuum and from the flipped vacuum, with the mixer, the lower
    energy kept: :func:`lowest_start`, ``provenance["start"]``); each larger χ is warm-started
    from the one before (no mixer, at least 2 sweeps), and skipped when χ_ref never bound (the state was
    truncated by ``svd_min`` only: then the χ run is the same computation and the systematic 0).
    ``progress``: True for a tqdm bar on stderr (one tick per sweep), or a callable receiving
    a dict per sweep (``stage``, ``sweep``, ``energy``, ``max_bond_dim`` …).
    """
    _check_model(model)
    names = _check_names(model, observables)
    measured_names = [name for name in names if name not in MPS_ONLY_OBSERVABLES]
    if "gap" in names and truncation_check and "energy" not in measured_names:
        measured_names.append("energy")  # the gap's truncation error needs the ground energy's
    qobs = [qubit_observable(name, model) for name in measured_names]
    want_entropy = "entanglement_entropy" in names
    settings = _settings(settings, bond_dim)
    chis = [int(settings.bond_dim)]
    if truncation_check:
        ref = reference_bond_dim if reference_bond_dim is not None else max(2, settings.bond_dim // 2)
        require(isinstance(ref, (int, np.integer)) and 2 <= ref < settings.bond_dim, "reference_bond_dim",
                f"must be an integer in [2, bond_dim = {settings.bond_dim})", ref)
        middle = middle_bond_dim(int(ref), int(settings.bond_dim))
        chis = [int(ref)] + ([middle] if middle is not None else []) + [int(settings.bond_dim)]
    want_gap = "gap" in names
    stage_reporter, close = _progress_reporter(progress)
    measured: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    start_name: str = STARTS[0]
    start_energies: dict[str, float] = {}
    ground: DMRGRun | None = None
    excited: DMRGRun | None = None
    start = time.perf_counter()
    try:
        for stage, chi in enumerate(chis):
            if stage > 0 and ground is not None and not _bond_limited(ground) and (
                    excited is None or not _bond_limited(excited)):
                # χ_ref never bound (only svd_min truncated): the χ run is the same computation.
                measured.append(dict(measured[-1]))
                runs.append({"same_as_bond_dim": chis[stage - 1]})
                continue
            # The first run starts from the bare vacuum with the mixer; the χ run is warm-started
            # from the χ_ref state, where two-site updates alone grow the bonds.
            stage_settings = replace(settings, bond_dim=chi) if stage == 0 else replace(
                settings, bond_dim=chi, mixer_sweeps=0, min_sweeps=min(2, settings.max_sweeps))
            if ground is None:  # the cold start: both vacua, the lower kept (lowest_start)
                ground, start_name, start_energies = lowest_start(model, settings=stage_settings,
                                                                  progress=stage_reporter(f"ground chi={chi}"))
            else:
                ground = ground_state(model, settings=stage_settings, initial=ground.psi,
                                      progress=stage_reporter(f"ground chi={chi}"))
            values: dict[str, Any] = mps_measurements(model, ground.psi, qobs, entropy=want_entropy)
            record: dict[str, Any] = {"ground": ground.summary()}
            if want_gap:
                excited = excited_state(model, ground, settings=stage_settings,
                                        initial=None if excited is None else excited.psi,
                                        progress=stage_reporter(f"excited chi={chi}"))
                values["gap"] = excited.energy - ground.energy
                record["excited"] = excited.summary()
            measured.append(values)
            runs.append(record)
    finally:
        close()
    assert ground is not None
    final = measured[-1]
    base = provenance(
        model=model.params(), sector="physical", method="dmrg", library=_tenpy_version(),
        mpo={"kind": settings.mpo, "bond_dim": _mpo_bond_dim(settings.mpo, model.n_sites)},
        settings=settings.as_dict(), bond_dims=chis, runs=runs, seconds=round(time.perf_counter() - start, 3),
        start={"kept": start_name, "energies": start_energies, "bond_dim": chis[0]},
    )
    units = {key: obs.unit for obs in qobs for key in obs.keys}
    units.update({key: "1" for key in final if key.startswith("entanglement_entropy[")}, gap="g")
    keys_of = {obs.name: list(obs.keys) for obs in qobs}
    keys_of["gap"] = ["gap"]
    keys_of["entanglement_entropy"] = [key for key in final if key.startswith("entanglement_entropy[")]
    wanted = [key for name in names for key in keys_of[name]]
    systematic_of: dict[str, float] = {}
    trust: list[str] = []
    if truncation_check:
        # the truncation model works per observable (a profile's components together): regroup the keys
        present = [name for name in keys_of if all(key in final for key in keys_of[name])]

        def grouped(values: dict[str, Any]) -> dict[str, Any]:
            return {name: (float(values[keys_of[name][0]]) if keys_of[name] == [name]
                           else np.array([float(values[key]) for key in keys_of[name]])) for name in present}

        systematics, truncation, trust = _truncation(present, [grouped(m) for m in measured], runs, model.n_sites)
        if truncation is not None:
            base["truncation"] = truncation
        for name in present:
            flat = np.asarray(systematics[name], dtype=float).reshape(-1)
            systematic_of.update({key: float(flat[i]) for i, key in enumerate(keys_of[name])})
    out: dict[str, Estimate] = {}
    for key in wanted:
        est = Estimate(float(final[key]), 0.0, name=key, unit=units[key], backend="dmrg", provenance=dict(base))
        if truncation_check:
            est = est.with_systematic({"truncation": systematic_of[key]})
        for message in trust:
            est = est.with_warning(message, emit=False)
        out[key] = est
    for message in trust:
        warn(f"dmrg: {message}")
    return out


def _truncation(names: Sequence[str], measured: list[dict[str, Any]], runs: list[dict[str, Any]],
                n_sites: int) -> tuple[dict[str, np.ndarray], dict[str, Any], list[str]]:
    """(systematic of each name, description, warnings) from the χ_ref and χ runs
    (:func:`qlat.exact.dmrg_truncation.truncation_errors_of_runs`: the larger of the χ_ref and χ_mid lines)."""
    from qlat.exact.dmrg_truncation import rounding_floor, truncation_errors_of_runs

    if "same_as_bond_dim" in runs[-1]:  # χ_ref never bound: the χ run is the same computation
        floor = {name: rounding_floor(measured[-1][name], n_sites) for name in names}
        return floor, {"method": "chi_ref never bound (only svd_min truncated): rounding only"}, []
    return truncation_errors_of_runs(names, measured, runs, n_sites=n_sites)


def _bond_limited(run: DMRGRun) -> bool:
    """Whether χ_max bound somewhere (else only ``svd_min`` truncated the state)."""
    return run.max_bond_dim >= run.settings.bond_dim


def _mpo_bond_dim(kind: str, n_sites: int) -> int:
    return COMPACT_BOND_DIM if kind == "compact" else n_sites + 2


def _tenpy_version() -> str:
    from importlib import metadata

    try:
        return f"physics-tenpy {metadata.version('physics-tenpy')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - installed under another name
        import tenpy

        return f"tenpy {tenpy.__version__}"


# --- the ground-state solver of θ scans ---------------------------------------------------------
@dataclass(frozen=True)
class DMRGSolver:
    """Two-site DMRG at bond dimension ``bond_dim`` (:func:`ground_state`): the ``dmrg`` backend's
    ground-state factory (:mod:`qlat.exact.ground_state`); ⟨O⟩ = ⟨ψ|W_O|ψ⟩ with W_O the compact
    MPO of O's terms (exact algebra, no truncation of O)."""

    bond_dim: int = 64
    name: str = "dmrg"

    def __post_init__(self) -> None:
        require(isinstance(self.bond_dim, (int, np.integer)) and 2 <= self.bond_dim <= 4096, "bond_dim",
                "must be an integer in [2, 4096]", self.bond_dim)

    def solve(self, model: SchwingerModel) -> DMRGRun:
        return ground_state(model, bond_dim=int(self.bond_dim))

    def energy(self, state: DMRGRun) -> float:
        return float(state.energy)

    def site_condensate(self, state: DMRGRun, model: SchwingerModel) -> np.ndarray:
        with quiet_tenpy():
            z = np.real(np.asarray(state.psi.expectation_value("Sigmaz"), dtype=complex))
        return site_condensate_values(z, model.spacing)

    def expectation(self, state: DMRGRun, terms: SchwingerTerms) -> float:
        with quiet_tenpy():
            return float(np.real(tenpy_model(terms).H_MPO.expectation_value(state.psi)))

    def spec(self) -> dict[str, Any]:
        return {"method": "dmrg", "bond_dim": int(self.bond_dim)}


# --- the backend -----------------------------------------------------------------------------
@BACKENDS.register("dmrg")
class DMRGBackend:
    """DMRG (TeNPy, compact automaton MPO) ground-state estimates for long Schwinger chains.

    ``estimate(model, observables, bond_dim=64, reference_bond_dim=None, truncation_check=True,
    settings=None, progress=False)``: see :func:`dmrg_estimates`.
    """

    name = "dmrg"
    label = "dmrg"
    #: the ground-state plug-in (:mod:`qlat.exact.ground_state`): θ scans solve with it
    ground_state = DMRGSolver
    description = "DMRG (TeNPy) in the zero-charge sector; long chains, truncation error as systematic"

    def supports(self, target: Any) -> bool:
        return isinstance(target, SchwingerModel)

    def observables(self, target: Any) -> list[str]:
        return dmrg_observables(target) if self.supports(target) else []

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        """N = 8 at χ = 16 (seconds; equal to ED to 1e-9, see tests/exact/test_dmrg.py)."""
        return SchwingerModel(8, 0.5, 0.1, theta=0.4), {"bond_dim": 16}

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, Estimate]:
        allowed = {"bond_dim", "reference_bond_dim", "truncation_check", "settings", "progress"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ParameterError("options", f"the dmrg backend takes {', '.join(sorted(allowed))}",
                                 ", ".join(unknown))
        return dmrg_estimates(target, observables, **options)


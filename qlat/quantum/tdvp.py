r"""Adiabatic state preparation on matrix-product states by TDVP (TeNPy): the ``tdvp`` backend.

The same path as every other simulator — the bare vacuum evolved under H(t) of the
:class:`~qlat.quantum.adiabatic.AdiabaticSchedule` — but without a Trotter circuit: the state is
an MPS in the zero-charge sector (TeNPy's U(1) charge ``2 Sz = Σ Z`` conserved) and each step
applies e^{−i dt H(t_k + dt/2)} by the two-site time-dependent variational principle (Haegeman,
Lubich, Oseledets, Vandereycken, Verstraete, PRB 94, 165116 (2016), arXiv:1408.5056; TeNPy:
Hauschild & Pollmann, SciPost Phys. Lect. Notes 5 (2018)) with H(t) the compact automaton MPO of
:mod:`qlat.exact.schwinger_mpo` (bond dimension 5; the long-range electric energy needs no
swap network, which is what makes TEBD unusable here).

Errors of one run, and how the Estimate reports them (``systematics="estimate"``), from the same
model of the prepared state as the other simulators (:mod:`qlat.quantum.systematics`): one Lanczos
step from the final MPS ψ, with the moments of the MPO H computed on the MPS — ⟨H⟩, the variance
(TeNPy's ``MPO.variance``), ⟨H³⟩ and, for every other observable O, ⟨ψ|O H|ψ⟩ and ⟨Hψ|O|Hψ⟩ from
Hψ (the MPO applied exactly, bond dimension 5χ) and ⟨O²⟩ for σ_O (for O linear in the Z_n from
⟨Z_n⟩, ⟨Z_mZ_n⟩; else term by term, :func:`qlat.exact.mps_observables.mps_pauli_expectations`).
The deviation of ψ from the ground state — finite T, the time step and the truncation alike — shows
in these moments:

- adiabatic: √(δO_L² + (½ ε_L σ_O)²) (source ``"adiabatic"``; the state's distance from the
  ground state as the moments see it);
- time step: the exponential midpoint rule with a symmetric sweep is second order, so the
  model-corrected value Õ = ⟨O⟩ + δO_L of a run at 2dt gives |Õ(dt) − Õ(2dt)|/3 (Richardson;
  source ``"time_step"``), the part of the step error the correction leaves;
- truncation: the model-corrected values at χ and χ/2, extrapolated linearly in the discarded
  weight w (as DMRG energies are, :func:`qlat.exact.dmrg_truncation.extrapolation_factor`):
  |Õ(χ) − Õ(χ/2)|·w(χ)/(w(χ/2) − w(χ)), at most the bare
  difference and 0 when χ never truncated (source ``"truncation"``).

Two reruns (2dt, χ/2) cost about 1.0× the main run together (the T/2 rerun of the former bare
difference is gone).  Every qubit observable the model declares
(:mod:`qlat.theories.schwinger_observables`) is measured on the final MPS
(:func:`qlat.exact.dmrg.mps_measurements`); the energy is ⟨ψ|H_MPO|ψ⟩ of the target model.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.core.registry import BACKENDS
from qlat.exact.dmrg_truncation import extrapolation_factor
from qlat.quantum.simulators import AdiabaticSimulator, SimulationRequest
from qlat.theories.pauli_sum import PauliSum
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:  # pragma: no cover
    from tenpy.networks.mps import MPS

    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.quantum.systematics import StateModel

__all__ = ["DEFAULT_BOND_DIM", "TDVPRun", "TDVPSimulator", "evolve_tdvp", "mps_state_model", "tdvp_values"]

if TYPE_CHECKING:  # pragma: no cover
    from qlat.theories.schwinger_observables import QubitObservable

#: Bond dimension of a ``tdvp`` run when none is given.
DEFAULT_BOND_DIM = 32
#: Lanczos stopping tolerance of each local exponential (TeNPy's P_tol); 1e-8 changes energies
#: at N = 16 by < 1e-10 relative to the default 1e-14 and saves ~20 % of the time.
LANCZOS_P_TOL = 1e-8
#: Singular values below this are dropped (as in the DMRG backend).
SVD_MIN = 1e-12


@dataclass
class TDVPRun:
    """The final MPS of :func:`evolve_tdvp` and how it was obtained."""

    psi: MPS
    bond_dim: int
    n_steps: int
    dt: float
    max_bond_dim: int
    discarded_weight: float
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {"bond_dim": self.bond_dim, "n_steps": self.n_steps, "dt": self.dt,
                "max_bond_dim": self.max_bond_dim, "discarded_weight": self.discarded_weight,
                "seconds": round(self.seconds, 3)}


def evolve_tdvp(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    bond_dim: int = DEFAULT_BOND_DIM,
    progress: bool = False,
) -> TDVPRun:
    r"""The bare vacuum evolved along ``schedule`` to ``model`` by two-site TDVP (module docstring).

    Step k applies e^{−i dt H(t_k + dt/2)} (exponential midpoint rule) with one symmetric TDVP
    sweep; ``bond_dim`` caps the MPS bond dimension.  ``progress``: a tqdm bar on stderr.
    """
    from tenpy.algorithms.tdvp import TwoSiteTDVPEngine
    from tenpy.tools.optimization import temporary_level

    from qlat.exact.schwinger_mpo import bare_vacuum_mps, quiet_tenpy, tenpy_model

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    require(isinstance(bond_dim, (int, np.integer)) and 2 <= bond_dim <= 4096, "bond_dim",
            "must be an integer in [2, 4096]", bond_dim)
    n_steps = int(schedule.n_steps)
    dt = float(schedule.dt)
    options = {"dt": dt, "N_steps": 1,
               "trunc_params": {"chi_max": int(bond_dim), "svd_min": SVD_MIN},
               "lanczos_params": {"N_max": 20, "P_tol": LANCZOS_P_TOL}}
    psi = bare_vacuum_mps(model.n_sites)
    discarded = 0.0
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_steps, desc=f"tdvp (N={model.n_sites}, χ={bond_dim})", unit="step", leave=False)
    start = time.perf_counter()
    try:
        # TeNPy's optimization level 3 skips its per-tensor sanity checks (~20 % here); the
        # code path is the one the tests run at the default level against the statevector.
        with quiet_tenpy(), temporary_level(3):
            for k in range(n_steps):
                hamiltonian = tenpy_model(schedule.terms_at(model, (k + 0.5) * dt))
                engine = TwoSiteTDVPEngine(psi, hamiltonian, dict(options))
                engine.run()
                psi = engine.psi
                discarded += float(engine.trunc_err.eps)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"χ={max(psi.chi)}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    with quiet_tenpy():
        # the sweeps leave the singular values of the last bond stale (⟨Z_{N−1}⟩ off by ~1e-5):
        # measurements need the canonical form
        psi.canonical_form()
    return TDVPRun(psi=psi, bond_dim=int(bond_dim), n_steps=n_steps, dt=dt, max_bond_dim=int(max(psi.chi)),
                   discarded_weight=discarded, seconds=time.perf_counter() - start)


def tdvp_values(model: SchwingerModel, run: TDVPRun, observables: Sequence[str | QubitObservable]) -> dict[str, float]:
    """{key: ⟨O⟩} on the final MPS for qubit observables (names or realizations; scalar key: name,
    profile: name[i])."""
    from qlat.exact.dmrg import mps_measurements
    from qlat.theories.schwinger_observables import qubit_observable

    qobs = [qubit_observable(o, model) if isinstance(o, str) else o for o in observables]
    return mps_measurements(model, run.psi, qobs, entropy=False)


def mps_state_model(model: SchwingerModel, run: TDVPRun, ops: dict[str, Any],
                    hamiltonian_factors: dict[str, float] | None = None) -> "StateModel":
    """The one-Lanczos-step model (:class:`qlat.quantum.systematics.StateModel`) of the final MPS.

    ``ops``: {key: PauliSum (or SparsePauliOp)}; ``hamiltonian_factors``: {key: f} for the keys whose
    operator is f·H (energy, energy density), which take the moments of H.  The moments are exact
    contractions on the MPS (module docstring); Hψ is built by applying the MPO without truncation
    and brought to canonical form (which normalizes it: its norm is √⟨H²⟩ and its phase is fixed by
    ⟨ψ|Hψ⟩ = ⟨H⟩).
    """
    from tenpy.networks.mps import MPSEnvironment

    from qlat.exact.mps_observables import mps_pauli_expectations
    from qlat.exact.schwinger_mpo import quiet_tenpy, tenpy_model
    from qlat.quantum.systematics import StateModel, lanczos_step

    factors = dict(hamiltonian_factors or {})
    psi = run.psi
    n = model.n_sites
    ops = {key: _as_pauli_sum(op) for key, op in ops.items()}
    with quiet_tenpy():
        hmpo = tenpy_model(model.terms()).H_MPO
        mu = float(np.real(hmpo.expectation_value(psi)))
        variance = max(float(np.real(hmpo.variance(psi))), 0.0)
        # ⟨H²⟩ − ⟨H⟩² on the MPS cancels to ~1e-14 relative: below that ψ is an eigenstate
        eigen = variance <= 1e-13 * max(1.0, mu * mu)
        norm2 = variance + mu * mu
        norm, phase, third, phi = math.sqrt(norm2), 1.0 + 0j, 0.0, None
        if not eigen:
            phi = psi.copy()
            hmpo.apply_naively(phi)
            phi.canonical_form()
            # canonical_form may change the global phase of Hψ: ⟨ψ|Hψ⟩ = μ fixes it
            overlap = complex(psi.overlap(phi)) * norm
            phase = overlap / mu if abs(mu) > 1e-8 * norm else 1.0
            h3 = norm2 * float(np.real(hmpo.expectation_value(phi)))
            third = h3 - 3.0 * mu * norm2 + 2.0 * mu**3
    ritz, a, b = lanczos_step(mu, 0.0 if eigen else variance, third)
    sigma = math.sqrt(variance)
    others = {key: op for key, op in ops.items() if key not in factors}
    linear = {key: op.z_linear() for key, op in others.items()}
    generic = {key: op for key, op in others.items() if linear[key] is None}
    # moments of the observables: ⟨O⟩, ⟨O²⟩, Re⟨ψ|O H|ψ⟩, ⟨Hψ|O|Hψ⟩
    moments: dict[str, tuple[float, float, float, float]] = {}
    if len(generic) < len(others):
        with quiet_tenpy():
            z = np.real(np.asarray(psi.expectation_value("Sigmaz"), dtype=complex))
            zz = np.real(np.asarray(psi.correlation_function("Sigmaz", "Sigmaz"), dtype=complex))
            mixed = np.zeros(n) if phi is None else np.real(
                np.conj(phase) * np.asarray(MPSEnvironment(psi, phi).expectation_value("Sigmaz"))) * norm
            z_phi = np.zeros(n) if phi is None else np.real(np.asarray(phi.expectation_value("Sigmaz"),
                                                                       dtype=complex)) * norm2
        for key, lin in linear.items():
            if lin is None:
                continue
            c0, c = lin
            value = c0 + float(c @ z)
            moments[key] = (value, c0 * c0 + 2.0 * c0 * float(c @ z) + float(c @ zz @ c),
                            c0 * mu + float(c @ mixed), c0 * norm2 + float(c @ z_phi))
    if generic:
        values = mps_pauli_expectations(psi, generic)
        squares = mps_pauli_expectations(psi, {key: op.compose(op) for key, op in generic.items()})
        cross = {} if phi is None else mps_pauli_expectations(psi, generic, ket=phi)
        on_phi = {} if phi is None else mps_pauli_expectations(phi, generic)
        for key in generic:
            o_h = mu * values[key] if phi is None else float(np.real(np.conj(phase) * cross[key])) * norm
            h_o_h = norm2 * values[key] if phi is None else norm2 * on_phi[key]
            moments[key] = (values[key], squares[key], o_h, h_o_h)
    values_out, corrections, spreads = {}, {}, {}
    for key in ops:
        if key in factors:
            scale = factors[key]
            values_out[key] = scale * mu
            corrections[key] = scale * (ritz - mu)
            spreads[key] = abs(scale) * sigma
            continue
        value, second, o_h, h_o_h = moments[key]
        values_out[key] = value
        spreads[key] = math.sqrt(max(second - value * value, 0.0))
        if eigen:
            corrections[key] = 0.0
            continue
        cross_term = (o_h - mu * value) / sigma
        inner = (h_o_h - 2.0 * mu * o_h + mu * mu * value) / variance
        corrections[key] = (a * a - 1.0) * value + 2.0 * a * b * cross_term + b * b * inner
    return StateModel(energy=mu, variance=variance, ritz_energy=ritz, leaked_weight=b * b,
                      corrections=corrections, spreads=spreads, values=values_out)


def _as_pauli_sum(op: Any) -> PauliSum:
    """A PauliSum as is; a Qiskit SparsePauliOp converted (little-endian labels)."""
    if isinstance(op, PauliSum):
        return op
    n = int(op.num_qubits)
    terms = [(label, list(qubits), complex(c)) for label, qubits, c in op.to_sparse_list()]
    return PauliSum.from_sparse_list(terms, num_qubits=n)


@BACKENDS.register("tdvp")
class TDVPSimulator(AdiabaticSimulator):
    """Two-site TDVP on an MPS (TeNPy, compact MPO): long chains without a Trotter error."""

    name = "tdvp"
    label = "tdvp"
    description = "TeNPy two-site TDVP on an MPS, compact MPO, charge conserved; no Trotter error"
    max_qubits = None
    shots = "never"
    needs_circuit = False
    bond_dimension = True
    default_bond_dimension = DEFAULT_BOND_DIM
    #: No Trotter splitting: the default schedule's path at a 10× longer step (120 steps, not
    #: 1200; the midpoint-rule error is in the systematic from the 2dt rerun).
    default_dt = 0.5

    def _evolve(self, request: SimulationRequest, *, schedule: Any = None, bond_dim: int | None = None,
                progress: bool = False) -> TDVPRun:
        chi = int(bond_dim if bond_dim is not None else (request.max_bond_dimension or DEFAULT_BOND_DIM))
        return evolve_tdvp(request.model, schedule if schedule is not None else request.schedule, bond_dim=chi,
                           progress=progress)

    def simulate(self, request: SimulationRequest) -> tuple[dict[str, tuple[float, float]], float | None]:
        run = self._evolve(request, progress=request.progress)
        request.artifacts["run"] = run
        return {key: (v, 0.0) for key, v in tdvp_values(request.model, run, request.observables).items()}, None

    def systematics(self, request: SimulationRequest,
                    values: dict[str, float]) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
        """``({key: {"adiabatic", "time_step", "truncation": δ}}, description)`` (module docstring)."""
        schedule = request.schedule
        chi = int(request.max_bond_dimension or DEFAULT_BOND_DIM)
        ops = {key: op for o in request.observables for key, op in o.keyed_terms.items()}
        factors = {o.keys[0]: o.hamiltonian_factor for o in request.observables if o.hamiltonian_factor is not None}
        main_run = request.artifacts.get("run") or self._evolve(request)
        main = mps_state_model(request.model, main_run, ops, factors)
        how: dict[str, Any] = {"method": "one Lanczos step from the final MPS (qlat.quantum.systematics) and "
                                         "reruns at 2dt and chi/2", "bond_dim": chi,
                               "adiabatic": "sqrt(dO_L^2 + (eps_L sigma_O/2)^2) on the final MPS",
                               "state_model": main.summary(), "discarded_weight": main_run.discarded_weight}
        out: dict[str, dict[str, float]] = {key: {"adiabatic": main.adiabatic(key)} for key in ops}
        n_steps = int(schedule.n_steps)
        if n_steps % 2 == 0 and n_steps >= 2:
            other, factor = dataclasses.replace(schedule, dt=2 * schedule.dt), 3.0
            how["time_step"] = "|O~(dt) - O~(2dt)|/3 (second order), O~ = <O> + dO_L"
        else:
            other, factor = dataclasses.replace(schedule, dt=schedule.dt / 2), 0.75
            how["time_step"] = "|O~(dt) - O~(dt/2)|/(1 - 1/4) (second order; T/dt odd), O~ = <O> + dO_L"
        coarse = mps_state_model(request.model, self._evolve(request, schedule=other), ops, factors)
        for key in ops:
            out[key]["time_step"] = abs(main.corrected(key) - coarse.corrected(key)) / factor
        reference_chi = max(2, chi // 2)
        half_run = self._evolve(request, bond_dim=reference_chi)
        half = mps_state_model(request.model, half_run, ops, factors)
        w_chi, w_half = main_run.discarded_weight, half_run.discarded_weight
        # the line in w of every DMRG number (qlat.exact.dmrg_truncation); TDVP caps it at the bare difference
        weight = min(1.0, extrapolation_factor(w_half, w_chi, bound=w_chi > 0))
        for key in ops:
            out[key]["truncation"] = weight * abs(main.corrected(key) - half.corrected(key))
        how["truncation"] = (f"|O~(chi={chi}) - O~(chi={reference_chi})| w(chi)/(w(chi/2) - w(chi)), discarded "
                             f"weights {w_chi:.3g}, {w_half:.3g}")
        return out, how

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        """N = 6 with a 4-step schedule at χ = 8 (seconds)."""
        from qlat.quantum.adiabatic import AdiabaticSchedule

        return SchwingerModel(6, 0.5, 0.2, theta=0.3), {
            "schedule": AdiabaticSchedule(total_time=2.0, dt=0.5, ramp="sin2"), "max_bond_dimension": 8}

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
(TeNPy's ``MPO.variance``), ⟨H³⟩ and, for observables linear in the Z_n (all but the energy),
⟨ψ|Z_n H|ψ⟩ and ⟨Hψ|Z_n|Hψ⟩ from Hψ (the MPO applied exactly, bond dimension 5χ) and ⟨Z_mZ_n⟩ for
σ_O.  The deviation of ψ from the ground state — finite T, the time step and the truncation alike —
shows in these moments:

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
difference is gone).  Observables are measured
on the final MPS with the definitions of docs/conventions.md (:func:`qlat.exact.dmrg.mps_measurements`);
the energy is ⟨ψ|H_MPO|ψ⟩ of the target model.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.registry import BACKENDS
from qlat.exact.dmrg_truncation import extrapolation_factor
from qlat.quantum.simulators import AdiabaticSimulator, SimulationRequest
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:  # pragma: no cover
    from tenpy.networks.mps import MPS

    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.quantum.systematics import StateModel

__all__ = ["DEFAULT_BOND_DIM", "TDVPRun", "TDVPSimulator", "evolve_tdvp", "mps_state_model", "tdvp_values"]

#: Bond dimension of a ``tdvp`` run when none is given.
DEFAULT_BOND_DIM = 32
#: Lanczos stopping tolerance of each local exponential (TeNPy's P_tol); 1e-8 changes energies
#: at N = 16 by < 1e-10 relative to the default 1e-14 and saves ~20 % of the time.
LANCZOS_P_TOL = 1e-8
#: Singular values below this are dropped (as in the DMRG backend).
SVD_MIN = 1e-12
#: Observables measured on the final MPS.
TDVP_OBSERVABLES: tuple[str, ...] = ("energy", "energy_density", "condensate", "condensate_subtracted",
                                     "total_charge", "electric_field", "charge_density")


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


def tdvp_values(model: SchwingerModel, run: TDVPRun, keys_by_name: dict[str, list[str]]) -> dict[str, float]:
    """{key: ⟨O⟩} on the final MPS for observables ``{name: [keys]}`` (scalar: [name]; profile: name[i])."""
    from qlat.exact.dmrg import mps_measurements

    measured = mps_measurements(model, run.psi)
    out: dict[str, float] = {}
    for name, keys in keys_by_name.items():
        if name not in TDVP_OBSERVABLES:
            raise ParameterError("observables", f"the tdvp backend measures {', '.join(TDVP_OBSERVABLES)}", name)
        value = np.asarray(measured[name], dtype=float).reshape(-1)
        require(value.size == len(keys), "observables", f"{name} has {value.size} components", len(keys))
        out.update({key: float(v) for key, v in zip(keys, value)})
    return out


def _z_linear(op: Any, n_qubits: int) -> tuple[float, np.ndarray] | None:
    """(c₀, c) with op = c₀ + Σ_n c_n Z_n, or None when ``op`` has other terms."""
    from qlat.exact.sector_kernels import pauli_masks

    x_masks, z_masks, coeffs = pauli_masks(op)
    constant, linear = 0.0, np.zeros(n_qubits)
    for x, z, c in zip(x_masks, z_masks, coeffs):
        z = int(z)
        if x != 0 or (z & (z - 1)) != 0:
            return None
        if z == 0:
            constant += float(c.real)
        else:
            linear[z.bit_length() - 1] += float(c.real)
    return constant, linear


def mps_state_model(model: SchwingerModel, run: TDVPRun, ops: dict[str, Any]) -> "StateModel":
    """The one-Lanczos-step model (:class:`qlat.quantum.systematics.StateModel`) of the final MPS.

    ``ops``: {key: qubit operator}; every operator is linear in the Z_n (condensate, field, charge)
    or a multiple of H (energy, energy density: ``key`` starts with ``"energy"``).  The moments
    are exact contractions on the MPS (module docstring); Hψ is built by applying the MPO
    without truncation and brought to canonical form (which normalizes it: its norm is
    √⟨H²⟩ and its phase is fixed by ⟨ψ|Hψ⟩ = ⟨H⟩).
    """
    from tenpy.networks.mps import MPSEnvironment

    from qlat.exact.schwinger_mpo import quiet_tenpy, tenpy_model
    from qlat.quantum.systematics import StateModel, lanczos_step

    psi = run.psi
    n = model.n_sites
    with quiet_tenpy():
        hmpo = tenpy_model(model.terms()).H_MPO
        mu = float(np.real(hmpo.expectation_value(psi)))
        variance = max(float(np.real(hmpo.variance(psi))), 0.0)
        z = np.real(np.asarray(psi.expectation_value("Sigmaz"), dtype=complex))
        zz = np.real(np.asarray(psi.correlation_function("Sigmaz", "Sigmaz"), dtype=complex))
        # ⟨H²⟩ − ⟨H⟩² on the MPS cancels to ~1e-14 relative: below that ψ is an eigenstate
        eigen = variance <= 1e-13 * max(1.0, mu * mu)
        norm2 = variance + mu * mu
        mixed = np.zeros(n)
        z_phi = np.zeros(n)
        third = 0.0
        if not eigen:
            phi = psi.copy()
            hmpo.apply_naively(phi)
            phi.canonical_form()
            norm = math.sqrt(norm2)
            # canonical_form may change the global phase of Hψ: ⟨ψ|Hψ⟩ = μ fixes it
            overlap = complex(psi.overlap(phi)) * norm
            phase = overlap / mu if abs(mu) > 1e-8 * norm else 1.0
            h3 = norm2 * float(np.real(hmpo.expectation_value(phi)))
            third = h3 - 3.0 * mu * norm2 + 2.0 * mu**3
            mixed = np.real(np.conj(phase) * np.asarray(MPSEnvironment(psi, phi).expectation_value("Sigmaz"))) * norm
            z_phi = np.real(np.asarray(phi.expectation_value("Sigmaz"), dtype=complex)) * norm2
    ritz, a, b = lanczos_step(mu, 0.0 if eigen else variance, third)
    sigma = math.sqrt(variance)
    values, corrections, spreads = {}, {}, {}
    for key, op in ops.items():
        if key.startswith("energy"):
            scale = 1.0 if key == "energy" else 1.0 / model.volume
            values[key] = scale * mu
            corrections[key] = scale * (ritz - mu)
            spreads[key] = scale * sigma
            continue
        linear = _z_linear(op, n)
        require(linear is not None, "observables", "the tdvp state model needs observables linear in Z_n", key)
        assert linear is not None
        c0, c = linear
        value = c0 + float(c @ z)
        second = c0 * c0 + 2.0 * c0 * float(c @ z) + float(c @ zz @ c)
        values[key] = value
        spreads[key] = math.sqrt(max(second - value * value, 0.0))
        if eigen:
            corrections[key] = 0.0
            continue
        o_h = c0 * mu + float(c @ mixed)           # Re⟨ψ|O H|ψ⟩
        h_o_h = c0 * norm2 + float(c @ z_phi)      # ⟨Hψ|O|Hψ⟩
        cross = (o_h - mu * value) / sigma
        inner = (h_o_h - 2.0 * mu * o_h + mu * mu * value) / variance
        corrections[key] = (a * a - 1.0) * value + 2.0 * a * b * cross + b * b * inner
    return StateModel(energy=mu, variance=variance, ritz_energy=ritz, leaked_weight=b * b,
                      corrections=corrections, spreads=spreads, values=values)


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
    #: No Trotter splitting: the default schedule's path at a 10× longer step (120 steps, not
    #: 1200; the midpoint-rule error is in the systematic from the 2dt rerun).
    default_dt = 0.5

    def observables(self, target: Any) -> list[str]:
        return sorted(TDVP_OBSERVABLES) if self.supports(target) else []

    def _evolve(self, request: SimulationRequest, *, schedule: Any = None, bond_dim: int | None = None,
                progress: bool = False) -> TDVPRun:
        chi = int(bond_dim if bond_dim is not None else (request.max_bond_dimension or DEFAULT_BOND_DIM))
        return evolve_tdvp(request.model, schedule if schedule is not None else request.schedule, bond_dim=chi,
                           progress=progress)

    def simulate(self, request: SimulationRequest) -> tuple[dict[str, tuple[float, float]], float | None]:
        run = self._evolve(request, progress=request.progress)
        request.artifacts["run"] = run
        keys = {o.name: list(o.keys) for o in request.observables}
        return {key: (v, 0.0) for key, v in tdvp_values(request.model, run, keys).items()}, None

    def systematics(self, request: SimulationRequest,
                    values: dict[str, float]) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
        """``({key: {"adiabatic", "time_step", "truncation": δ}}, description)`` (module docstring)."""
        schedule = request.schedule
        chi = int(request.max_bond_dimension or DEFAULT_BOND_DIM)
        ops = {key: op for o in request.observables for key, op in zip(o.keys, o.operators)}
        main_run = request.artifacts.get("run") or self._evolve(request)
        main = mps_state_model(request.model, main_run, ops)
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
        coarse = mps_state_model(request.model, self._evolve(request, schedule=other), ops)
        for key in ops:
            out[key]["time_step"] = abs(main.corrected(key) - coarse.corrected(key)) / factor
        reference_chi = max(2, chi // 2)
        half_run = self._evolve(request, bond_dim=reference_chi)
        half = mps_state_model(request.model, half_run, ops)
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

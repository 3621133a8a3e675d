r"""Systematic error of an adiabatically prepared expectation value, from a model of the prepared state.

The adiabatic estimate ⟨O⟩(T, dt) = ⟨ψ|O|ψ⟩ differs from the ground-state value ⟨0|O|0⟩ of the
target Hamiltonian H because ψ = ψ(T, dt) is not |0⟩: a finite ramp time T leaks amplitude into
excited states, and a finite Trotter step dt makes ψ follow the ground state of an effective
Hamiltonian H + O(dt²) instead of H.  Both are deviations of the *state*; neither can be read off
⟨O⟩ alone, both show in the moments of H in ψ.  Write ψ = √(1−ε²) e^{iφ}|0⟩ + ε|χ⟩, χ ⊥ 0; then

.. math::
    E - E_0 = \varepsilon^2\langle\chi|H - E_0|\chi\rangle \ge 0, \qquad
    \sigma_H^2 = \langle H^2\rangle - \langle H\rangle^2 \approx \varepsilon^2\langle\chi|(H-E_0)^2|\chi\rangle, \qquad
    \delta O \approx 2\varepsilon\,\mathrm{Re}\,e^{-i\varphi}\langle 0|O|\chi\rangle, \; |\delta O| \lesssim 2\varepsilon\sigma_O,

so the energy error is quadratic in the leaked amplitude and every other observable's is linear in it
(with a phase that oscillates with T: the bare difference |O(T) − O(T/2)| used before overestimated the
energy error 130–215× at N = 8, T = 30 and could vanish by accident for the condensate).

**The model: one Lanczos step** (Heeb & Rice, Z. Phys. B 90, 73 (1993); Sorella, PRB 64, 024512 (2001)).
If the leaked amplitude sits in a single eigenstate |n⟩, the Krylov space {ψ, Hψ} is span{|0⟩, |n⟩} and
the lowest Ritz pair of H there is (E₀, |0⟩) exactly.  With μ = ⟨H⟩, σ_H² as above, μ₃ = ⟨(H − μ)³⟩ and
v₁ = (H − μ)ψ/σ_H,

.. math::
    K = \begin{pmatrix}\mu & \sigma_H\\ \sigma_H & \mu + \mu_3/\sigma_H^2\end{pmatrix}, \qquad
    u = a\,\psi + b\,v_1 \;(\text{lowest eigenvector of } K),

and the model's deviation of an observable and leaked weight are

.. math::
    \delta O_L = \langle u|O|u\rangle - \langle\psi|O|\psi\rangle
              = (a^2-1)\langle O\rangle + 2ab\,\mathrm{Re}\langle\psi|O|v_1\rangle + b^2\langle v_1|O|v_1\rangle,
    \qquad \varepsilon_L^2 = b^2 .

For the energy, μ − θ₀ (θ₀ the lowest Ritz value) is a rigorous lower bound on E − E₀ (θ₀ ≥ E₀); the
leakage into other directions than v₁ is bounded by the envelope ε σ_O.  The systematic sources
of every key are

- ``"adiabatic"`` = √(δO_L² + (½ ε_L σ_O)²), σ_O² = ⟨O²⟩ − ⟨O⟩² in ψ (σ_H for the energy): the
  distance of the prepared state from the ground state of H as the moments of H see it — the
  finite-T leakage *and* the Trotter dressing of the state, which the moments cannot tell apart;
- ``"trotter"`` = |Õ(dt) − Õ(2dt)|/(2^p − 1) with the model-corrected values Õ = ⟨O⟩ + δO_L (Richardson
  for a product formula of order p; with T/dt odd the step is halved, |Õ(dt) − Õ(dt/2)|/(1 − 2^{−p})):
  the dt dependence that the model's correction leaves, a check that is ≲ 10 % of the total in practice.

No exact answer enters: only ψ, H, O and a second run of the same schedule at 2dt.

**Calibration** (measured, ``qlat.analysis.calibration.adiabatic``; points N = 4–12, a ∈ [0.25, 1],
m ∈ [0, 1], θ ∈ [0, π] with 30 % within 0.3 of π, T ∈ [2, 80], dt ∈ {0.05 … 0.5}, all ramps, both
formulations, 523 points): without any warning |z| ≤ 2 for 92 % (energy), 90 % (condensate), 89 %
(electric field); on the points that do not warn (:func:`warning_messages`) 99–100 %, with a median
σ/|Δ| of 1.1 (energy, condensate) to 1.8 (electric field at the boundary).  The bare differences
used before reached the coverage goal only by being 2–40× too wide.

**Warnings** (:func:`warning_messages`; where no honest bar exists): a non-adiabatic passage through
a narrow gap (Landau–Zener probability from the gap along the path,
:func:`qlat.quantum.diagnostics.landau_zener`, e.g. θ → π at m above ~0.33, arXiv:2411.01079: the
state follows an excited branch that the moments cannot tell from the ground state, because it *is*
an eigenstate), a large estimated leaked weight ε_L², and, where the backend computes it, a low
fidelity with the exact ground state.

Cost: one statevector run at 2dt (0.5× the main run; dt/2 when T/dt is odd, 2×), and two products
of the sector Hamiltonian with the state per run (the main run's state is reused on the
``statevector`` backend) — less than the 1.0–2.5× of the former T/2 and 2dt reruns.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import require
from qlat.quantum.statevector import MAX_QUBITS as STATEVECTOR_MAX_QUBITS

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse

    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.theories.schwinger_qubit import SchwingerModel

__all__ = ["FIDELITY_WARN", "LANDAU_ZENER_WARN", "LEAKED_WEIGHT_WARN", "SYSTEMATICS_MAX_SITES", "SectorOperators", "StateModel",
           "adiabatic_systematics", "can_estimate", "lanczos_step", "path_check", "state_model",
           "warning_messages"]

#: Largest chain whose systematic errors are estimated by default (statevector reruns).
SYSTEMATICS_MAX_SITES = 22

#: Warn when the estimated leaked weight ε_L² exceeds this: the two-level model is then a rough guide.
LEAKED_WEIGHT_WARN = 0.2
#: Warn when the Landau–Zener probability of a diabatic passage at the narrowest gap exceeds this.
LANDAU_ZENER_WARN = 0.3
#: Warn when the fidelity with the exact ground state (where computed) is below this.
FIDELITY_WARN = 0.5


@dataclass(frozen=True)
class StateModel:
    """One Lanczos step from a prepared state ψ (module docstring).

    energy: μ = ⟨H⟩; variance: σ_H²; ritz_energy: θ₀, the lowest Ritz value in span{ψ, Hψ};
    leaked_weight: ε_L² = b²; corrections: δO_L per key; spreads: σ_O per key (σ_H for H-like keys).
    """

    energy: float
    variance: float
    ritz_energy: float
    leaked_weight: float
    corrections: dict[str, float]
    spreads: dict[str, float]
    values: dict[str, float]

    def adiabatic(self, key: str) -> float:
        """√(δO_L² + (½ ε_L σ_O)²) for ``key``."""
        return math.hypot(self.corrections[key], 0.5 * math.sqrt(self.leaked_weight) * self.spreads[key])

    def corrected(self, key: str) -> float:
        """Õ = ⟨O⟩ + δO_L, the value the model assigns to the ground state."""
        return self.values[key] + self.corrections[key]

    def summary(self) -> dict[str, float]:
        return {"energy": self.energy, "energy_variance": self.variance, "ritz_energy": self.ritz_energy,
                "leaked_weight": self.leaked_weight}


def lanczos_step(energy: float, variance: float, third_moment: float) -> tuple[float, float, float]:
    r"""(θ₀, a, b): lowest Ritz value and vector u = aψ + b v₁ of the 2×2 Krylov matrix K (module docstring).

    ``third_moment`` is μ₃ = ⟨(H − μ)³⟩.  With σ_H² = 0 the state is an eigenstate: (μ, 1, 0).
    """
    if not variance > 0.0:
        return float(energy), 1.0, 0.0
    beta = math.sqrt(variance)
    kmat = np.array([[energy, beta], [beta, energy + third_moment / variance]])
    values, vectors = np.linalg.eigh(kmat)
    a, b = vectors[:, 0]
    if a < 0:
        a, b = -a, -b
    return float(values[0]), float(a), float(b)


def _sector_operator(op: Any, basis: np.ndarray) -> scipy.sparse.csr_matrix:
    """The Pauli operator ``op`` (PauliSum or SparsePauliOp) as a sparse matrix on a sorted sector basis.

    Entry (k, k ⊕ x) of a term c Z^z X^x is c (−1)^{|k ∧ z|} (the convention of
    :mod:`qlat.exact.sector_operators`); terms that leave the sector are dropped.
    """
    import scipy.sparse

    from qlat.exact.sector_operators import pauli_masks

    x_masks, z_masks, coeffs = pauli_masks(op)
    dim = basis.size
    diag = np.zeros(dim, dtype=complex)
    rows, cols, vals = [], [], []
    index = np.arange(dim)
    for x, z, c in zip(x_masks, z_masks, coeffs):
        sign = 1 - 2 * (np.bitwise_count(basis & z).astype(np.int64) & 1)
        if x == 0:
            diag += c * sign
            continue
        partner = basis ^ x
        pos = np.minimum(np.searchsorted(basis, partner), dim - 1)
        inside = basis[pos] == partner
        rows.append(index[inside])
        cols.append(pos[inside])
        vals.append(c * sign[inside])
    matrix = scipy.sparse.diags(diag.real if not np.any(diag.imag) else diag, format="csr")
    if rows:
        off = scipy.sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                      shape=(dim, dim)).tocsr()
        matrix = matrix + off
    return matrix.tocsr()


@dataclass(frozen=True)
class SectorOperators:
    """H and the observables as sparse matrices on the zero-charge sector (built once per model)."""

    hamiltonian: Any
    basis: np.ndarray
    matrices: dict[str, Any]

    @classmethod
    def of(cls, model: "SchwingerModel", ops: Mapping[str, Any]) -> "SectorOperators":
        from qlat.exact.diagonalization import sparse_hamiltonian

        hamiltonian, basis = sparse_hamiltonian(model.terms(), sector="physical")
        return cls(hamiltonian, basis, {key: _sector_operator(op, basis) for key, op in ops.items()})


def state_model(model: "SchwingerModel", state: np.ndarray, ops: Mapping[str, Any], *,
                operators: SectorOperators | None = None) -> StateModel:
    """The one-Lanczos-step model of the full 2^N ``state`` for the operators ``ops`` {key: Pauli op}.

    The state must lie in the zero-charge sector (every adiabatic evolution from the bare vacuum
    does); H is the sector Hamiltonian of ``model`` (:func:`qlat.exact.diagonalization.sparse_hamiltonian`).
    ``operators``: the sector matrices if already built (:meth:`SectorOperators.of`).
    """
    state = np.asarray(state, dtype=complex).reshape(-1)
    require(state.size == 1 << model.n_qubits, "state", f"must have length 2^{model.n_qubits}", state.size)
    if operators is None:
        operators = SectorOperators.of(model, ops)
    hamiltonian, basis = operators.hamiltonian, operators.basis
    psi = state[basis]
    require(abs(np.vdot(psi, psi).real - 1.0) < 1e-8, "state", "must be a normalized state in the zero-charge sector",
            float(np.vdot(psi, psi).real))
    h_psi = hamiltonian @ psi
    mu = float(np.vdot(psi, h_psi).real)
    residual = h_psi - mu * psi  # (H − μ)ψ: its norm² is σ_H² without the cancellation of ⟨H²⟩ − μ²
    variance = float(np.vdot(residual, residual).real)
    # below rounding (relative to the energy scale) the state is an eigenstate to working precision
    eigen = variance <= 1e-24 * max(1.0, mu * mu)
    if eigen:
        v1 = np.zeros_like(psi)
        third = 0.0
    else:
        v1 = residual / math.sqrt(variance)
        third = float(np.vdot(v1, hamiltonian @ v1).real - mu) * variance  # μ₃ = σ_H²(⟨v₁|H|v₁⟩ − μ)
    ritz, a, b = lanczos_step(mu, 0.0 if eigen else variance, third)
    values, corrections, spreads = {}, {}, {}
    for key in ops:
        matrix = operators.matrices[key]
        o_psi = matrix @ psi
        value = float(np.vdot(psi, o_psi).real)
        spread = math.sqrt(max(float(np.vdot(o_psi, o_psi).real) - value * value, 0.0))
        cross = float(np.vdot(o_psi, v1).real)
        inner = float(np.vdot(v1, matrix @ v1).real)
        values[key] = value
        corrections[key] = (a * a - 1.0) * value + 2.0 * a * b * cross + b * b * inner
        spreads[key] = spread
    return StateModel(energy=mu, variance=0.0 if eigen else variance, ritz_energy=ritz, leaked_weight=b * b,
                      corrections=corrections, spreads=spreads, values=values)


def _state(model: "SchwingerModel", schedule: "AdiabaticSchedule", order: int) -> np.ndarray:
    from qlat.quantum.statevector import evolve_statevector

    return evolve_statevector(model, schedule, order=order)


def adiabatic_systematics(
    model: "SchwingerModel",
    schedule: "AdiabaticSchedule",
    ops: Mapping[str, Any],
    *,
    order: int,
    state: np.ndarray | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """``({key: {"adiabatic": δ, "trotter": δ}}, description)`` for the operators ``ops`` (module docstring).

    ``state`` is the statevector of the schedule at (T, dt) if already computed (saves one run).
    The description holds the methods, the model's numbers (energy variance, Ritz energy, leaked
    weight ε_L²) and the schedule of the second run.
    """
    n_steps = int(schedule.n_steps)
    operators = SectorOperators.of(model, ops)
    main = state_model(model, state if state is not None else _state(model, schedule, order), ops,
                       operators=operators)
    if n_steps % 2 == 0 and n_steps >= 2:
        other_schedule = dataclasses.replace(schedule, dt=2 * schedule.dt)
        factor = 2.0**order - 1.0
        trotter_how = f"|O~(dt) - O~(2dt)|/(2^{order} - 1), 2dt = {other_schedule.dt:g}, O~ = <O> + dO_L"
    else:
        other_schedule = dataclasses.replace(schedule, dt=schedule.dt / 2)
        factor = 1.0 - 2.0**-order
        trotter_how = f"|O~(dt) - O~(dt/2)|/(1 - 2^-{order}), dt/2 = {other_schedule.dt:g}, O~ = <O> + dO_L"
    other = state_model(model, _state(model, other_schedule, order), ops, operators=operators)
    sources = {key: {"adiabatic": main.adiabatic(key),
                     "trotter": abs(main.corrected(key) - other.corrected(key)) / factor} for key in ops}
    how = {
        "adiabatic": "one Lanczos step from the prepared state: sqrt(dO_L^2 + (eps_L sigma_O/2)^2) "
                     "(finite-T leakage and Trotter dressing of the state; qlat.quantum.systematics)",
        "trotter": trotter_how,
        "simulator": "statevector",
        "state_model": main.summary(),
    }
    return sources, how


#: Chains longer than this are checked for a narrow gap on a chain of this many sites with the same
#: couplings and schedule (the avoided crossings near θ = π narrow with N, so the probability on the
#: shorter chain is a lower bound in practice; measured at N = 14 against N = 6 … 12).
PATH_CHECK_SITES = 12


def path_check(model: "SchwingerModel", schedule: "AdiabaticSchedule") -> dict[str, Any]:
    """:func:`qlat.quantum.diagnostics.landau_zener` on ``model``, or on a :data:`PATH_CHECK_SITES`-site
    chain with the same couplings and schedule when ``model`` is longer (``"n_sites"`` says which)."""
    from qlat.quantum.diagnostics import landau_zener

    check = model
    if model.n_sites > PATH_CHECK_SITES:
        check = dataclasses.replace(model, n_sites=PATH_CHECK_SITES)
    out = landau_zener(check, schedule)
    return {**out, "proxy": check is not model}


def warning_messages(
    *,
    leaked_weight: float | None = None,
    landau_zener: Mapping[str, Any] | None = None,
    fidelity: float | None = None,
) -> list[str]:
    """The reasons an adiabatic estimate's error bar cannot be trusted (empty when there are none).

    ``leaked_weight``: ε_L² of the state model (> :data:`LEAKED_WEIGHT_WARN` warns);
    ``landau_zener``: the result of :func:`qlat.quantum.diagnostics.landau_zener` (probability >
    :data:`LANDAU_ZENER_WARN` warns); ``fidelity``: |⟨E₀|ψ⟩|² where the backend computes it (<
    :data:`FIDELITY_WARN` warns).  None skips a criterion.
    """
    out = []
    if landau_zener is not None and landau_zener.get("probability", 0.0) > LANDAU_ZENER_WARN:
        lz = landau_zener
        out.append(f"non-adiabatic passage: the gap along the path narrows to {lz['min_gap']:.3g} at t/T = "
                   f"{lz['u_min']:.3f}, Landau-Zener probability {lz['probability']:.2f} of leaving the ground "
                   "state there; the state may follow an excited branch that its energy variance cannot "
                   "reveal (longer T, another path, or a ground-state method)")
    if leaked_weight is not None and leaked_weight > LEAKED_WEIGHT_WARN:
        out.append(f"the prepared state has an estimated leaked weight {leaked_weight:.2f} (one Lanczos step "
                   "from its energy variance): far from adiabatic, the systematic error is a rough guide")
    if fidelity is not None and fidelity < FIDELITY_WARN:
        out.append(f"fidelity with the exact ground state {fidelity:.3f} < {FIDELITY_WARN}: the prepared state "
                   "is not the ground state")
    return out


def can_estimate(model: "SchwingerModel") -> bool:
    """Whether the default estimate is affordable (statevector reruns of the chain)."""
    return model.n_qubits <= min(SYSTEMATICS_MAX_SITES, STATEVECTOR_MAX_QUBITS)

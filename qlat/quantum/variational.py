r"""Scalable variational vacuum preparation: SC-ADAPT-VQE (Farrell, Illa, Ciavarella, Savage).

Farrell et al. (arXiv:2308.04481; used at 112 qubits in arXiv:2401.08044) prepare the Schwinger
vacuum on 100+ qubits with *scalable circuits*: an ADAPT-VQE (Grimsley et al., Nat. Commun. 10,
3007 (2019)) whose operator pool holds only *translationally invariant* operators, run on small
chains by exact classical simulation; the parameters converge quickly with the chain length
(the vacuum has a finite correlation length) and are extrapolated to the large chain, where the
same circuit structure is simply repeated.  This module is qlat's version of that procedure.

Pool.  With the Jordan–Wigner strings of qlat's convention (qubit |0⟩ = occupied), the
fermion-number-conserving, real (time-reversal even) hop between sites a < b = a + d is

.. math::
    O_{ab} = \tfrac12\bigl(X_a Z_{a+1}\cdots Z_{b-1} Y_b - Y_a Z_{a+1}\cdots Z_{b-1} X_b\bigr),

and the pool holds, for each distance d, the uniform and the staggered sums

.. math::
    \Theta_h(d) = \sum_{a=0}^{N-1-d} O_{a,a+d}, \qquad \Theta_{mh}(d) = \sum_{a=0}^{N-1-d} (-1)^a O_{a,a+d}

(names ``h<d>`` and ``mh<d>``; the staggered one moves a fermion from an odd, occupied site of the
bare vacuum onto an even one: the pair creation that dresses the vacuum, Farrell's Θ_mh).  Its
element for parameter θ is the circuit

.. math::
    U_k(\theta) = \prod_{a \in B} e^{i\theta c_a O_{a,a+d}} \prod_{a \in A} e^{i\theta c_a O_{a,a+d}},
    \quad A = \{a : \lfloor a/d \rfloor \text{ even}\},\; B = \{a : \lfloor a/d \rfloor \text{ odd}\},

(A applied first); the hops inside A (inside B) move disjoint fermion modes and commute, so each
product is exact and the ordering is part of the ansatz's definition, the same on every N.  On
the two states |q_a q_b⟩ = |10⟩, |01⟩ that it mixes, e^{iθO_ab} is the real rotation
|10⟩ → cos(sθ)|10⟩ − sin(sθ)|01⟩, |01⟩ → cos(sθ)|01⟩ + sin(sθ)|10⟩, with s = ±1 the eigenvalue of
the Z string — so the prepared state is real and stays in the zero-charge sector.

Ansatz.  |ψ(θ)⟩ = U_K(θ_K) ⋯ U_1(θ_1) |bare vacuum⟩.

Training (:func:`train_ansatz`).  ADAPT on the largest training chain picks K operators one at a
time (the largest |∂E/∂θ| at θ = 0, then all parameters re-optimized by BFGS on the exact
energy); then the parameters are optimized on every training chain (warm-started), exactly, in
the zero-charge sector (C(N, N/2) amplitudes; ED-sized chains).  Parameter extrapolation: the
open chain's boundary contributes O(1/N) to the energy density, and the optimal parameters were
measured to move like 1/N (a = 1, m = 0.5: θ₁ = −0.2594, −0.2572, −0.2561, −0.2553 at N = 6 … 12),
so each θ_k(N) is fitted by α_k + β_k/N over the training sizes and evaluated at the target N.

Error the ansatz leaves.  At every training size the ansatz's values are compared with exact
diagonalization; the deviation Δ(N) is extrapolated to the target N by the same 1/N form (× N for
the extensive energy) and reported as the systematic source ``"variational"`` (never smaller than
the deviation at the largest training size); the effect of the parameter extrapolation itself,
|O(θ_fit(N)) − O(θ(N_train,max))|, is the source ``"extrapolation"``.  Both are computed from what
the estimator has (small-chain ED), never from the answer at the target N.

Circuits.  :meth:`ScalableAnsatz.circuit` writes each e^{iθcO_ab} as two commuting Pauli
rotations with nearest-neighbour CNOT ladders over a … b, so the circuit needs only a line of
qubits (:mod:`qlat.quantum.ibm.compile` places it on the device's best line); θ may be a circuit
``Parameter`` (ODR's calibration circuit binds it to 0).  :func:`qlat.quantum.aer.mps_expectations`
evaluates it beyond exact-diagonalization sizes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate
from qlat.core.registry import BACKENDS
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_bits, bare_vacuum_index

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

__all__ = [
    "POOL_KINDS",
    "AnsatzSimulator",
    "PoolOperator",
    "ScalableAnsatz",
    "TrainedAnsatz",
    "VariationalBackend",
    "pool",
    "train_ansatz",
]

#: ``h``: uniform sum of hops; ``mh``: staggered sum (module docstring).
POOL_KINDS: tuple[str, ...] = ("h", "mh")
#: Hop distances of the default pool.
DEFAULT_DISTANCES: tuple[int, ...] = (1, 2, 3)
#: Default training chains and number of operators.
DEFAULT_TRAIN_SIZES: tuple[int, ...] = (6, 8, 10, 12)
DEFAULT_OPERATORS = 3
#: Largest chain trained or evaluated exactly in the zero-charge sector (C(20, 10) = 184 756 amplitudes).
SECTOR_MAX_SITES = 20
#: Convergence of the BFGS parameter optimization (gradient norm).
OPTIMIZER_GTOL = 1e-8
_FD_STEP = 1e-6


# --------------------------------------------------------------------------------- the pool
@dataclass(frozen=True)
class PoolOperator:
    """Θ_h(d) (``kind="h"``) or Θ_mh(d) (``kind="mh"``) of the module docstring."""

    kind: str
    distance: int

    def __post_init__(self) -> None:
        if self.kind not in POOL_KINDS:
            raise ParameterError("kind", f"must be one of {', '.join(POOL_KINDS)}", self.kind)
        require(isinstance(self.distance, (int, np.integer)) and self.distance >= 1, "distance",
                "must be an integer >= 1", self.distance)

    @property
    def name(self) -> str:
        return f"{self.kind}{self.distance}"

    @classmethod
    def parse(cls, name: str) -> PoolOperator:
        """``"mh1"`` → PoolOperator("mh", 1)."""
        text = str(name).strip()
        kind = text.rstrip("0123456789")
        digits = text[len(kind):]
        if kind not in POOL_KINDS or not digits:
            raise ParameterError("operator", f"must be a pool name like mh1 or h3 (kinds {', '.join(POOL_KINDS)})",
                                 name)
        return cls(kind, int(digits))

    def hops(self, n_sites: int) -> list[tuple[int, float]]:
        """[(a, c_a)] in application order: the set A, then B (module docstring)."""
        d = int(self.distance)
        starts = range(n_sites - d)
        order = [a for a in starts if (a // d) % 2 == 0] + [a for a in starts if (a // d) % 2 == 1]
        return [(a, (-1.0) ** a if self.kind == "mh" else 1.0) for a in order]


def pool(distances: Sequence[int] = DEFAULT_DISTANCES) -> tuple[PoolOperator, ...]:
    """The pool Θ_h(d), Θ_mh(d) for each distance d."""
    require(len(distances) >= 1, "distances", "must name at least one hop distance", distances)
    return tuple(PoolOperator(kind, int(d)) for d in distances for kind in POOL_KINDS)


# --------------------------------------------------------------------------------- exact simulation
class AnsatzSimulator:
    """The ansatz on the zero-charge sector of ``model`` (exact; N ≤ :data:`SECTOR_MAX_SITES`)."""

    def __init__(self, model: SchwingerModel) -> None:
        from qlat.exact.diagonalization import sparse_hamiltonian

        require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
        require(model.n_sites <= SECTOR_MAX_SITES, "n_sites",
                f"the exact ansatz simulation is limited to N <= {SECTOR_MAX_SITES}", model.n_sites)
        self.model = model
        self.n = int(model.n_sites)
        self.hamiltonian, self.basis = sparse_hamiltonian(model.terms(), sector="physical")
        self.initial = np.zeros(self.basis.size)
        self.initial[int(np.searchsorted(self.basis, bare_vacuum_index(self.n)))] = 1.0
        self._pairs: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _pair(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(i, j, s): sector rows with (bit a, bit b) = (1, 0), their partners (0, 1), Z-string signs."""
        key = (a, b)
        if key not in self._pairs:
            basis = self.basis
            rows = np.flatnonzero((((basis >> a) & 1) == 1) & (((basis >> b) & 1) == 0))
            partner = basis[rows] ^ ((1 << a) | (1 << b))
            cols = np.searchsorted(basis, partner)
            between = ((1 << b) - 1) ^ ((1 << (a + 1)) - 1)
            signs = 1.0 - 2.0 * (np.bitwise_count(basis[rows] & between) & 1).astype(float)
            self._pairs[key] = (rows, cols, signs)
        return self._pairs[key]

    def apply(self, psi: np.ndarray, operator: PoolOperator, theta: float) -> np.ndarray:
        """U_k(θ)|ψ⟩ (a new array)."""
        out = np.array(psi, dtype=float, copy=True)
        d = operator.distance
        for a, c in operator.hops(self.n):
            rows, cols, signs = self._pair(a, a + d)
            angle = theta * c * signs
            cos, sin = np.cos(angle), np.sin(angle)
            x, y = out[rows], out[cols]
            out[rows] = cos * x + sin * y  # |10⟩ → cos|10⟩ − sin|01⟩, |01⟩ → cos|01⟩ + sin|10⟩
            out[cols] = cos * y - sin * x
        return out

    def state(self, operators: Sequence[PoolOperator], parameters: Sequence[float] | np.ndarray) -> np.ndarray:
        """|ψ(θ)⟩ on the sector basis (real, normalized)."""
        require(len(operators) == len(parameters), "parameters", f"must have one value per operator ({len(operators)})",
                len(parameters))
        psi = self.initial
        for op, theta in zip(operators, parameters):
            psi = self.apply(psi, op, float(theta))
        return psi

    def energy(self, operators: Sequence[PoolOperator], parameters: Sequence[float] | np.ndarray) -> float:
        psi = self.state(operators, parameters)
        return float(psi @ (self.hamiltonian @ psi))

    def full_state(self, operators: Sequence[PoolOperator], parameters: Sequence[float] | np.ndarray) -> np.ndarray:
        """|ψ(θ)⟩ as a 2^N complex128 vector (little-endian, as Qiskit)."""
        out = np.zeros(1 << self.n, dtype=np.complex128)
        out[self.basis] = self.state(operators, parameters)
        return out

    def expectations(self, psi: np.ndarray, operators: Mapping[str, Any]) -> dict[str, float]:
        """{key: ⟨ψ|O|ψ⟩} for a sector vector and PauliSum/SparsePauliOp operators."""
        from qlat.exact.diagonalization import SectorSpectrum, sector_expectations

        spectrum = SectorSpectrum(energies=np.zeros(1), vectors=np.asarray(psi, dtype=float)[:, None],
                                  basis=self.basis, sector="physical", n_qubits=self.n)
        return sector_expectations(spectrum, operators)

    def optimize(self, operators: Sequence[PoolOperator], initial: Sequence[float] | np.ndarray) -> np.ndarray:
        """Parameters minimizing ⟨H⟩ (BFGS, central-difference gradients of the exact energy)."""
        from scipy.optimize import minimize

        ops = list(operators)

        def fun(x: np.ndarray) -> float:
            return self.energy(ops, x)

        def jac(x: np.ndarray) -> np.ndarray:
            g = np.empty_like(x)
            for k in range(x.size):
                e = np.zeros_like(x)
                e[k] = _FD_STEP
                g[k] = (fun(x + e) - fun(x - e)) / (2 * _FD_STEP)
            return g

        result = minimize(fun, np.asarray(initial, dtype=float), jac=jac, method="BFGS",
                          options={"gtol": OPTIMIZER_GTOL, "maxiter": 500})
        return np.asarray(result.x, dtype=float)

    def gradient(self, operators: Sequence[PoolOperator], parameters: Sequence[float] | np.ndarray,
                 candidate: PoolOperator) -> float:
        """∂E/∂θ at θ = 0 of ``candidate`` appended to the ansatz (ADAPT's selection rule)."""
        ops = [*operators, candidate]
        plus = self.energy(ops, [*parameters, _FD_STEP])
        minus = self.energy(ops, [*parameters, -_FD_STEP])
        return (plus - minus) / (2 * _FD_STEP)


# --------------------------------------------------------------------------------- the ansatz
@dataclass(frozen=True)
class ScalableAnsatz:
    """K pool operators and their parameters: the circuit U_K(θ_K) ⋯ U_1(θ_1)|bare vacuum⟩.

    Passed to :func:`qlat.quantum.ibm.backend.run_on_device` as ``preparation=`` it replaces the
    adiabatic schedule on the device path.
    """

    operators: tuple[PoolOperator, ...]
    parameters: tuple[float, ...]
    source: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        require(len(self.operators) >= 1, "operators", "must hold at least one pool operator", len(self.operators))
        require(len(self.operators) == len(self.parameters), "parameters",
                f"must have one value per operator ({len(self.operators)})", len(self.parameters))
        for p in self.parameters:
            require(math.isfinite(float(p)), "parameters", "must be finite numbers", p)

    @property
    def n_steps(self) -> int:
        """Number of ansatz layers (what reports call steps)."""
        return len(self.operators)

    def to_dict(self) -> dict[str, Any]:
        return {"preparation": "sc-adapt-vqe", "operators": [op.name for op in self.operators],
                "parameters": [float(p) for p in self.parameters], "n_steps": self.n_steps, **dict(self.source)}

    def describe(self) -> str:
        ops = ", ".join(f"{op.name}({p:+.4f})" for op, p in zip(self.operators, self.parameters))
        return f"SC-ADAPT-VQE ansatz, {self.n_steps} operators: {ops}"

    def state(self, model: SchwingerModel) -> np.ndarray:
        """The prepared 2^N state (exact, N ≤ :data:`SECTOR_MAX_SITES`)."""
        return AnsatzSimulator(model).full_state(self.operators, self.parameters)

    def circuit(self, n_sites: int, *, parameters: Sequence[Any] | None = None, measure: bool = False
                ) -> QuantumCircuit:
        """The preparation circuit on ``n_sites`` qubits (nearest-neighbour two-qubit gates only).

        ``parameters`` replaces the stored values (e.g. circuit ``Parameter`` objects); ``measure``
        appends a measurement of qubit n into classical bit n.
        """
        from qiskit import QuantumCircuit

        values = list(self.parameters if parameters is None else parameters)
        require(len(values) == self.n_steps, "parameters", f"must have one value per operator ({self.n_steps})",
                len(values))
        n = int(n_sites)
        require(n >= 2 and n % 2 == 0, "n_sites", "must be an even integer >= 2", n_sites)
        qc = QuantumCircuit(n, n if measure else 0, name=f"sc_adapt_vqe_N{n}")
        for q, bit in enumerate(bare_vacuum_bits(n)):
            if bit:
                qc.x(q)
        for op, theta in zip(self.operators, values):
            for a, c in op.hops(n):
                _hop_rotation(qc, a, a + op.distance, theta * c)
        if measure:
            qc.barrier()
            qc.measure(range(n), range(n))
        return qc

    def logical_circuit(self, model: SchwingerModel, *, parameters: Sequence[Any] | None = None
                        ) -> tuple[QuantumCircuit, list[int]]:
        """``(circuit, pos)`` as :func:`qlat.quantum.ibm.compile.logical_circuit`: no swaps, pos = identity."""
        return self.circuit(model.n_sites, parameters=parameters), list(range(model.n_sites))


def _pauli_rotation(qc: QuantumCircuit, a: int, b: int, first: str, last: str, angle: Any) -> None:
    """exp(−i (angle/2) P_a Z_{a+1}…Z_{b−1} P_b) with nearest-neighbour CNOT ladders (P ∈ {X, Y})."""
    def to_z(q: int, pauli: str) -> None:
        if pauli == "X":
            qc.h(q)
        else:  # (H·Sdg)† Z (H·Sdg) = Y
            qc.sdg(q)
            qc.h(q)

    def back(q: int, pauli: str) -> None:
        qc.h(q)
        if pauli == "Y":
            qc.s(q)

    to_z(a, first)
    to_z(b, last)
    for q in range(a, b):
        qc.cx(q, q + 1)
    qc.rz(angle, b)
    for q in range(b - 1, a - 1, -1):
        qc.cx(q, q + 1)
    back(a, first)
    back(b, last)


def _hop_rotation(qc: QuantumCircuit, a: int, b: int, theta: Any) -> None:
    """e^{iθ O_ab}.

    Neighbours (b = a + 1): XY − YX = S_b (XX + YY) S_b†, and e^{−iφ(XX+YY)/2} (φ = −θ) in two
    CNOTs as in :mod:`qlat.quantum.trotter`: SX_a, CX_ab, RX_a(φ) RY_b(φ), CX_ab, SX†_a.
    Farther: e^{i(θ/2) X…Y} e^{−i(θ/2) Y…X} (the two strings commute), CNOT ladders.
    """
    if b == a + 1:
        qc.sdg(b)
        qc.sx(a)
        qc.cx(a, b)
        qc.rx(-theta, a)
        qc.ry(-theta, b)
        qc.cx(a, b)
        qc.sxdg(a)
        qc.s(b)
        return
    _pauli_rotation(qc, a, b, "X", "Y", -theta)
    _pauli_rotation(qc, a, b, "Y", "X", theta)


# --------------------------------------------------------------------------------- training
def _training_model(model: SchwingerModel, n_sites: int) -> SchwingerModel:
    return replace(model, n_sites=int(n_sites))


def _key_operators(model: SchwingerModel, names: Sequence[str]) -> dict[str, tuple[str, str, Any]]:
    """{key: (observable name, unit, PauliSum)} for the scalar observables ``names``."""
    from qlat.theories.schwinger_observables import qubit_observable

    out: dict[str, tuple[str, str, Any]] = {}
    for name in names:
        obs = qubit_observable(name, model)
        for key, term in zip(obs.keys, obs.terms):
            out[key] = (name, obs.unit, term)
    return out


#: Observables whose deviation grows with N (extrapolated × N rather than in 1/N).
EXTENSIVE = frozenset({"energy"})
#: Observables recorded at every training size.
TRAINING_OBSERVABLES: tuple[str, ...] = ("energy", "energy_density", "condensate")


def _fit_inverse_n(sizes: Sequence[int], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares α + β/N per column of ``values`` (sizes × k); one size: β = 0."""
    ns = np.asarray(sizes, dtype=float)
    vals = np.asarray(values, dtype=float).reshape(ns.size, -1)
    if ns.size == 1:
        return vals[0].copy(), np.zeros(vals.shape[1])
    design = np.stack([np.ones_like(ns), 1.0 / ns], axis=1)
    coef, *_ = np.linalg.lstsq(design, vals, rcond=None)
    return coef[0], coef[1]


@dataclass(frozen=True)
class TrainedAnsatz:
    """The outcome of :func:`train_ansatz`: operators, per-size parameters, the 1/N fit, the training errors.

    sizes: the training chains; parameters: (len(sizes), K) optimal θ per size; fit_constant,
    fit_slope: α_k, β_k of θ_k(N) = α_k + β_k/N; errors: {size: {observable: value − ED}};
    fidelity: {size: |⟨E₀|ψ⟩|²}; gradients: the ADAPT gradient of each chosen operator.
    """

    model: SchwingerModel
    operators: tuple[PoolOperator, ...]
    sizes: tuple[int, ...]
    parameters: np.ndarray
    fit_constant: np.ndarray
    fit_slope: np.ndarray
    errors: dict[int, dict[str, float]]
    fidelity: dict[int, float]
    gradients: tuple[float, ...]

    def parameters_at(self, n_sites: int) -> np.ndarray:
        """θ(N): the optimized values at a training size, else the 1/N fit evaluated at N."""
        if int(n_sites) in self.sizes:
            return np.asarray(self.parameters[self.sizes.index(int(n_sites))], dtype=float)
        return self.fit_constant + self.fit_slope / float(n_sites)

    def ansatz(self, n_sites: int) -> ScalableAnsatz:
        """The ansatz with θ(N) for a chain of ``n_sites``."""
        source = {"trained_on": list(self.sizes), "parameters_from": "optimized at this N" if int(n_sites) in self.sizes
                  else "fit alpha + beta/N over the training sizes"}
        return ScalableAnsatz(self.operators, tuple(float(p) for p in self.parameters_at(n_sites)), source=source)

    def largest_size_ansatz(self) -> ScalableAnsatz:
        """The ansatz with the parameters of the largest training chain (the extrapolation check)."""
        return ScalableAnsatz(self.operators, tuple(float(p) for p in self.parameters[-1]),
                              source={"parameters_from": f"optimized at N = {self.sizes[-1]}"})

    def predicted_error(self, key: str, n_sites: int) -> float:
        """|Δ| extrapolated to ``n_sites``: max(|Δ(N_max)|, |fit of Δ at N|) (module docstring)."""
        deltas = np.array([self.errors[n][key] for n in self.sizes])
        scale = np.asarray(self.sizes, dtype=float) if key in EXTENSIVE else np.ones(len(self.sizes))
        alpha, beta = _fit_inverse_n(self.sizes, deltas / scale)
        factor = float(n_sites) if key in EXTENSIVE else 1.0
        fitted = abs(float(alpha[0] + beta[0] / float(n_sites)) * factor)
        return max(abs(float(deltas[-1])) * (float(n_sites) / self.sizes[-1] if key in EXTENSIVE else 1.0), fitted)

    def to_dict(self) -> dict[str, Any]:
        return {"operators": [op.name for op in self.operators], "sizes": list(self.sizes),
                "parameters": [[float(x) for x in row] for row in self.parameters],
                "fit": {"constant": [float(x) for x in self.fit_constant], "slope_1_over_N": [float(x) for x in
                                                                                           self.fit_slope]},
                "errors_vs_ed": {str(n): dict(v) for n, v in self.errors.items()},
                "fidelity": {str(n): float(v) for n, v in self.fidelity.items()},
                "adapt_gradients": [float(g) for g in self.gradients]}

    def table(self) -> str:
        """One line per training size: parameters, fidelity, energy and condensate errors vs ED."""
        lines = [f"SC-ADAPT-VQE training ({', '.join(op.name for op in self.operators)}):"]
        for i, n in enumerate(self.sizes):
            params = " ".join(f"{p:+.5f}" for p in self.parameters[i])
            err = self.errors[n]
            lines.append(f"  N = {n:3d}  theta = {params}  fidelity {self.fidelity[n]:.5f}  "
                         f"energy - ED {err['energy']:+.2e}  condensate - ED {err['condensate']:+.2e}")
        return "\n".join(lines)


def train_ansatz(
    model: SchwingerModel,
    *,
    sizes: Sequence[int] = DEFAULT_TRAIN_SIZES,
    n_operators: int = DEFAULT_OPERATORS,
    distances: Sequence[int] = DEFAULT_DISTANCES,
    operators: Sequence[str | PoolOperator] | None = None,
) -> TrainedAnsatz:
    """SC-ADAPT-VQE on small chains with ``model``'s a, m, θ, g, formulation (its N is ignored).

    ``operators``: a fixed operator sequence (names like ``"mh1"``) instead of ADAPT's choice.
    """
    from qlat.exact.diagonalization import lowest_eigenpairs

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    sizes = tuple(int(n) for n in sizes)
    require(len(sizes) >= 1 and len(set(sizes)) == len(sizes) and list(sizes) == sorted(sizes), "sizes",
            "must be distinct increasing chain lengths", sizes)
    for n in sizes:
        require(n >= 4 and n % 2 == 0 and n <= SECTOR_MAX_SITES, "sizes",
                f"must be even chain lengths in [4, {SECTOR_MAX_SITES}]", n)
    candidates = pool(distances)
    for op in candidates:
        require(op.distance < sizes[0], "distances", f"must be shorter than the smallest training chain ({sizes[0]})",
                op.distance)
    largest = AnsatzSimulator(_training_model(model, sizes[-1]))
    chosen: list[PoolOperator] = []
    gradients: list[float] = []
    params: list[float] = []
    if operators is not None:
        chosen = [op if isinstance(op, PoolOperator) else PoolOperator.parse(op) for op in operators]
        require(len(chosen) >= 1, "operators", "must name at least one pool operator", operators)
        params = list(largest.optimize(chosen, np.zeros(len(chosen))))
    else:
        require(isinstance(n_operators, int) and 1 <= n_operators <= 20, "n_operators", "must be an integer in [1, 20]",
                n_operators)
        for _ in range(n_operators):
            grads = [largest.gradient(chosen, params, cand) for cand in candidates]
            best = int(np.argmax(np.abs(grads)))
            chosen.append(candidates[best])
            gradients.append(float(grads[best]))
            params = list(largest.optimize(chosen, [*params, 0.0]))
    per_size = []
    errors: dict[int, dict[str, float]] = {}
    fidelity: dict[int, float] = {}
    warm = np.asarray(params, dtype=float)
    for n in sizes:
        sim = largest if n == sizes[-1] else AnsatzSimulator(_training_model(model, n))
        theta = sim.optimize(chosen, warm)
        per_size.append(theta)
        psi = sim.state(chosen, theta)
        _, vectors = lowest_eigenpairs(sim.hamiltonian, 1)
        ground = vectors[:, 0]
        ops = {k: term for k, (_, _, term) in _key_operators(sim.model, TRAINING_OBSERVABLES).items()}
        mine = sim.expectations(psi, ops)
        exact = sim.expectations(ground, ops)
        errors[n] = {k: float(mine[k] - exact[k]) for k in ops}
        fidelity[n] = float((psi @ ground) ** 2)
    table = np.asarray(per_size, dtype=float)
    alpha, beta = _fit_inverse_n(sizes, table)
    return TrainedAnsatz(model=model, operators=tuple(chosen), sizes=sizes, parameters=table, fit_constant=alpha,
                         fit_slope=beta, errors=errors, fidelity=fidelity, gradients=tuple(gradients))


# --------------------------------------------------------------------------------- the backend
def _evaluate(ansatz: ScalableAnsatz, model: SchwingerModel, ops: Mapping[str, Any], *,
              max_bond_dimension: int | None) -> tuple[dict[str, float], str]:
    """⟨O⟩ on the ansatz state: exact in the sector (N ≤ 20) or Aer's MPS simulator of the circuit."""
    if model.n_sites <= SECTOR_MAX_SITES:
        sim = AnsatzSimulator(model)
        return sim.expectations(sim.state(ansatz.operators, ansatz.parameters), ops), "exact (zero-charge sector)"
    from qlat.quantum.aer import mps_expectations

    sparse = {k: (op.to_sparse_pauli_op() if hasattr(op, "to_sparse_pauli_op") else op) for k, op in ops.items()}
    values = mps_expectations(ansatz.circuit(model.n_sites), sparse, max_bond_dimension=max_bond_dimension)
    return values, "Aer matrix_product_state simulation of the circuit" + (
        "" if max_bond_dimension is None else f" (bond dimension <= {max_bond_dimension})")


@BACKENDS.register("sc-vqe")
class VariationalBackend:
    """The SC-ADAPT-VQE vacuum (trained on small chains, extrapolated to N) as a backend.

    Options: ``sizes`` (training chains), ``n_operators``, ``distances``, ``operators`` (fixed
    sequence), ``max_bond_dimension`` (MPS evaluation beyond N = 20).
    """

    name = "sc-vqe"
    label = "sc-adapt-vqe"
    description = ("SC-ADAPT-VQE vacuum (arXiv:2308.04481): parameters trained on small chains, extrapolated in 1/N; "
                   "exact or MPS evaluation")
    accepts: tuple[str, ...] = ("SchwingerModel",)
    OPTIONS = ("sizes", "n_operators", "distances", "operators", "max_bond_dimension")

    def supports(self, target: Any) -> bool:
        return isinstance(target, SchwingerModel)

    def observables(self, target: Any) -> list[str]:
        from qlat.theories.schwinger_observables import qubit_observable_names

        return qubit_observable_names(target)

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, Estimate]:
        from qlat.core.provenance import provenance

        if not self.supports(target):
            raise ParameterError("target", "backend 'sc-vqe' estimates SchwingerModel targets", type(target).__name__)
        unknown = sorted(set(options) - set(self.OPTIONS))
        require(not unknown, "options", f"backend 'sc-vqe' takes {', '.join(self.OPTIONS)}", unknown)
        names = [observables] if isinstance(observables, str) else list(observables)
        require(len(names) >= 1, "observables", "must name at least one observable", names)
        ops = _key_operators(target, names)  # unknown names fail here, before any work
        bond = options.get("max_bond_dimension")
        trained = train_ansatz(target, sizes=options.get("sizes", DEFAULT_TRAIN_SIZES),
                               n_operators=options.get("n_operators", DEFAULT_OPERATORS),
                               distances=options.get("distances", DEFAULT_DISTANCES),
                               operators=options.get("operators"))
        ansatz = trained.ansatz(target.n_sites)
        terms = {k: term for k, (_, _, term) in ops.items()}
        values, method = _evaluate(ansatz, target, terms, max_bond_dimension=bond)
        extrapolated = target.n_sites not in trained.sizes
        if extrapolated:
            check, _ = _evaluate(trained.largest_size_ansatz(), target, terms, max_bond_dimension=bond)
        prov = provenance(model=target.params(), ansatz=ansatz.to_dict(), training=trained.to_dict(),
                          evaluation=method,
                          variational_error_method="deviation from ED on the training chains, extrapolated in 1/N "
                                                   "(x N for the energy); at least the deviation at the largest chain")
        out: dict[str, Estimate] = {}
        for key, (name, unit, _) in ops.items():
            base = name if key in trained.errors[trained.sizes[-1]] else None
            sources: dict[str, float] = {}
            if base is not None:
                sources["variational"] = trained.predicted_error(key, target.n_sites)
            else:  # a profile component or an observable not tracked in training: its largest training deviation
                sources["variational"] = self._untracked_error(trained, target, key, name)
            if extrapolated:
                sources["extrapolation"] = abs(values[key] - check[key])
            est = Estimate(values[key], 0.0, name=key, unit=unit, backend=self.label, provenance=prov)
            out[key] = est.with_systematic(sources)
        return out

    @staticmethod
    def _untracked_error(trained: TrainedAnsatz, target: SchwingerModel, key: str, name: str) -> float:
        """max over components of |ansatz − ED| of ``name`` at the largest training chain."""
        from qlat.exact.diagonalization import lowest_eigenpairs

        model = _training_model(target, trained.sizes[-1])
        sim = AnsatzSimulator(model)
        terms = {k: t for k, (_, _, t) in _key_operators(model, [name]).items()}
        psi = sim.state(trained.operators, trained.parameters[-1])
        _, vectors = lowest_eigenpairs(sim.hamiltonian, 1)
        mine, exact = sim.expectations(psi, terms), sim.expectations(vectors[:, 0], terms)
        return max(abs(mine[k] - exact[k]) for k in terms)

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        """N = 8 extrapolated from chains of 4 and 6, two operators (a second)."""
        return SchwingerModel(8, 1.0, 0.5), {"sizes": (4, 6), "n_operators": 2, "distances": (1,)}

    def __repr__(self) -> str:
        return "VariationalBackend()"

r"""qlat's fast statevector simulator of the Trotterized adiabatic evolution.

It applies exactly the layers of :func:`qlat.quantum.trotter.trotter_plan` (same product
formula, same ordering, same global phase), so its result equals the statevector of
:func:`qlat.quantum.trotter.adiabatic_circuit` to rounding; it is just much faster than
simulating the circuit gate by gate:

- **Charge sectors.**  Every layer conserves the number of set bits (the total charge
  ½ Σ Z_n), so the state is split by popcount and each occupied sector is evolved on its own
  basis; the bare vacuum lives in the physical (zero-charge) sector of dimension C(N, N/2)
  (184 756 at N = 20 instead of 2^20 = 1 048 576).
- **Diagonal layers** are one elementwise phase multiply.  The time-independent part (the
  electric energy with its ZZ terms and constant) has a fixed diagonal: its phase vector
  e^{−iτ D_J} is computed once per distinct τ.  Each time-dependent diagonal component (the
  staggered mass Σ(−1)^n Z_n, the θ/2π shift of the electric formulation) takes only a few
  distinct values on the basis, so its phase is a table of those values gathered by index.
- **Hopping layers** rotate each pair of basis states that differ by swapping bits n, n+1:
  (a, b) → (cos 2φ a − i sin 2φ b, cos 2φ b − i sin 2φ a), φ = h_n τ, with precomputed pair
  indices and preallocated buffers.

:func:`expectation_values` evaluates Pauli observables on any full 2^N state; diagonal
(I/Z-only) operators use one fast Walsh–Hadamard transform of the probabilities, after which
every Z-string expectation is a lookup.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import require
from qlat.exact.diagonalization import physical_sector_indices
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_index
from qlat.quantum.trotter import TrotterPlan, trotter_plan

__all__ = ["MAX_QUBITS", "evolve_plan", "evolve_statevector", "expectation_values"]

#: Largest N the simulator accepts (the returned full state has 2^N complex128 entries).
MAX_QUBITS = 26

#: A diagonal component with at most this many distinct values uses a phase table.
_TABLE_LIMIT = 4096


def _sector_indices(n: int, popcount: int) -> np.ndarray:
    if 2 * popcount == n:
        return physical_sector_indices(n)
    idx = np.arange(1 << n, dtype=np.int64)
    return idx[np.bitwise_count(idx) == popcount]


class _SectorEvolver:
    """The plan's layers restricted to the basis states with a fixed number of set bits."""

    def __init__(self, plan: TrotterPlan, basis: np.ndarray) -> None:
        self.plan = plan
        self.basis = basis
        comps = plan.basis.components
        static = plan.basis.static
        n = plan.n_qubits
        dim = basis.size
        diags = [c.diagonal(basis) for c in comps]
        self.static_diag = sum((d for d, s in zip(diags, static) if s), np.zeros(dim))
        self.static_weight = [k for k, s in enumerate(static) if s]
        self._static_phase: dict[float, np.ndarray] = {}
        # time-dependent diagonal components: (k, table values, inverse) or (k, full diagonal)
        self.dynamic: list[tuple[int, np.ndarray, np.ndarray | None]] = []
        for k, (d, s) in enumerate(zip(diags, static)):
            if s or not np.any(d != 0.0):
                continue
            values, inverse = np.unique(np.round(d, 12), return_inverse=True)
            if values.size <= _TABLE_LIMIT:
                # exact values of each class (rounding only groups them)
                exact = np.zeros(values.size)
                exact[inverse] = d
                self.dynamic.append((k, exact, inverse.astype(np.intp)))
            else:
                self.dynamic.append((k, d, None))
        self.hop_arrays = [c.hopping for c in comps]
        self.pairs: list[tuple[np.ndarray, np.ndarray] | None] = []
        for bond in range(n - 1):
            bit_here = (basis >> bond) & 1
            bit_next = (basis >> (bond + 1)) & 1
            ia = np.flatnonzero((bit_here == 1) & (bit_next == 0))
            ib = np.searchsorted(basis, basis[ia] ^ (np.int64(3) << bond))
            self.pairs.append((ia, ib) if ia.size else None)
        size = max((p[0].size for p in self.pairs if p is not None), default=0)
        self._buf = [np.empty(size, dtype=np.complex128) for _ in range(4)]
        self._phase = np.empty(dim, dtype=np.complex128)

    def _static(self, tau: float) -> np.ndarray:
        ph = self._static_phase.get(tau)
        if ph is None:
            ph = np.exp(-1j * tau * self.static_diag)
            self._static_phase[tau] = ph
        return ph

    def diag(self, psi: np.ndarray, weights: tuple) -> None:
        # static components have g_k ≡ 1, so their weight is the layer's total duration
        taus = {float(weights[k]) for k in self.static_weight}
        assert len(taus) <= 1, "static components must share one duration"
        if taus:
            psi *= self._static(taus.pop())
        for k, values, inverse in self.dynamic:
            g = float(weights[k])
            if g == 0.0:
                continue
            if inverse is None:
                np.multiply(values, -g, out=self._phase.real)
                np.exp(1j * self._phase.real, out=self._phase)
                psi *= self._phase
            else:
                table = np.exp(-1j * g * values)
                np.take(table, inverse, out=self._phase)
                psi *= self._phase

    def hop(self, psi: np.ndarray, weights: tuple, parity: int) -> None:
        angles = sum(float(g) * h for g, h in zip(weights, self.hop_arrays))
        a, b, t, u = self._buf
        for bond in range(parity, self.plan.n_qubits - 1, 2):
            pair = self.pairs[bond]
            phi = 2.0 * float(angles[bond])
            if pair is None or phi == 0.0:
                continue
            ia, ib = pair
            m = ia.size
            av, bv, tv, uv = a[:m], b[:m], t[:m], u[:m]
            c, s = math.cos(phi), -1j * math.sin(phi)
            np.take(psi, ia, out=av)
            np.take(psi, ib, out=bv)
            np.multiply(av, c, out=tv)
            np.multiply(bv, s, out=uv)
            tv += uv  # new a = c a − i s b
            np.multiply(bv, c, out=bv)
            np.multiply(av, s, out=av)
            bv += av  # new b = c b − i s a
            psi[ia] = tv
            psi[ib] = bv

    def run(self, psi: np.ndarray, progress: bool) -> np.ndarray:
        basis = self.plan.basis
        layers = self.plan.layers
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(layers), desc="trotter layers", unit="layer")
        for layer in layers:
            weights = layer.weights(basis)
            if layer.kind == "diag":
                self.diag(psi, weights)
            else:
                self.hop(psi, weights, 0 if layer.kind == "hop_even" else 1)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return psi


def evolve_plan(plan: TrotterPlan, initial: np.ndarray, *, progress: bool = False) -> np.ndarray:
    """Apply the layers of ``plan`` to a full 2^N state (little-endian); returns a new array."""
    n = plan.n_qubits
    require(n <= MAX_QUBITS, "n_sites", f"must be <= {MAX_QUBITS} for the statevector simulator", n)
    state = np.asarray(initial, dtype=np.complex128)
    require(state.shape == (1 << n,), "initial", f"must be a state vector of length 2^{n}", state.shape)
    out = np.zeros(1 << n, dtype=np.complex128)
    counts = np.bitwise_count(np.flatnonzero(state).astype(np.int64))
    for popcount in np.unique(counts):
        basis = _sector_indices(n, int(popcount))
        psi = np.ascontiguousarray(state[basis])
        if not np.any(psi):
            continue
        _SectorEvolver(plan, basis).run(psi, progress)
        out[basis] = psi
    return out


def evolve_statevector(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    order: int = 2,
    initial: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Final 2^N state (little-endian, complex128) of the Trotterized adiabatic evolution.

    Starts from the bare vacuum (:func:`qlat.theories.schwinger_qubit.bare_vacuum_index`) unless
    ``initial`` is given, and applies the product formula of :mod:`qlat.quantum.trotter` of the
    given ``order`` (1 or 2).  ``progress=True`` shows a tqdm bar over the layers.
    """
    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    n = model.n_sites
    require(n <= MAX_QUBITS, "n_sites", f"must be <= {MAX_QUBITS} for the statevector simulator", n)
    if initial is None:
        initial = np.zeros(1 << n, dtype=np.complex128)
        initial[bare_vacuum_index(n)] = 1.0
    plan = trotter_plan(model, schedule, order=order)
    return evolve_plan(plan, initial, progress=progress)


def _walsh_hadamard(values: np.ndarray, n: int) -> np.ndarray:
    """F[m] = Σ_k values[k] (−1)^{popcount(k & m)}: every Z-string expectation at once."""
    f = np.array(values, dtype=float).reshape((2,) * n)
    for axis in range(n):
        a = np.take(f, 0, axis=axis)
        b = np.take(f, 1, axis=axis)
        f = np.stack((a + b, a - b), axis=axis)
    return f.reshape(-1)


def expectation_values(state: np.ndarray, observables: Mapping[str, SparsePauliOp]) -> dict[str, float]:
    """{name: ⟨ψ|O|ψ⟩} (real part) for a full 2^N state and Hermitian ``SparsePauliOp``s.

    Operators made of I and Z only are evaluated from the probabilities |ψ_k|² through one
    Walsh–Hadamard transform shared by all of them; the others by a sparse matrix product.
    The state is used as given (not renormalized).
    """
    state = np.asarray(state)
    require(state.ndim == 1 and state.size >= 2 and (state.size & (state.size - 1)) == 0,
            "state", "must be a vector of length 2^N", state.shape)
    n = state.size.bit_length() - 1
    out: dict[str, float] = {}
    spectrum = None
    weights = 1 << np.arange(n, dtype=np.int64)
    for name, op in observables.items():
        require(isinstance(op, SparsePauliOp) and op.num_qubits == n, f"observables[{name!r}]",
                f"must be a SparsePauliOp on {n} qubits", getattr(op, "num_qubits", type(op).__name__))
        paulis = op.paulis
        if not paulis.x.any():
            if spectrum is None:
                spectrum = _walsh_hadamard(np.abs(state) ** 2, n)
            masks = paulis.z.astype(np.int64) @ weights
            coeffs = op.coeffs * (-1j) ** paulis.phase
            out[name] = float(np.real(np.sum(coeffs * spectrum[masks])))
        else:
            out[name] = float(np.real(np.vdot(state, op.to_matrix(sparse=True) @ state)))
    return out

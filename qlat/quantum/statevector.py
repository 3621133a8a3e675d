r"""qlat's fast statevector simulator of the Trotterized adiabatic evolution.

It applies exactly the layers of :func:`qlat.quantum.trotter.trotter_plan` (same product
formula, same ordering, same global phase), so its result equals the statevector of
:func:`qlat.quantum.trotter.adiabatic_circuit` to rounding; it is just much faster than
simulating the circuit gate by gate:

- **Charge sectors.**  Every layer conserves the number of set bits (the total charge
  ½ Σ Z_n), so the state is split by popcount and each occupied sector is evolved on its own
  sorted basis; the bare vacuum lives in the physical (zero-charge) sector of dimension
  C(N, N/2) (184 756 at N = 20 instead of 2^20 = 1 048 576).
- **In-place compiled layers** (:mod:`qlat.quantum.sector_trotter_layers`, numba).  In the sorted
  basis the pairs of a bond form contiguous runs; one pass per hopping layer applies all its
  bonds class by class while that part of the state is in cache, with the preceding diagonal
  layer fused in.  No index gathers, no temporaries.
- **Diagonal layers** e^{−iτ D}: all diagonal components together take few distinct values on
  the basis (399 classes at N = 20), so a layer's phase is a table over the classes, computed
  per layer and gathered by a uint16 class index.  With more than ``_TABLE_LIMIT`` classes every
  state is its own class (exact, slower).

:func:`expectation_values` evaluates Pauli observables on the support of the state (the
occupied sector): ⟨ψ|Z^z X^x|ψ⟩ = Σ_k ψ_k^* (−1)^{|k∧z|} ψ_{k⊕x}, with no 2^N matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from qlat.core.errors import require
from qlat.quantum.adiabatic import AdiabaticSchedule, TermsBasis
from qlat.quantum.trotter import Layer, TrotterPlan, trotter_plan
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_index

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

    from qlat.theories.pauli_sum import PauliSum

__all__ = ["MAX_QUBITS", "evolve_plan", "evolve_statevector", "expectation_values"]

#: Largest N the simulator accepts (the returned full state has 2^N complex128 entries).
MAX_QUBITS = 26

#: At most this many joint classes of diagonal values use a phase table (else exact per state).
_TABLE_LIMIT = 4096


class _SectorEvolver:
    """The plan's layers restricted to the sorted basis states with a fixed number of set bits."""

    def __init__(self, plan: TrotterPlan, popcount: int) -> None:
        from qlat.quantum import sector_trotter_layers as sk

        self.plan = plan
        n = plan.n_qubits
        self.basis = sk.sector_basis(n, popcount)
        comps = plan.basis.components
        self.active = [k for k, c in enumerate(comps)
                       if c.constant != 0.0 or np.any(c.z != 0.0) or np.any(c.zz != 0.0)]
        if self.active:
            diagonals = np.stack([sk.sector_diagonal(self.basis, constant=comps[k].constant, z=comps[k].z,
                                                     zz=comps[k].zz) for k in self.active])
        else:
            diagonals = np.zeros((1, self.basis.size))
        self.cls, self.values = sk.diagonal_classes(diagonals, limit=_TABLE_LIMIT)
        self.hop_arrays = np.stack([c.hopping for c in comps])
        self.layouts = (sk.sector_layout(n, popcount, 0), sk.sector_layout(n, popcount, 1))
        self._weights_at: dict[float, tuple[float, ...]] = {}

    def _layer_weights(self, layer: Layer, basis: TermsBasis) -> np.ndarray:
        """Layer.weights (G_k = Σ_slices τ·g_k(t), same arithmetic) with g(t) computed once per time."""
        total = None
        for t, tau in layer.slices:
            g = self._weights_at.get(t)
            if g is None:
                g = self._weights_at[t] = tuple(float(x) for x in basis.weights(t))
            part = tuple(tau * x for x in g)
            total = part if total is None else tuple(a + b for a, b in zip(total, part))
        return np.array(total)

    def run(self, psi: np.ndarray, progress: bool) -> np.ndarray:
        """Evolve ``psi`` (sector amplitudes) in place through the plan's layers."""
        from qlat.quantum import sector_trotter_layers as sk

        basis = self.plan.basis
        layers = self.plan.layers
        kinds = np.empty(len(layers), dtype=np.int64)
        rows = np.empty(len(layers), dtype=np.int64)
        diag_weights: list[list[float]] = []
        hop_angles: list[np.ndarray] = []
        for i, layer in enumerate(layers):
            weights = self._layer_weights(layer, basis)
            if layer.kind == "diag":
                kinds[i], rows[i] = 0, len(diag_weights)
                diag_weights.append([weights[k] for k in self.active] if self.active else [0.0])
            else:
                kinds[i], rows[i] = (1 if layer.kind == "hop_even" else 2), len(hop_angles)
                hop_angles.append(weights @ self.hop_arrays)
        angles = np.array(hop_angles).reshape(len(hop_angles), -1)
        g = np.array(diag_weights)
        # layers per compiled call: all of them, unless the phase tables would exceed ~32 MB or a
        # progress bar wants updates
        per_call = max(1, min(len(layers), (1 << 21) // max(1, self.values.shape[1])))
        if progress:
            per_call = min(per_call, max(1, len(layers) // 100))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(layers), desc="trotter layers", unit="layer")
        re = np.ascontiguousarray(psi.real)  # split storage: the rotations vectorize on float64 runs
        im = np.ascontiguousarray(psi.imag)
        pending = -1  # a diagonal layer waiting to be fused into the next hopping pass
        table = None
        for start in range(0, len(layers), per_call):
            stop = min(start + per_call, len(layers))
            diag_rows = rows[start:stop][kinds[start:stop] == 0]
            # the chunk's phase tables, plus the pending one carried over from the previous chunk
            first = int(diag_rows.min()) if diag_rows.size else 0
            last = int(diag_rows.max()) + 1 if diag_rows.size else 0
            lo = min(first, pending) if pending >= 0 else first
            hi = max(last, pending + 1)
            if hi > lo:
                table = np.exp(-1j * (g[lo:hi] @ self.values))
            chunk_rows = rows[start:stop].copy()
            chunk_rows[kinds[start:stop] == 0] -= lo
            left = sk.run_program(re, im, kinds[start:stop], chunk_rows, angles, table if table is not None
                                  else np.ones((1, 1), dtype=complex), self.cls, self.layouts,
                                  pending=pending - lo if pending >= 0 else -1)
            pending = left + lo if left >= 0 else -1
            if bar is not None:
                bar.update(stop - start)
        if pending >= 0:
            sk.apply_diagonal(re, im, np.exp(-1j * (g[pending] @ self.values)), self.cls)
        if bar is not None:
            bar.close()
        psi.real = re
        psi.imag = im
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
        evolver = _SectorEvolver(plan, int(popcount))
        psi = np.ascontiguousarray(state[evolver.basis])
        evolver.run(psi, progress)
        out[evolver.basis] = psi
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


def expectation_values(state: np.ndarray,
                       observables: Mapping[str, PauliSum | SparsePauliOp]) -> dict[str, float]:
    """{name: ⟨ψ|O|ψ⟩} (real part) for a full 2^N state and Hermitian ``PauliSum`` / ``SparsePauliOp`` operators.

    Every Pauli term is summed over the support of the state only (the occupied charge sector
    for an evolved state), term by term, by :func:`qlat.exact.sector_operators.pauli_expectations`;
    no 2^N matrix is formed.  The state is used as given (not renormalized).
    """
    from qlat.exact.sector_operators import is_pauli_operator, pauli_expectations, pauli_masks

    state = np.asarray(state)
    require(state.ndim == 1 and state.size >= 2 and (state.size & (state.size - 1)) == 0,
            "state", "must be a vector of length 2^N", state.shape)
    n = state.size.bit_length() - 1
    out: dict[str, float] = {}
    vector = np.ascontiguousarray(state, dtype=np.complex128)
    support = np.flatnonzero(vector).astype(np.int64)
    for name, op in observables.items():
        require(is_pauli_operator(op) and op.num_qubits == n, f"observables[{name!r}]",
                f"must be a PauliSum or SparsePauliOp on {n} qubits", getattr(op, "num_qubits", type(op).__name__))
        x_mask, z_mask, coeff = pauli_masks(op)
        out[name] = pauli_expectations(vector, support, x_mask, z_mask, coeff)
    return out

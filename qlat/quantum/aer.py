"""Qiskit Aer helpers of the simulator backends (:mod:`qlat.quantum.simulators`): transpiling, sampling
measurement bases, MPS expectation values, Aer options (this module was ``qlat.quantum.backends``).

The backends that use them:

- ``"statevector"`` (N ≤ 26): qlat's own fast path
  (:func:`qlat.quantum.statevector.evolve_statevector`); exact expectation values and the
  fidelity with the exact ground state.
- ``"aer"`` (N ≤ 26): the exported circuit transpiled for Qiskit Aer and sampled with Aer's
  ``SamplerV2`` once per measurement basis; errors are shot noise.  Optional noise model
  (:mod:`qlat.quantum.noise`): the density matrix is evolved up to
  :data:`DENSITY_MATRIX_MAX_QUBITS` qubits, noise trajectories (one per shot) above.
- ``"mps"`` (no fixed limit): Aer ``AerSimulator(method="matrix_product_state")``; exact
  expectation values of the MPS (optionally bond-dimension-truncated) or sampling with
  ``shots``.  Long-range ZZ layers are first rewritten by :func:`mps_friendly`, without which
  Aer's MPS is unusable beyond N ≈ 16 for these circuits.

Qiskit's V1 primitives are gone and Aer's ``EstimatorV2`` is exact (its ``precision`` only adds
Gaussian noise), so shot noise is produced here by sampling bit strings and estimating each
Pauli observable from them.  Aer rejects abstract gates such as ``PauliEvolutionGate``: every
circuit goes through :func:`transpile_for_aer` first.  ``qiskit_aer`` is imported lazily.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from qlat.core.errors import require, require_int

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_aer.noise import NoiseModel


#: Shots per measurement basis when a sampling backend is asked for none.
DEFAULT_SHOTS = 4096

#: Most bit-string memory one sampled basis may take (shots × qubits bytes): beyond it Aer fails
#: with ``std::bad_alloc`` deep inside the simulation, so the request is refused up front.
MAX_SAMPLE_BYTES = 2**31

#: Aer simulation methods used here.
AER_METHODS: tuple[str, ...] = ("statevector", "density_matrix", "matrix_product_state")

#: Up to this many qubits a noisy ``aer`` run evolves the density matrix (one simulation, then
#: exact sampling of the final ρ); above it Aer samples noise trajectories, one per shot, which
#: is far slower (4096 shots × 3 bases of an 8-step N = 6 circuit: ~1 min vs ~1 s).
DENSITY_MATRIX_MAX_QUBITS = 10


_MPS_MEMORY_CHECK_OFF_MB = 2**40


def aer_method(backend: str, n_qubits: int, *, noisy: bool) -> str:
    """The Aer simulation method a sampling run of ``backend`` uses."""
    if backend == "mps":
        return "matrix_product_state"
    if noisy and n_qubits <= DENSITY_MATRIX_MAX_QUBITS:
        return "density_matrix"
    return "statevector"


# --- Aer plumbing ------------------------------------------------------------------------------
def aer_backend_options(
    method: str = "statevector",
    *,
    noise_model: "NoiseModel | None" = None,
    max_bond_dimension: int | None = None,
    truncation_threshold: float | None = None,
) -> dict:
    """Options for ``AerSimulator`` / the Aer primitives' ``backend_options``."""
    require(method in AER_METHODS, "method", f"must be one of {', '.join(AER_METHODS)}", method)
    options: dict = {"method": method}
    if method == "matrix_product_state":
        # Aer's pre-run memory check assumes the worst-case bond dimension 2^(N/2) (at N = 40 it
        # asks for ~3e8 MB and refuses); the real MPS is small, so the check is switched off.
        options["max_memory_mb"] = _MPS_MEMORY_CHECK_OFF_MB
    if noise_model is not None:
        options["noise_model"] = noise_model
    if max_bond_dimension is not None:
        require_int(max_bond_dimension, "max_bond_dimension", minimum=1)
        options["matrix_product_state_max_bond_dimension"] = int(max_bond_dimension)
    if truncation_threshold is not None:
        require(0.0 < truncation_threshold < 1.0, "truncation_threshold", "must be in (0, 1)",
                truncation_threshold)
        options["matrix_product_state_truncation_threshold"] = float(truncation_threshold)
    return options


@cache
def aer_basis_gates(method: str = "statevector") -> tuple[str, ...]:
    """The gate names Aer's ``method`` executes natively (cached: building Aer's target is slow)."""
    from qiskit.circuit.library import get_standard_gate_name_mapping
    from qiskit_aer import AerSimulator

    standard = get_standard_gate_name_mapping()
    names = AerSimulator(method=method).target.operation_names
    skip = {"measure", "reset", "delay"}
    return tuple(sorted(n for n in names if n in standard and n not in skip))


def transpile_for_aer(
    circuit: "QuantumCircuit", *, method: str = "statevector", noisy: bool = False, seed: int | None = 0
) -> "QuantumCircuit":
    """Lower ``circuit`` to gates Aer executes, keeping qubit n as qubit n.

    Noiseless: the gate set of Aer's ``method`` (:func:`aer_basis_gates`; ``rzz``, ``rxx`` ...
    are kept, which is fastest).  Noisy: the basis :data:`qlat.quantum.noise.NOISY_BASIS`, so
    the depolarizing channels attach to every physical gate.  No layout or routing is done (the
    simulator is all-to-all).
    """
    from qiskit import transpile

    if noisy:
        from qlat.quantum.noise import NOISY_BASIS

        return transpile(circuit, basis_gates=list(NOISY_BASIS), optimization_level=1, seed_transpiler=seed)
    return transpile(circuit, basis_gates=list(aer_basis_gates(method)), optimization_level=0,
                     seed_transpiler=seed)


def aer_statevector(circuit: "QuantumCircuit") -> np.ndarray:
    """The final state of ``circuit`` (no measurements) from Aer's statevector method.

    Little-endian like Qiskit; used to cross-check qlat's fast path against the exported circuit.
    """
    from qiskit_aer import AerSimulator

    qc = transpile_for_aer(circuit.remove_final_measurements(inplace=False))
    qc.save_statevector(label="psi")
    result = AerSimulator(method="statevector").run(qc, shots=1).result()
    return np.asarray(result.data(0)["psi"], dtype=np.complex128)


def sample_bases(
    circuit: "QuantumCircuit",
    rotations: Mapping[str, "QuantumCircuit"],
    *,
    shots: int,
    seed: int | None,
    method: str = "statevector",
    noise_model: "NoiseModel | None" = None,
    max_bond_dimension: int | None = None,
) -> dict[str, np.ndarray]:
    """Sample ``circuit`` followed by each basis rotation with Aer's ``SamplerV2``.

    ``rotations`` maps a basis label to the circuit that rotates that basis onto Z.  Returns, per
    basis, a bool array of shape (shots, N) whose column n is the measured bit of qubit n
    (1 = outcome −1 of Z_n).  All bases run as one job; Aer gives every circuit of a job its own
    seed, and ``seed`` fixes them all.
    """
    from qiskit_aer.primitives import SamplerV2

    require_int(shots, "shots", minimum=1)
    noisy = noise_model is not None
    base = transpile_for_aer(circuit.remove_final_measurements(inplace=False), method=method, noisy=noisy)
    if method == "matrix_product_state":
        base = mps_friendly(base)
    labels = list(rotations)
    pubs = []
    for label in labels:
        qc = base.compose(transpile_for_aer(rotations[label], method=method, noisy=noisy))
        qc.measure_all()
        pubs.append(qc)
    options = aer_backend_options(method, noise_model=noise_model, max_bond_dimension=max_bond_dimension)
    sampler = SamplerV2(default_shots=int(shots), seed=seed, options={"backend_options": options})
    result = sampler.run(pubs).result()
    return {label: result[i].data.meas.to_bool_array(order="little") for i, label in enumerate(labels)}


#: One-qubit gates that are diagonal in the computational basis (they commute with RZZ).
_DIAGONAL_1Q = frozenset({"rz", "p", "z", "s", "sdg", "t", "tdg", "u1", "id"})


def _swap_rzz_matrix(angle: float) -> np.ndarray:
    """SWAP · RZZ(λ), RZZ(λ) = exp(−i λ/2 Z⊗Z): symmetric in the two qubits."""
    phase = np.exp(-0.5j * angle)
    diag = np.array([phase, np.conj(phase), np.conj(phase), phase])
    swap = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=complex)
    return swap @ np.diag(diag)


def mps_friendly(circuit: "QuantumCircuit") -> "QuantumCircuit":
    r"""Rewrite long-range RZZ layers into nearest-neighbour gates that keep an MPS compact.

    Aer's MPS method applies a gate on distant qubits by moving them together and leaves the
    qubits in the permuted order; the all-to-all ZZ layer of the Schwinger circuit (every
    Z_iZ_j, from the eliminated gauge field) then scrambles the chain order and the bond
    dimension explodes (N = 16, four steps: ~30–45 s).  A swap network (layout ``"line"``) has
    the same problem: halfway through it the chain is interleaved.

    Here each maximal run of diagonal gates (RZZ and diagonal one-qubit gates, which commute) is
    re-emitted as follows: for each j, qubit j is bubbled down to its smallest partner i with the
    fused gate SWAP·RZZ(λ_ij) on adjacent qubits (one 4×4 unitary per pair), then moved back
    with SWAPs.  The chain order is restored after every j, so the bond dimension grows at most
    by a factor 2 in flight; the cost is ~N² adjacent two-qubit gates per ZZ layer.  The
    unitary of the circuit is unchanged (diagonal gates commute).
    """
    from qiskit.circuit.library import UnitaryGate

    out: QuantumCircuit = circuit.copy_empty_like()
    pending: dict[tuple[int, int], float] = {}

    def flush() -> None:
        by_j: dict[int, dict[int, float]] = {}
        for (i, j), angle in pending.items():
            by_j.setdefault(j, {})[i] = angle
        for j in sorted(by_j):
            partners = by_j[j]
            lowest = min(partners)
            for p in range(j - 1, lowest - 1, -1):  # qubit j sits at p + 1, logical p at p
                if p in partners:
                    out.append(UnitaryGate(_swap_rzz_matrix(partners[p]), label="swap_rzz"), [p, p + 1])
                else:
                    out.swap(p, p + 1)
            for p in range(lowest, j):  # back to the original order
                out.swap(p, p + 1)
        pending.clear()

    for inst in circuit.data:
        op = inst.operation
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        if op.name == "rzz" and not op.is_parameterized():
            i, j = sorted(qubits)
            pending[(i, j)] = pending.get((i, j), 0.0) + float(op.params[0])
            continue
        if op.name in _DIAGONAL_1Q:
            out.append(op, inst.qubits, inst.clbits)
            continue
        flush()
        out.append(op, inst.qubits, inst.clbits)
    flush()
    out.global_phase = circuit.global_phase
    return out


def mps_expectations(
    circuit: "QuantumCircuit",
    operators: Mapping[str, "SparsePauliOp"],
    *,
    max_bond_dimension: int | None = None,
    truncation_threshold: float | None = None,
) -> dict[str, float]:
    """⟨O⟩ for each operator on the final MPS of ``circuit`` (Aer ``save_expectation_value``).

    Exact up to the MPS truncation (none by default: Aer keeps singular values above 1e-16).
    """
    from qiskit_aer import AerSimulator

    qc = mps_friendly(
        transpile_for_aer(circuit.remove_final_measurements(inplace=False), method="matrix_product_state")
    )
    keys = list(operators)
    for i, key in enumerate(keys):
        qc.save_expectation_value(operators[key], list(range(qc.num_qubits)), label=f"o{i}")
    options = aer_backend_options(
        "matrix_product_state", max_bond_dimension=max_bond_dimension, truncation_threshold=truncation_threshold
    )
    result = AerSimulator(**options).run(qc, shots=1).result()
    data = result.data(0)
    return {key: float(np.real(data[f"o{i}"])) for i, key in enumerate(keys)}


def union_bases(bases_per_operator: Sequence[Sequence[str]]) -> list[str]:
    """The distinct measurement bases of several operators, in first-seen order."""
    seen: dict[str, None] = {}
    for bases in bases_per_operator:
        for b in bases:
            seen.setdefault(b, None)
    return list(seen)

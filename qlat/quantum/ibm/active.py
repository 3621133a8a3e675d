r"""Local testing mode on the active qubits only: the fake device cut down to the qubits a job uses.

The runtime's local testing mode hands the device to Aer (``AerSimulator.from_backend``), which
builds the device noise model — per-gate depolarizing and thermal-relaxation errors, per-qubit
readout errors, all from the device ``Target`` (``NoiseModel.from_backend``) — and simulates every
qubit of the device.  The ISA circuits of an N-site job act on N (plus, with routing, a few more)
of the device's 16 … 133 qubits; the idle qubits carry no gate, hence no noise and no
measurement, but they make the simulation slow (250 s for N = 4 on the 16-qubit
``fake_guadalupe`` against 4 s on the 5-qubit ``fake_manila``) and impossible on 127-qubit devices.

:func:`restrict_pubs` removes them exactly: it collects the qubits the pubs act on
(:func:`active_qubits`), builds a :class:`RestrictedDevice` whose ``Target`` holds the device's
instructions, gate errors, durations, readout errors and T1/T2 on those qubits only, relabelled
0 … k−1 in increasing order (:func:`restricted_target`), and rewrites the circuits and observables
onto it.  Aer then builds the same noise channels on the same qubits (a :math:`k`-qubit noise
model, equal channel by channel to the device's on the kept qubits — tested), so the
measured distribution is that of the full-device simulation; only the random stream differs.
Because Aer's noise model has no crosstalk and no idle-qubit errors, nothing is lost.

This holds for the runtime's executor primitives, whose local mode builds the Aer simulator from
the device ``Target`` (``AerSimulator.from_backend``).  The legacy V2 primitives simulate with the
fake device's own ``run`` (a noise model from its ``BackendProperties``, with asymmetric readout
flips), which a restricted device does not reproduce; :func:`qlat.quantum.ibm.backend.run_on_device`
therefore restricts executor runs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qlat.core.errors import ParameterError

#: Instructions that act on a qubit without being part of the computation.
_NOT_ACTIVE = frozenset({"barrier"})


def active_qubits(circuits: Sequence[Any]) -> list[int]:
    """Sorted indices of the qubits on which any of ``circuits`` has a non-barrier instruction."""
    used: set[int] = set()
    for qc in circuits:
        for inst in qc.data:
            if inst.operation.name in _NOT_ACTIVE:
                continue
            used.update(qc.find_bit(q).index for q in inst.qubits)
    return sorted(used)


def restricted_target(target: Any, qubits: Sequence[int], *, noiseless: bool = False) -> Any:
    """The ``Target`` of ``target`` on ``qubits`` only, qubit ``qubits[i]`` relabelled ``i``.

    Every instruction keeps its properties (error, duration) on qargs made of kept qubits;
    qargs that touch a dropped qubit are dropped; global instructions (qargs ``None``) stay global.
    Qubit properties (T1, T2, frequency) follow their qubits.  ``noiseless``: error rates are
    zero and no durations or qubit properties are kept, so Aer builds no noise at all — an ideal
    device with the same gate set and connectivity.
    """
    from qiskit.transpiler import InstructionProperties, Target

    qubits = [int(q) for q in qubits]
    if len(set(qubits)) != len(qubits) or any(q < 0 or q >= target.num_qubits for q in qubits):
        raise ParameterError("qubits", f"must be distinct qubits of the {target.num_qubits}-qubit target", qubits)
    new_index = {q: i for i, q in enumerate(qubits)}
    props = target.qubit_properties
    small = Target(
        description=f"{target.description or 'target'} on qubits {qubits}",
        num_qubits=len(qubits),
        dt=target.dt,
        granularity=target.granularity,
        min_length=target.min_length,
        pulse_alignment=target.pulse_alignment,
        acquire_alignment=target.acquire_alignment,
        qubit_properties=None if props is None or noiseless else [props[q] for q in qubits],
    )
    for name in target.operation_names:
        operation = target.operation_from_name(name)
        inst_props = target[name]
        if None in inst_props:  # a global instruction (e.g. control flow)
            small.add_instruction(operation, None, name=name)
            continue
        kept = {tuple(new_index[q] for q in qargs): p for qargs, p in inst_props.items()
                if all(q in new_index for q in qargs)}
        if noiseless:
            kept = {qargs: None if p is None else InstructionProperties(error=0.0)
                    for qargs, p in kept.items()}
        if kept:
            small.add_instruction(operation, kept, name=name)
    return small


def _backend_class() -> type:
    from qiskit.providers import BackendV2, Options

    class RestrictedDevice(BackendV2):
        """A device cut down to some of its qubits (:func:`restricted_target`); for local simulation only."""

        def __init__(self, device: Any, qubits: Sequence[int], noiseless: bool = False) -> None:
            super().__init__(name=str(device.name), description=f"{device.name} on qubits {list(qubits)}"
                             + (" without noise" if noiseless else ""),
                             backend_version=str(getattr(device, "backend_version", "")))
            self.parent = device
            self.qubits = [int(q) for q in qubits]
            self.noiseless = bool(noiseless)
            self._target = restricted_target(device.target, self.qubits, noiseless=noiseless)

        @property
        def target(self) -> Any:
            return self._target

        @property
        def max_circuits(self) -> None:
            return None

        @classmethod
        def _default_options(cls) -> Any:
            return Options(shots=4096)

        def run(self, run_input: Any, **options: Any) -> Any:
            raise ParameterError("device", "a restricted device only serves the runtime's local testing mode",
                                 self.name)

    return RestrictedDevice


_CLASS: type | None = None


def restricted_device(device: Any, qubits: Sequence[int], *, noiseless: bool = False) -> Any:
    """A ``BackendV2`` with the ``Target`` of ``device`` on ``qubits`` (:func:`restricted_target`)."""
    global _CLASS
    if _CLASS is None:
        _CLASS = _backend_class()
    return _CLASS(device, qubits, noiseless)


def remap_circuit(circuit: Any, qubits: Sequence[int]) -> Any:
    """``circuit`` rewritten on ``len(qubits)`` qubits, qubit ``qubits[i]`` → ``i`` (classical bits kept).

    Barriers keep only their kept qubits; any other instruction on a dropped qubit is an error.
    """
    from qiskit import QuantumCircuit, QuantumRegister

    new_index = {int(q): i for i, q in enumerate(qubits)}
    out = QuantumCircuit(QuantumRegister(len(new_index), "q"), *circuit.cregs, name=circuit.name,
                         global_phase=circuit.global_phase, metadata=dict(circuit.metadata or {}))
    loose = [c for c in circuit.clbits if not circuit.find_bit(c).registers]
    if loose:
        out.add_bits(loose)
    for inst in circuit.data:
        old = [circuit.find_bit(q).index for q in inst.qubits]
        if inst.operation.name in _NOT_ACTIVE:
            kept = [new_index[q] for q in old if q in new_index]
            if kept:
                out.barrier(*kept)
            continue
        if any(q not in new_index for q in old):
            raise ParameterError("qubits", f"{inst.operation.name} acts on a dropped qubit", old)
        out.append(inst.operation, [out.qubits[new_index[q]] for q in old], inst.clbits)
    return out


def remap_observable(observable: Any, qubits: Sequence[int]) -> Any:
    """A ``SparsePauliOp`` on the device's qubits restricted to ``qubits`` (identity elsewhere required)."""
    import numpy as np
    from qiskit.quantum_info import PauliList, SparsePauliOp

    keep = np.asarray([int(q) for q in qubits])
    paulis = observable.paulis
    drop = np.ones(paulis.num_qubits, dtype=bool)
    drop[keep] = False
    if np.any(paulis.z[:, drop] | paulis.x[:, drop]):
        raise ParameterError("observables", "act on a qubit the circuit does not use", sorted(np.flatnonzero(drop)))
    kept = PauliList.from_symplectic(paulis.z[:, keep], paulis.x[:, keep], paulis.phase)
    return SparsePauliOp(kept, observable.coeffs)


def restrict_pubs(device: Any, pubs: Sequence[tuple[Any, ...]], *, noiseless: bool = False
                  ) -> tuple[Any, list[tuple[Any, ...]], list[int]]:
    """``(restricted device, pubs on it, kept device qubits)`` for local simulation of ``pubs`` on ``device``.

    Each pub is ``(circuit,)`` (Sampler) or ``(circuit, observables)`` (Estimator, observables a
    list of ``SparsePauliOp`` on the device's qubits).  ``noiseless``: the restricted device has
    no noise (:func:`restricted_target`).
    """
    qubits = active_qubits([pub[0] for pub in pubs])
    if not qubits:
        raise ParameterError("pubs", "act on no qubit")
    small = restricted_device(device, qubits, noiseless=noiseless)
    out: list[tuple[Any, ...]] = []
    for pub in pubs:
        circuit = remap_circuit(pub[0], qubits)
        if len(pub) == 1:
            out.append((circuit,))
        else:
            out.append((circuit, [remap_observable(op, qubits) for op in pub[1]], *pub[2:]))
    return small, out, qubits

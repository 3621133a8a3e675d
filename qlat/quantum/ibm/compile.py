r"""Compile the adiabatic circuits for a named device: ISA circuits, layout, mapped observables.

Two candidate compilations are made and the better one kept (``layout="auto"``):

- ``"line"``: qlat's swap-network circuit (:func:`qlat.quantum.trotter.adiabatic_circuit` with
  ``layout="line"``, only nearest-neighbour two-qubit gates, 3N(N−1)/2 + 2(N−1) CNOTs per
  first-order step, Kivlichan et al. arXiv:1711.04789) placed on the best *line* of N physical
  qubits, chosen from the device's error map by :func:`best_line`; routing then adds nothing.
- ``"default"``: the all-to-all circuit (every Z_iZ_j one RZZ) given to Qiskit's preset pass
  manager with its own layout and routing (SabreLayout / SabreSwap).

Both are lowered to the device's ISA (its basis gates and coupling map) at the chosen
``optimization_level``.  The one with fewer two-qubit gates wins (ties: higher estimated success
probability).  The swap network reverses the qubit order on every ZZ layer; instead of
restoring it with N(N−1)/2 extra SWAPs the final logical → physical map is carried along:
observables are permuted by it and then mapped with the full transpiled layout
(``SparsePauliOp.apply_layout(isa.layout)``), and Sampler circuits measure each physical qubit
into the classical bit of the logical qubit it holds.

Error map.  Every quantity comes from the device ``Target``: two-qubit gate errors (cx / ecr /
cz, the better direction), single-qubit ``sx`` errors, readout errors and durations.  The line
minimizes Σ_edges u·(−log(1 − ε₂)) + Σ_qubits (−log(1 − ε_ro)) with u ≈ 1.5N + 2 uses of each
edge per Trotter step, by a beam search over simple paths of the coupling graph.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError, require

#: Candidate compilations (module docstring) and the automatic choice among them.
LAYOUT_CHOICES: tuple[str, ...] = ("auto", "line", "default")
#: Two-qubit gate names of IBM devices (Falcon/Eagle: cx/ecr, Heron: cz).
TWO_QUBIT_GATES: tuple[str, ...] = ("cx", "ecr", "cz")
#: Beam width of the line search (enough for N ≤ 20 on 127/156-qubit heavy-hex graphs).
LINE_BEAM = 400


# --------------------------------------------------------------------------------- error map
@dataclass(frozen=True)
class ErrorMap:
    """Error rates of a device, from its ``Target``.

    edges: {(a, b) with a < b: two-qubit gate error (best gate and direction)};
    readout: {qubit: readout error}; single: {qubit: sx error}; gate_name: the two-qubit gate.
    """

    n_qubits: int
    edges: dict[tuple[int, int], float]
    readout: dict[int, float]
    single: dict[int, float]
    gate_name: str


def _err(props: Any) -> float | None:
    if props is None or props.error is None:
        return None
    e = float(props.error)
    return e if math.isfinite(e) and 0.0 <= e < 1.0 else None


def error_map(target: Any) -> ErrorMap:
    """The :class:`ErrorMap` of a device ``Target`` (``backend.target``)."""
    names = [g for g in TWO_QUBIT_GATES if g in target.operation_names]
    if not names:
        raise ParameterError("device", f"has none of the two-qubit gates {', '.join(TWO_QUBIT_GATES)}",
                             sorted(target.operation_names))
    gate = names[0]
    edges: dict[tuple[int, int], float] = {}
    for g in names:
        for qargs, props in target[g].items():
            if qargs is None or len(qargs) != 2:
                continue
            e = _err(props)
            if e is None:
                continue
            key = (min(qargs), max(qargs))
            edges[key] = min(e, edges.get(key, 1.0))
    readout: dict[int, float] = {}
    if "measure" in target.operation_names:
        for qargs, props in target["measure"].items():
            e = _err(props)
            if qargs is not None and e is not None:
                readout[qargs[0]] = e
    single: dict[int, float] = {}
    if "sx" in target.operation_names:
        for qargs, props in target["sx"].items():
            e = _err(props)
            if qargs is not None and e is not None:
                single[qargs[0]] = e
    return ErrorMap(n_qubits=int(target.num_qubits), edges=edges, readout=readout, single=single, gate_name=gate)


def _nlog(e: float) -> float:
    return -math.log(max(1.0 - e, 1e-12))


def best_line(errors: ErrorMap, n: int, *, beam: int = LINE_BEAM, edge_uses: float | None = None) -> list[int]:
    """The simple path of ``n`` physical qubits with the lowest error cost (module docstring).

    Raises :class:`ParameterError` when the coupling graph has no path of ``n`` working qubits.
    """
    require(isinstance(n, int) and n >= 2, "n_sites", "must be an integer >= 2", n)
    uses = (1.5 * n + 2.0) if edge_uses is None else float(edge_uses)
    adjacency: dict[int, list[tuple[int, float]]] = {}
    for (a, b), e in errors.edges.items():
        adjacency.setdefault(a, []).append((b, uses * _nlog(e)))
        adjacency.setdefault(b, []).append((a, uses * _nlog(e)))

    def qubit_cost(q: int) -> float:
        return _nlog(errors.readout.get(q, 0.05)) + 2.0 * _nlog(errors.single.get(q, 1e-3))

    paths: list[tuple[float, tuple[int, ...]]] = [(qubit_cost(q), (q,)) for q in sorted(adjacency)]
    for _ in range(n - 1):
        grown: dict[tuple[int, ...], float] = {}
        for cost, path in paths:
            for nxt, c_edge in adjacency.get(path[-1], ()):
                if nxt in path:
                    continue
                new = path + (nxt,)
                key = new if new[0] < new[-1] else new[::-1]  # a path and its reverse are one line
                total = cost + c_edge + qubit_cost(nxt)
                if total < grown.get(key, math.inf):
                    grown[key] = total
        if not grown:
            found = _search_line(adjacency, n, qubit_cost)
            if found is None:
                raise ParameterError("n_sites", f"the device has no line of {n} connected working qubits", n)
            return found
        ranked = sorted((c, p) for p, c in grown.items())[:beam]
        # keep both orientations growing: a path can only be extended at its last qubit
        paths = ranked + [(c, p[::-1]) for c, p in ranked]
    best = min(paths)
    return list(best[1])


#: Node expansions of the depth-first line search (:func:`_search_line`) per start qubit.
LINE_SEARCH_EXPANSIONS = 20_000
#: Start qubits tried by the depth-first line search.
LINE_SEARCH_STARTS = 24


def _ordered_neighbours(adjacency: dict[int, list[tuple[int, float]]], q: int, visited: set[int]
                        ) -> list[tuple[int, float]]:
    """Free neighbours of ``q`` with their edge costs, the best candidate (Warnsdorff, then cost) last."""
    free = [(nb, c) for nb, c in adjacency.get(q, ()) if nb not in visited]
    free.sort(key=lambda item: (sum(1 for x, _ in adjacency.get(item[0], ()) if x not in visited), item[1]),
              reverse=True)
    return free


def _search_line(adjacency: dict[int, list[tuple[int, float]]], n: int, qubit_cost: Any) -> list[int] | None:
    """A line of ``n`` qubits by depth-first search, for long lines where the beam dead-ends.

    Long lines fill most of a heavy-hex device; the beam of lowest-cost partial paths then ends in
    pockets it cannot leave.  Here each start (the qubits of fewest neighbours first: the corners of
    the lattice) is grown depth first, neighbours ordered by Warnsdorff's rule (fewest onward free
    neighbours, then the edge cost), with backtracking and at most :data:`LINE_SEARCH_EXPANSIONS`
    expansions; the cheapest line found over :data:`LINE_SEARCH_STARTS` starts is returned.
    """
    starts = sorted(adjacency, key=lambda q: (len(adjacency[q]), qubit_cost(q)))[:LINE_SEARCH_STARTS]
    best: tuple[float, list[int]] | None = None
    for start in starts:
        path = [start]
        visited = {start}
        cost = [qubit_cost(start)]
        stack: list[list[tuple[int, float]]] = []
        expansions = 0

        stack.append(_ordered_neighbours(adjacency, start, visited))
        while stack and expansions < LINE_SEARCH_EXPANSIONS:
            if len(path) == n:
                total = cost[-1]
                if best is None or total < best[0]:
                    best = (total, list(path))
                break
            options = stack[-1]
            if not options:
                stack.pop()
                visited.discard(path.pop())
                cost.pop()
                continue
            nxt, c_edge = options.pop()
            expansions += 1
            path.append(nxt)
            visited.add(nxt)
            cost.append(cost[-1] + c_edge + qubit_cost(nxt))
            stack.append(_ordered_neighbours(adjacency, nxt, visited))
    return None if best is None else best[1]


def success_probability(isa_circuit: Any, target: Any) -> float:
    """Π over the gates and measurements of the ISA circuit of (1 − error), from the device Target.

    A crude but standard figure of merit (the ESP of Nishio et al., arXiv:1910.07869); it
    ignores idle decoherence and crosstalk, so the real fidelity is lower.
    """
    return gate_error_free_fraction(isa_circuit, target) * readout_error_free_fraction(isa_circuit, target)


def gate_error_free_fraction(isa_circuit: Any, target: Any) -> float:
    """Π (1 − ε) over the gates of the ISA circuit, measurements left out (the gate part of
    :func:`success_probability`)."""
    log_p = 0.0
    for inst in isa_circuit.data:
        name = inst.operation.name
        if name in ("barrier", "delay", "measure") or name not in target.operation_names:
            continue
        qargs = tuple(isa_circuit.find_bit(q).index for q in inst.qubits)
        try:
            props = target[name].get(qargs)
        except (KeyError, TypeError):
            props = None
        e = _err(props)
        if e:
            log_p += math.log1p(-e)
    return float(math.exp(log_p))


def readout_error_free_fraction(isa_circuit: Any, target: Any, *, qubits: Sequence[int] | None = None) -> float:
    """Π (1 − ε_ro) over the read-out ``qubits`` (default: the qubits the circuit measures)."""
    if qubits is None:
        qubits = [isa_circuit.find_bit(inst.qubits[0]).index for inst in isa_circuit.data
                  if inst.operation.name == "measure"]
    log_p = 0.0
    if "measure" in target.operation_names:
        for q in qubits:
            try:
                props = target["measure"].get((int(q),))
            except (KeyError, TypeError):
                props = None
            e = _err(props)
            if e:
                log_p += math.log1p(-e)
    return float(math.exp(log_p))


def observable_qubits(observables: Sequence[Any]) -> list[int]:
    """Sorted device qubits on which any of the ISA ``observables`` (``SparsePauliOp``) acts."""
    used: set[int] = set()
    for op in observables:
        support = np.any(op.paulis.x | op.paulis.z, axis=0)
        used.update(int(q) for q in np.flatnonzero(support))
    return sorted(used)


def circuit_duration(isa_circuit: Any, target: Any) -> float | None:
    """Seconds of the longest qubit timeline (each gate takes its Target duration); None if unknown."""
    clock: dict[int, float] = {}
    known = False
    for inst in isa_circuit.data:
        name = inst.operation.name
        if name == "barrier":
            qubits = [isa_circuit.find_bit(q).index for q in inst.qubits]
            t = max((clock.get(q, 0.0) for q in qubits), default=0.0)
            for q in qubits:
                clock[q] = t
            continue
        qargs = tuple(isa_circuit.find_bit(q).index for q in inst.qubits)
        duration = 0.0
        if name in target.operation_names:
            try:
                props = target[name].get(qargs)
            except (KeyError, TypeError):
                props = None
            if props is not None and props.duration is not None:
                duration = float(props.duration)
                known = True
        start = max((clock.get(q, 0.0) for q in qargs), default=0.0)
        for q in qargs:
            clock[q] = start + duration
    return max(clock.values(), default=0.0) if known else None


def two_qubit_count(circuit: Any) -> int:
    return int(sum(1 for inst in circuit.data if inst.operation.num_qubits == 2
                   and inst.operation.name not in ("barrier", "measure")))


# --------------------------------------------------------------------------------- logical circuits
def is_variational(preparation: Any) -> bool:
    """Whether ``preparation`` is a variational ansatz (:class:`qlat.quantum.variational.ScalableAnsatz`)
    rather than an adiabatic schedule."""
    from qlat.quantum.variational import ScalableAnsatz

    return isinstance(preparation, ScalableAnsatz)


def logical_circuit(model: Any, schedule: Any, *, order: int, layout: str) -> tuple[Any, list[int]]:
    """The preparation circuit on N virtual qubits without the final order restoration.

    ``schedule``: an adiabatic schedule (Trotterized ramp) or a variational
    :class:`~qlat.quantum.variational.ScalableAnsatz` (its circuit with one circuit ``Parameter``
    per operator, bound after transpilation: see :func:`compile_adiabatic`).
    Returns ``(circuit, pos)`` where ``pos[l]`` is the virtual qubit that holds logical qubit
    (site) ``l`` at the end (the swap network reverses the chain on every ZZ layer).
    """
    if is_variational(schedule):
        from qiskit.circuit import ParameterVector

        symbols = ParameterVector("theta", schedule.n_steps)
        return schedule.logical_circuit(model, parameters=list(symbols))
    from qlat.quantum.trotter import adiabatic_circuit

    measured = adiabatic_circuit(model, schedule, order=order, layout=layout, measure=True)
    n = measured.num_qubits
    pos = [-1] * n
    for inst in measured.data:
        if inst.operation.name == "measure":
            p = measured.find_bit(inst.qubits[0]).index
            pos[measured.find_bit(inst.clbits[0]).index] = p
    require(sorted(pos) == list(range(n)), "circuit", "must measure every qubit once", pos)
    bare = measured.remove_final_measurements(inplace=False)  # drops the measurements and their barrier
    return bare, pos


def permute_operator(operator: Any, pos: Sequence[int]) -> Any:
    """The operator acting on logical qubit l moved to virtual qubit ``pos[l]``."""
    return operator.apply_layout(list(pos), num_qubits=operator.num_qubits)


# --------------------------------------------------------------------------------- compilation
@dataclass
class Candidate:
    """One compilation: ISA circuits (one per pub), their counts and success probability."""

    name: str
    circuits: list[Any]
    physical_qubits: list[int]
    pos: list[int]
    two_qubit: int
    depth: int
    success_probability: float
    duration_s: float | None

    def summary(self, n_steps: int) -> dict[str, Any]:
        per_circuit = self.two_qubit / max(len(self.circuits), 1)
        return {
            "layout": self.name,
            "physical_qubits": list(self.physical_qubits),
            "two_qubit_gates": int(round(per_circuit)),
            "two_qubit_gates_per_step": per_circuit / max(n_steps, 1),
            "depth": int(self.depth),
            "estimated_success_probability": float(self.success_probability),
            "duration_s": self.duration_s,
        }


@dataclass
class Compiled:
    """The result of :func:`compile_adiabatic`: what is submitted, and what is needed to read it.

    kind: ``"estimator"`` (one pub: circuit + mapped observables) or ``"sampler"`` (one pub per
    measurement basis).  circuits: the ISA circuits.  observables: for the estimator, the ISA
    observables (one per component, in ``keys`` order).  bases: for the sampler, the basis of
    each circuit.  chosen / candidates: the kept compilation and every candidate's summary.
    """

    kind: str
    device: str
    n_qubits: int
    n_steps: int
    circuits: list[Any]
    observables: list[Any]
    bases: list[str]
    chosen: Candidate
    candidates: dict[str, dict[str, Any]] = field(default_factory=dict)
    optimization_level: int = 2
    calibration_circuits: list[Any] = field(default_factory=list)

    def circuit_hash(self) -> str:
        """sha256 of the OpenQASM 3 text of the ISA circuits and the observable labels."""
        from qiskit import qasm3

        h = hashlib.sha256()
        for qc in [*self.circuits, *self.calibration_circuits]:
            h.update(qasm3.dumps(qc).encode())
        for op in self.observables:
            for label, coeff in op.to_list():
                h.update(f"{label}:{complex(coeff).real:.17g}:{complex(coeff).imag:.17g};".encode())
        return h.hexdigest()


def _measure_circuit(bare: Any, pos: Sequence[int], basis: str) -> Any:
    """``bare`` followed by the basis rotation on the virtual qubits of each logical pair and a
    measurement of virtual qubit pos[l] into classical bit l."""
    from qiskit import ClassicalRegister

    from qlat.quantum.ibm.postselect import pair_rotation

    n = bare.num_qubits
    qc = bare.copy()
    creg = ClassicalRegister(n, "meas")
    qc.add_register(creg)
    rotation = pair_rotation(n, basis)
    for inst in rotation.data:
        qc.append(inst.operation, [qc.qubits[pos[rotation.find_bit(q).index]] for q in inst.qubits])
    qc.barrier()
    for logical in range(n):
        qc.measure(pos[logical], creg[logical])
    return qc


def _without_elide_permutations(stage: Any) -> Any:
    """A copy of the pass-manager ``stage`` without ``ElidePermutations``."""
    from qiskit.transpiler import PassManager
    from qiskit.transpiler.passes import ElidePermutations

    out = PassManager()
    for task in stage._tasks:
        passes = [p for p in (task if isinstance(task, list) else [task]) if not isinstance(p, ElidePermutations)]
        if passes:
            out.append(passes)
    return out


def _transpile(circuits: list[Any], device: Any, *, optimization_level: int, initial_layout: list[int] | None,
               seed: int, keep_swaps: bool = False) -> list[Any]:
    """Preset pass manager of ``optimization_level``.  ``keep_swaps``: drop ``ElidePermutations``
    (levels 2, 3) from the init stage — for the swap network, whose SWAPs make every gate nearest
    neighbour on the line: elided, they leave long-range gates that routing then brings back with
    SWAPs through qubits off the line (at N = 10 on fake_torino: 14 qubits instead of 10)."""
    from qiskit.transpiler import generate_preset_pass_manager

    pm = generate_preset_pass_manager(optimization_level=optimization_level, backend=device,
                                      initial_layout=initial_layout, seed_transpiler=seed)
    if keep_swaps and pm.init is not None:
        pm.init = _without_elide_permutations(pm.init)
    return [pm.run(qc) for qc in circuits]


def _active_qubits(isa: Any) -> list[int]:
    layout = isa.layout
    if layout is None:
        return list(range(isa.num_qubits))
    return [int(q) for q in layout.initial_index_layout(filter_ancillas=True)]


def compile_adiabatic(
    model: Any,
    schedule: Any,
    device: Any,
    *,
    kind: str = "estimator",
    operators: Sequence[Any] = (),
    bases: Sequence[str] = ("Z",),
    order: int = 2,
    layout: str = "auto",
    optimization_level: int = 2,
    seed: int = 0,
    calibration: bool = False,
) -> Compiled:
    r"""Transpile the preparation circuit of ``model`` for ``device`` (a BackendV2).

    ``schedule``: an adiabatic schedule, or a :class:`~qlat.quantum.variational.ScalableAnsatz`
    (transpiled once with its parameters as circuit ``Parameter``\ s, then bound, so that
    ``calibration=True`` can add the *same* ISA circuit with every parameter 0 — the calibration
    circuit of operator decoherence renormalization, whose noiseless state is the bare vacuum;
    :mod:`qlat.quantum.ibm.mitigation`).  For an ansatz, whose gates are all nearest neighbour,
    ``layout="auto"`` compiles only the line (the default pass manager is tried when the device
    has no line of N qubits).
    kind ``"estimator"``: one circuit, ``operators`` (logical SparsePauliOps) mapped to ISA
    observables.  kind ``"sampler"``: one measured circuit per entry of ``bases``
    (:data:`qlat.quantum.ibm.postselect.PAIR_BASES`).  See the module docstring for ``layout``.
    """
    require(kind in ("estimator", "sampler"), "kind", "must be 'estimator' or 'sampler'", kind)
    if layout not in LAYOUT_CHOICES:
        raise ParameterError("layout", f"must be one of {', '.join(LAYOUT_CHOICES)}", layout)
    require(optimization_level in (0, 1, 2, 3), "optimization_level", "must be 0, 1, 2 or 3", optimization_level)
    n = int(model.n_qubits)
    if n > device.num_qubits:
        raise ParameterError("n_sites", f"device {device.name} has only {device.num_qubits} qubits", n)
    variational = is_variational(schedule)
    require(not calibration or variational, "calibration",
            "a calibration circuit is built for a variational preparation (ScalableAnsatz) only", calibration)
    target = device.target
    errors = error_map(target)
    names = ("line", "default") if layout == "auto" else (layout,)
    found: dict[str, Candidate] = {}
    zero_circuits: dict[str, list[Any]] = {}
    for name in names:
        if name == "default" and variational and layout == "auto" and "line" in found:
            continue  # nearest-neighbour gates only: the line is optimal, Sabre would only cost time
        if name == "line":
            try:
                line = best_line(errors, n)
            except ParameterError:
                if layout == "line":
                    raise
                continue
            bare, pos = logical_circuit(model, schedule, order=order, layout="line")
            initial: list[int] | None = line
        else:
            bare, pos = logical_circuit(model, schedule, order=order, layout="all-to-all")
            initial = None
        logical = [bare] if kind == "estimator" else [_measure_circuit(bare, pos, b) for b in bases]
        isa = _transpile(logical, device, optimization_level=optimization_level, initial_layout=initial, seed=seed,
                         keep_swaps=name == "line")
        if variational:
            symbols = sorted(bare.parameters, key=lambda p: p.index)
            values = dict(zip(symbols, (float(v) for v in schedule.parameters)))
            zeros = dict.fromkeys(symbols, 0.0)
            zero_circuits[name] = [qc.assign_parameters(zeros) for qc in isa] if calibration else []
            isa = [qc.assign_parameters(values) for qc in isa]
        counts = [two_qubit_count(qc) for qc in isa]
        durations = [circuit_duration(qc, target) for qc in isa]
        found[name] = Candidate(
            name=name, circuits=isa, physical_qubits=_active_qubits(isa[0]), pos=pos,
            two_qubit=int(sum(counts)), depth=int(max(qc.depth() for qc in isa)),
            success_probability=float(np.mean([success_probability(qc, target) for qc in isa])),
            duration_s=None if None in durations else float(max(d for d in durations if d is not None)),
        )
    chosen = min(found.values(), key=lambda c: (c.two_qubit, -c.success_probability))
    n_steps = int(schedule.n_steps)
    observables: list[Any] = []
    if kind == "estimator":
        isa0 = chosen.circuits[0]
        observables = [permute_operator(op, chosen.pos).apply_layout(isa0.layout) for op in operators]
    return Compiled(
        kind=kind, device=str(device.name), n_qubits=n, n_steps=n_steps, circuits=chosen.circuits,
        observables=observables, bases=list(bases) if kind == "sampler" else [], chosen=chosen,
        candidates={name: c.summary(n_steps) for name, c in found.items()}, optimization_level=optimization_level,
        calibration_circuits=zero_circuits.get(chosen.name, []),
    )


def measured_qubits(isa_circuit: Any) -> list[int]:
    """The physical qubit measured into each classical bit of an ISA circuit (index = clbit)."""
    out: dict[int, int] = {}
    for inst in isa_circuit.data:
        if inst.operation.name == "measure":
            out[isa_circuit.find_bit(inst.clbits[0]).index] = isa_circuit.find_bit(inst.qubits[0]).index
    require(sorted(out) == list(range(len(out))), "circuit", "must measure into consecutive classical bits",
            sorted(out))
    return [out[i] for i in range(len(out))]


def readout_calibration_circuits(device: Any, qubits: Sequence[int]) -> list[Any]:
    """Two ISA circuits on ``device``: measure ``qubits`` after preparing all |0⟩, then all |1⟩ (X)."""
    from qiskit import ClassicalRegister, QuantumCircuit

    circuits = []
    for flip in (False, True):
        qc = QuantumCircuit(device.num_qubits, name=f"readout_cal_{int(flip)}")
        creg = ClassicalRegister(len(qubits), "meas")
        qc.add_register(creg)
        if flip:
            for q in qubits:
                qc.x(q)
        for i, q in enumerate(qubits):
            qc.measure(q, creg[i])
        circuits.append(qc)
    return circuits

r"""Trotterized adiabatic evolution: the product formula, Qiskit circuits, layouts, gate counts.

The Hamiltonian H(t) = c + Σ_n h_n (X_nX_{n+1}+Y_nY_{n+1}) + Σ_n μ_n Z_n + Σ_{i<j} K_ij Z_iZ_j
(:mod:`qlat.theories.schwinger_qubit`) is split into three mutually non-commuting parts, each a sum
of commuting terms and therefore exponentiated exactly:

- D = c + Σ μ_n Z_n + Σ K_ij Z_iZ_j  (diagonal),
- E = Σ_{n even} h_n (XX+YY)_{n,n+1}  (hopping on even bonds, disjoint pairs),
- O = Σ_{n odd}  h_n (XX+YY)_{n,n+1}  (hopping on odd bonds).

**Time dependence.**  Step k (k = 0..n−1) runs from t_k = k dt to t_k + dt and takes all
couplings at its midpoint t̄_k = (k + ½) dt (the exponential midpoint rule, second-order
accurate in dt for the time dependence).

**Product formulas** (operators in time order, rightmost first):

- order 1:  U_k = e^{−i dt O(t̄_k)} e^{−i dt E(t̄_k)} e^{−i dt D(t̄_k)}
- order 2:  U_k = e^{−i dt/2 D} e^{−i dt/2 E} e^{−i dt O} e^{−i dt/2 E} e^{−i dt/2 D}, all at t̄_k
  (symmetric Strang splitting of D against the hopping, and of E against O inside it).

In second order the two diagonal half steps that meet between step k and k+1 commute and are
fused into one layer e^{−i (dt/2)[D(t̄_k) + D(t̄_{k+1})]} — an identity, not an approximation —
so a second-order step costs one ZZ layer like a first-order step, plus one extra half layer
of even-bond hopping.  The list of layers (:func:`trotter_plan`) is the single source from
which both the Qiskit circuit (:func:`adiabatic_circuit`) and qlat's numpy simulator
(:func:`qlat.quantum.statevector.evolve_statevector`) are built, so they apply the identical
operator, including the global phase e^{−i∫c dt} of the constant term (the circuit carries it in
``QuantumCircuit.global_phase``).

**Gates.**  e^{−iφ(XX+YY)/2} on qubits (a, b) is decomposed by hand into two CNOTs: in time
order SX_a, CX_ab, RX_a(φ) ⊗ RY_b(φ), CX_ab, SX†_a, i.e. the operator
SX†_a CX_ab e^{−iφ(X_a + Y_b)/2} CX_ab SX_a, because CX_ab X_a CX_ab = X_aX_b,
CX_ab Y_b CX_ab = Z_aY_b, SX† X SX = X and SX† Z SX = Y.  (Qiskit's XXPlusYYGate is not used.)
Z terms are RZ(2μτ) and ZZ terms RZZ(2Kτ) (2 CNOTs each after transpilation).

**Layouts.**  ``"all-to-all"``: every Z_iZ_j is one RZZ on (i, j).  ``"line"``: only
nearest-neighbour two-qubit gates; each ZZ layer is an odd–even transposition swap network
(Kivlichan et al., arXiv:1711.04789): N rounds of swaps on alternating bonds bring every pair
of qubits next to each other exactly once, and there RZZ·SWAP is applied as three CNOTs,
CX_ab RZ_b CX_ba CX_ab.  The network reverses the qubit order; the hopping layers that follow
act on the (still adjacent) reversed neighbours, and the next ZZ layer reverses the order back.
If the number of ZZ layers is odd the circuit ends with a reversal by N(N−1)/2 SWAPs so that its
state is in the original qubit order — unless ``measure=True``, where the reversal is free:
physical qubit p is measured into the classical bit of the logical qubit it holds.
Per first-order step: all-to-all 2(N−1) + 2·(N−1)(N−2)/2 = N(N−1) CNOTs (RZZ = 2 CNOTs);
line 3N(N−1)/2 + 2(N−1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qlat.core.errors import ParameterError, require, require_int
from qlat.quantum.adiabatic import AdiabaticSchedule, TermsBasis
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms, bare_vacuum_bits

if TYPE_CHECKING:  # Qiskit is imported where a circuit is built (the plan itself needs none; issue 12)
    from qiskit import QuantumCircuit

__all__ = [
    "LAYOUTS",
    "Layer",
    "TrotterPlan",
    "adiabatic_circuit",
    "gate_counts",
    "plan_circuit",
    "product_formula",
    "trotter_plan",
    "trotter_step_circuit",
]

LAYOUTS: tuple[str, ...] = ("all-to-all", "line")
ORDERS: tuple[int, ...] = (1, 2)
LayerKind = Literal["diag", "hop_even", "hop_odd"]


@dataclass(frozen=True)
class Layer:
    """One exactly exponentiated layer exp(−i Σ_{(t, τ) ∈ slices} τ·P(t)), P ∈ {D, E, O}.

    kind:   ``"diag"`` (D), ``"hop_even"`` (E) or ``"hop_odd"`` (O).
    slices: ((t, τ), …): the couplings are taken at time t for a duration τ; a fused diagonal
            layer has two slices.
    """

    kind: LayerKind
    slices: tuple[tuple[float, float], ...]

    def weights(self, basis: TermsBasis, *, theta: Any = None) -> tuple:
        """G_k = Σ_slices τ·g_k(t): the layer is exp(−i Σ_k G_k P_k) with P_k the k-th component."""
        total = None
        for t, tau in self.slices:
            g = basis.weights(t, theta=theta)
            part = tuple(tau * x for x in g)
            total = part if total is None else tuple(a + b for a, b in zip(total, part))
        assert total is not None  # a plan has at least one slice
        return total


@dataclass(frozen=True)
class TrotterPlan:
    """The ordered layers of a Trotterized evolution and the Hamiltonian components they use."""

    basis: TermsBasis
    layers: tuple[Layer, ...]
    order: int

    @property
    def n_qubits(self) -> int:
        return self.basis.n_qubits


def _check_order(order: int) -> None:
    require(order in ORDERS, "order", "must be 1 or 2", order)


def _check_layout(layout: str) -> None:
    if layout not in LAYOUTS:
        raise ParameterError("layout", f"must be one of {', '.join(LAYOUTS)}", layout)


def product_formula(n_steps: int, dt: float, *, order: int = 2) -> tuple[Layer, ...]:
    """The layer sequence of ``n_steps`` steps of size ``dt`` (module docstring), in time order."""
    _check_order(order)
    require_int(n_steps, "n_steps", minimum=1)
    layers: list[Layer] = []
    mids = [(k + 0.5) * dt for k in range(int(n_steps))]
    if order == 1:
        for t in mids:
            layers += [Layer("diag", ((t, dt),)), Layer("hop_even", ((t, dt),)), Layer("hop_odd", ((t, dt),))]
        return tuple(layers)
    half = 0.5 * dt
    layers.append(Layer("diag", ((mids[0], half),)))
    for k, t in enumerate(mids):
        layers += [Layer("hop_even", ((t, half),)), Layer("hop_odd", ((t, dt),)), Layer("hop_even", ((t, half),))]
        if k + 1 < len(mids):
            layers.append(Layer("diag", ((t, half), (mids[k + 1], half))))
        else:
            layers.append(Layer("diag", ((t, half),)))
    return tuple(layers)


def trotter_plan(model: SchwingerModel, schedule: AdiabaticSchedule, *, order: int = 2) -> TrotterPlan:
    """The layers of the adiabatic evolution of ``model`` along ``schedule``."""
    require(isinstance(schedule, AdiabaticSchedule), "schedule", "must be an AdiabaticSchedule",
            type(schedule).__name__)
    layers = product_formula(schedule.n_steps, schedule.dt, order=order)
    return TrotterPlan(basis=schedule.terms_basis(model), layers=layers, order=order)


def _static_basis(terms: SchwingerTerms) -> TermsBasis:
    return TermsBasis((terms,), ("hamiltonian",), (True,), lambda t, theta: (1.0,))


# --- circuit emission ---------------------------------------------------------------------------

def _combine(weights: tuple, arrays: list[np.ndarray], index: Any) -> Any:
    """Σ_k weights[k]·arrays[k][index], skipping structurally zero entries (float or expression)."""
    out: Any = 0.0
    for g, arr in zip(weights, arrays):
        v = float(arr[index])
        if v != 0.0:
            out = out + g * v
    return out


def _is_numeric(weights: tuple) -> bool:
    return all(isinstance(g, (int, float, np.floating, np.integer)) for g in weights)


def _nonzero_mask(arrays: list[np.ndarray]) -> np.ndarray:
    return np.any([a != 0.0 for a in arrays], axis=0)


class _Emitter:
    """Appends the layers of a plan to a circuit, tracking the logical→physical qubit map."""

    def __init__(self, basis: TermsBasis, qc: QuantumCircuit, layout: str) -> None:
        self.basis = basis
        self.qc = qc
        self.layout = layout
        self.n = basis.n_qubits
        comps = basis.components
        self.z = [c.z for c in comps]
        self.zz = [c.zz for c in comps]
        self.hop = [c.hopping for c in comps]
        self.const = [np.array(c.constant) for c in comps]
        self.z_mask = _nonzero_mask(self.z)
        self.zz_mask = _nonzero_mask(self.zz)
        self.hop_mask = _nonzero_mask(self.hop)
        self.pos = list(range(self.n))  # logical qubit -> physical position
        self.at = list(range(self.n))  # physical position -> logical qubit

    def _values(self, weights: tuple, arrays: list[np.ndarray]) -> Any:
        if _is_numeric(weights):
            total: np.ndarray = np.sum([float(g) * a for g, a in zip(weights, arrays)], axis=0)
            return lambda idx: float(total[idx])
        return lambda idx: _combine(weights, arrays, idx)

    def layer(self, layer: Layer, theta: Any) -> None:
        weights = layer.weights(self.basis, theta=theta)
        if layer.kind == "diag":
            self._diag(weights)
        else:
            self._hop(weights, 0 if layer.kind == "hop_even" else 1)

    def _diag(self, weights: tuple) -> None:
        qc, n = self.qc, self.n
        phase = _combine(weights, self.const, ())
        if not (isinstance(phase, float) and phase == 0.0):
            qc.global_phase = qc.global_phase - phase
        zval = self._values(weights, self.z)
        for q in range(n):
            if self.z_mask[q]:
                qc.rz(2 * zval(q), self.pos[q])
        zzval = self._values(weights, self.zz)
        if self.layout == "all-to-all":
            for i in range(n):
                for j in range(i + 1, n):
                    if self.zz_mask[i, j]:
                        qc.rzz(2 * zzval((i, j)), i, j)
            return
        if not self.zz_mask.any():
            return
        for rnd in range(n):
            for p in range(rnd % 2, n - 1, 2):
                i, j = sorted((self.at[p], self.at[p + 1]))
                if self.zz_mask[i, j]:
                    # RZZ(λ) then SWAP on (p, p+1) = CX(p,p+1) RZ_{p+1}(λ) CX(p+1,p) CX(p,p+1)
                    qc.cx(p, p + 1)
                    qc.rz(2 * zzval((i, j)), p + 1)
                    qc.cx(p + 1, p)
                    qc.cx(p, p + 1)
                else:
                    qc.swap(p, p + 1)
                self._swap(p)

    def _swap(self, p: int) -> None:
        a, b = self.at[p], self.at[p + 1]
        self.at[p], self.at[p + 1] = b, a
        self.pos[a], self.pos[b] = p + 1, p

    def _hop(self, weights: tuple, parity: int) -> None:
        qc = self.qc
        hval = self._values(weights, self.hop)
        for bond in range(parity, self.n - 1, 2):
            if not self.hop_mask[bond]:
                continue
            a, b = self.pos[bond], self.pos[bond + 1]
            assert self.layout == "all-to-all" or abs(a - b) == 1, "line layout lost adjacency"
            # exp(−i h τ (XX+YY)) = exp(−i φ (XX+YY)/2) with φ = 2hτ
            phi = 2 * hval(bond)
            qc.sx(a)
            qc.cx(a, b)
            qc.rx(phi, a)
            qc.ry(phi, b)
            qc.cx(a, b)
            qc.sxdg(a)

    def restore_order(self) -> None:
        """Bubble the qubits back to the original order with SWAPs (odd–even transposition)."""
        n = self.n
        for rnd in range(n):
            for p in range(rnd % 2, n - 1, 2):
                if self.at[p] > self.at[p + 1]:
                    self.qc.swap(p, p + 1)
                    self._swap(p)

    def measure(self) -> None:
        """Measure physical qubit p into the classical bit of the logical qubit it holds."""
        self.qc.barrier()
        for p in range(self.n):
            self.qc.measure(p, self.at[p])


def _plan_circuit(plan: TrotterPlan, *, layout: str, theta: Any, measure: bool, prepare: bool,
                  name: str) -> QuantumCircuit:
    from qiskit import QuantumCircuit

    n = plan.n_qubits
    qc = QuantumCircuit(n, n if measure else 0, name=name)
    if prepare:
        for q, bit in enumerate(bare_vacuum_bits(n)):
            if bit:
                qc.x(q)
    emitter = _Emitter(plan.basis, qc, layout)
    for layer in plan.layers:
        emitter.layer(layer, theta)
    if measure:
        emitter.measure()
    else:
        emitter.restore_order()
    return qc


def plan_circuit(plan: TrotterPlan, *, layout: str = "all-to-all") -> QuantumCircuit:
    """The layers of ``plan`` as a circuit on N qubits, without state preparation or measurement.

    Its unitary is the operator that :func:`qlat.quantum.statevector.evolve_plan` applies.
    """
    require(isinstance(plan, TrotterPlan), "plan", "must be a TrotterPlan", type(plan).__name__)
    _check_layout(layout)
    return _plan_circuit(plan, layout=layout, theta=None, measure=False, prepare=False,
                         name=f"trotter_plan_o{plan.order}")


def adiabatic_circuit(
    model: SchwingerModel,
    schedule: AdiabaticSchedule,
    *,
    order: int = 2,
    layout: str = "all-to-all",
    measure: bool = False,
    parameterized: bool = False,
) -> QuantumCircuit:
    """Bare-vacuum preparation followed by the Trotterized adiabatic ramp (module docstring).

    ``measure=True`` appends a measurement of every qubit (classical bit n = site n).
    ``parameterized=True`` makes θ a circuit :class:`~qiskit.circuit.Parameter` named ``"θ"``
    (the model's θ is then ignored); bind it with ``circuit.assign_parameters({θ: value})``.
    The final state (``measure=False``) equals
    :func:`qlat.quantum.statevector.evolve_statevector` including the global phase.
    """
    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    _check_order(order)
    _check_layout(layout)
    plan = trotter_plan(model, schedule, order=order)
    if parameterized:
        from qiskit.circuit import Parameter

        theta: Any = Parameter("θ")
    else:
        theta = None
    return _plan_circuit(plan, layout=layout, theta=theta, measure=measure, prepare=True,
                         name=f"adiabatic_N{model.n_sites}_o{order}")


def trotter_step_circuit(
    terms: SchwingerTerms, dt: float, *, order: int = 2, layout: str = "all-to-all"
) -> QuantumCircuit:
    """One Trotter step e^{−i dt H} (approximated) of a time-independent H, no state preparation.

    The same layers as one step of :func:`adiabatic_circuit` (for ``layout="line"`` followed by
    the order restoration, which a long circuit needs only once).
    """
    require(isinstance(terms, SchwingerTerms), "terms", "must be SchwingerTerms", type(terms).__name__)
    require(math.isfinite(dt) and dt > 0, "dt", "must be a finite number > 0", dt)
    _check_order(order)
    _check_layout(layout)
    plan = TrotterPlan(basis=_static_basis(terms), layers=product_formula(1, dt, order=order), order=order)
    return _plan_circuit(plan, layout=layout, theta=None, measure=False, prepare=False,
                         name=f"trotter_step_o{order}")


# --- gate counts ------------------------------------------------------------------------------

#: CNOTs needed for each two-qubit gate name (KAK: rzz/rxx/ryy/rzx/cp/crz… need 2, swap 3).
CNOT_COST: dict[str, int] = {
    "cx": 1, "cz": 1, "ecr": 1, "cy": 1, "ch": 1, "dcx": 2, "iswap": 2,
    "rzz": 2, "rxx": 2, "ryy": 2, "rzx": 2, "cp": 2, "crz": 2, "crx": 2, "cry": 2, "cu1": 2,
    "xx_plus_yy": 2, "xx_minus_yy": 2, "swap": 3, "cu": 2, "cu3": 2, "cs": 2, "csdg": 2, "csx": 2,
}

_NON_GATES = {"barrier", "measure", "reset", "delay"}


def _depths(circuit: QuantumCircuit) -> tuple[int, int]:
    """(depth, two-qubit depth) in one pass; directives (barriers) are skipped, every other
    instruction synchronizes its qubits and clbits, and only two-qubit gates add to the second."""
    level: dict[Any, int] = {}
    level2: dict[Any, int] = {}
    depth = depth2 = 0
    for inst in circuit.data:
        op = inst.operation
        if getattr(op, "_directive", False) or op.name == "barrier":
            continue
        wires = (*inst.qubits, *inst.clbits)
        d = 1 + max((level.get(w, 0) for w in wires), default=0)
        d2 = max((level2.get(w, 0) for w in wires), default=0)
        if op.num_qubits == 2 and op.name not in _NON_GATES:
            d2 += 1
        for w in wires:
            level[w] = d
            level2[w] = d2
        depth = max(depth, d)
        depth2 = max(depth2, d2)
    return depth, depth2


def gate_counts(circuit: QuantumCircuit) -> dict:
    """Resource counts of a circuit.

    Returns a dict with
    ``two_qubit``: CNOT-equivalent two-qubit cost (cx/cz/ecr = 1, rzz/rxx/… = 2, swap = 3; see
    :data:`CNOT_COST`); ``two_qubit_gates``: number of two-qubit instructions as written;
    ``depth``: circuit depth (barriers excluded, each instruction one layer — an RZZ counts 1);
    ``two_qubit_depth``: depth counting only two-qubit instructions; ``ops``: {gate name: count};
    ``n_qubits``.  A two-qubit gate of unknown cost, or a gate on three or more qubits, raises
    ParameterError: transpile to a standard basis first.
    """
    from qiskit import QuantumCircuit

    require(isinstance(circuit, QuantumCircuit), "circuit", "must be a qiskit QuantumCircuit",
            type(circuit).__name__)
    cnot = 0
    n2 = 0
    for inst in circuit.data:
        op = inst.operation
        if op.name in _NON_GATES:
            continue
        if op.num_qubits == 2:
            if op.name not in CNOT_COST:
                raise ParameterError("circuit", f"contains two-qubit gate {op.name!r} of unknown CNOT cost "
                                     "(transpile to cx/cz/ecr/rzz first)", op.name)
            cnot += CNOT_COST[op.name]
            n2 += 1
        elif op.num_qubits > 2:
            raise ParameterError("circuit", f"contains the {op.num_qubits}-qubit gate {op.name!r} "
                                 "(transpile to one- and two-qubit gates first)", op.name)
    depth, depth2 = _depths(circuit)
    return {
        "two_qubit": int(cnot),
        "two_qubit_gates": int(n2),
        "depth": int(depth),
        "two_qubit_depth": int(depth2),
        "ops": {str(k): int(v) for k, v in circuit.count_ops().items()},
        "n_qubits": int(circuit.num_qubits),
    }

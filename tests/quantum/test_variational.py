"""SC-ADAPT-VQE (qlat.quantum.variational): the circuit is the simulated ansatz, and it matches ED at small N.

References are computed here independently: Qiskit's Statevector of the circuit, and exact
diagonalization (qlat.quantum.exact_backend) of the same model.  Power checks: the bare vacuum
(every parameter 0) and a value scaled by 1.25 fail the same tolerances.
"""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.quantum.exact_backend import exact_estimates
from qlat.quantum.variational import (
    AnsatzSimulator,
    PoolOperator,
    ScalableAnsatz,
    VariationalBackend,
    train_ansatz,
)
from qlat.theories.schwinger_qubit import SchwingerModel

MODEL = SchwingerModel(8, 1.0, 0.5)


def test_the_exact_simulation_is_the_circuit_and_the_circuit_needs_only_a_line():
    from qiskit.quantum_info import Statevector

    model = SchwingerModel(6, 0.7, 0.3, theta=0.4)
    ops = (PoolOperator("mh", 1), PoolOperator("h", 3), PoolOperator("mh", 2), PoolOperator("h", 1))
    ansatz = ScalableAnsatz(ops, (0.31, -0.22, 0.17, -0.09))
    mine = AnsatzSimulator(model).full_state(ansatz.operators, ansatz.parameters)
    circuit = ansatz.circuit(6)
    theirs = Statevector(circuit).data
    assert np.max(np.abs(mine - theirs)) < 1e-12  # same state, same phase
    # charge conserved: the state lives on the N/2-particle states
    occupied = np.flatnonzero(np.abs(theirs) > 1e-12)
    assert set(np.bitwise_count(occupied.astype(np.int64))) == {3}
    for inst in circuit.data:
        if inst.operation.num_qubits == 2:
            a, b = (circuit.find_bit(q).index for q in inst.qubits)
            assert abs(a - b) == 1
    # a sign error in the Z string or in the staggering would change the state
    flipped = ScalableAnsatz((PoolOperator("h", 1), *ops[1:]), ansatz.parameters)
    assert np.max(np.abs(Statevector(flipped.circuit(6)).data - mine)) > 0.05


def test_trained_ansatz_matches_exact_diagonalization_at_small_n():
    trained = train_ansatz(MODEL, sizes=(6, 8))
    assert [op.name for op in trained.operators][0] == "mh1"  # pair creation first (largest gradient)
    exact = exact_estimates(MODEL, observables=["energy", "condensate"])
    sim = AnsatzSimulator(MODEL)
    ansatz = trained.ansatz(8)
    psi = sim.state(ansatz.operators, ansatz.parameters)
    from qlat.quantum.observables import qubit_observable

    ops = {k: qubit_observable(k, MODEL).terms[0] for k in ("energy", "condensate")}
    got = sim.expectations(psi, ops)
    assert trained.fidelity[8] > 0.999
    tol = {"energy": 5e-3, "condensate": 2e-3 * abs(exact["condensate"].value)}
    for key in ops:
        assert abs(got[key] - exact[key].value) < tol[key], key
        assert trained.errors[8][key] == pytest.approx(got[key] - exact[key].value, abs=1e-10)
        # power: a value 25 % off and the bare vacuum both fail the tolerance
        assert abs(1.25 * got[key] - exact[key].value) > 10 * tol[key]
    bare = sim.expectations(sim.initial, ops)
    assert abs(bare["condensate"] - exact["condensate"].value) > 10 * tol["condensate"]


def test_backend_extrapolated_to_a_longer_chain_covers_exact_diagonalization():
    model = SchwingerModel(14, 1.0, 0.5)
    out = VariationalBackend().estimate(model, ["energy", "condensate"], sizes=(6, 8, 10))
    exact = exact_estimates(model, observables=["energy", "condensate"])
    for key in ("energy", "condensate"):
        est = out[key]
        sources = est.provenance["systematic_sources"]
        assert set(sources) == {"variational", "extrapolation"} and est.error == 0.0
        distance = abs(est.value - exact[key].value)
        assert distance <= 2 * est.total_error, (key, est, exact[key].value)  # covered
        assert est.total_error <= 5 * max(distance, 1e-4), key  # and not hiding it in a wide bar
        scaled = 1.25 * est.value
        assert abs(scaled - exact[key].value) > 3 * est.total_error  # a 1.25x estimator fails
    assert out["condensate"].provenance["ansatz"]["parameters_from"].startswith("fit")
    assert out["condensate"].backend == "sc-adapt-vqe"


def test_pool_names_and_bad_input():
    assert PoolOperator.parse("mh3") == PoolOperator("mh", 3) and PoolOperator("h", 2).name == "h2"
    assert [a for a, _ in PoolOperator("h", 2).hops(8)] == [0, 1, 4, 5, 2, 3]  # commuting sets A then B
    for bad in ("x1", "mh", "3"):
        with pytest.raises(ParameterError):
            PoolOperator.parse(bad)
    with pytest.raises(ParameterError, match="distances"):
        train_ansatz(MODEL, sizes=(4, 6), distances=(1, 5))
    with pytest.raises(ParameterError, match="sizes"):
        train_ansatz(MODEL, sizes=(8, 6))
    with pytest.raises(ParameterError, match="options"):
        VariationalBackend().estimate(MODEL, ["energy"], shots=10)

"""PauliSum: the model layer's Qiskit-free operator, checked against Qiskit's SparsePauliOp."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError
from qlat.exact.sector_operators import pauli_expectations, pauli_masks
from qlat.theories.pauli_sum import PauliSum

TERMS = [("", [], 0.3), ("XY", [2, 0], 0.7 - 0.2j), ("YZ", [1, 3], -1.1), ("ZZ", [0, 3], 0.25),
         ("X", [1], 0.5), ("YXZ", [3, 1, 2], 0.9), ("ZX", [3, 0], -0.4)]


def _random_state(n, seed=0):
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return psi / np.linalg.norm(psi)


def test_matrix_equals_qiskit_sparse_list():
    ps = PauliSum.from_sparse_list(TERMS, num_qubits=4)
    reference = SparsePauliOp.from_sparse_list(TERMS, num_qubits=4)
    assert np.allclose(ps.to_sparse_pauli_op().to_matrix(), reference.to_matrix(), atol=1e-15)


def test_masks_give_the_same_expectation_as_the_matrix():
    """Z^z X^x with the (−i)^{n_Y} phase: ⟨ψ|O|ψ⟩ from the masks equals the dense Qiskit matrix."""
    hermitian = [("XY", [2, 0], 0.7), ("YZ", [1, 3], -1.1), ("Y", [2], 0.3), ("YY", [0, 1], 0.8),
                 ("ZZ", [0, 3], 0.25), ("", [], 0.1)]
    ps = PauliSum.from_sparse_list(hermitian, num_qubits=4)
    psi = _random_state(4)
    dense = SparsePauliOp.from_sparse_list(hermitian, num_qubits=4).to_matrix()
    exact = float(np.real(np.vdot(psi, dense @ psi)))
    support = np.arange(psi.size, dtype=np.int64)
    assert abs(pauli_expectations(psi, support, *pauli_masks(ps)) - exact) < 1e-13
    # and the masks agree with those read off the SparsePauliOp
    x1, z1, c1 = pauli_masks(ps)
    x2, z2, c2 = pauli_masks(SparsePauliOp.from_sparse_list(hermitian, num_qubits=4))
    assert np.array_equal(x1, x2) and np.array_equal(z1, z2) and np.allclose(c1, c2, atol=1e-15)


def test_algebra_and_simplify():
    a = PauliSum.from_sparse_list([("Z", [0], 1.0), ("XX", [0, 1], 2.0)], num_qubits=2)
    b = PauliSum.from_sparse_list([("Z", [0], 0.5), ("XX", [1, 0], 2.0)], num_qubits=2)  # same string, reordered
    diff = (a - b).simplify(atol=0.0)
    assert diff.terms == (("Z", (0,), 0.5 + 0j),)
    total = ((a + b) / 2.0).simplify()
    ref = (a.to_sparse_pauli_op() + b.to_sparse_pauli_op()) / 2.0
    assert np.allclose(total.to_sparse_pauli_op().to_matrix(), ref.to_matrix(), atol=1e-15)
    zero = (a - a).simplify()
    assert np.allclose(zero.to_sparse_pauli_op().to_matrix(), 0.0)
    assert PauliSum.from_sparse_list([("ZZ", [0, 1], 1.0), ("", [], 2.0)], num_qubits=2).is_diagonal
    assert not a.is_diagonal


@pytest.mark.parametrize("terms, match", [
    ([("XZ", [0], 1.0)], "one qubit per letter"),
    ([("Q", [0], 1.0)], "I, X, Y, Z"),
    ([("XX", [1, 1], 1.0)], "at most once"),
    ([("X", [5], 1.0)], r"\[0, 2\)"),
])
def test_bad_terms_are_refused(terms, match):
    with pytest.raises(ParameterError, match=match):
        PauliSum.from_sparse_list(terms, num_qubits=2)


def test_sizes_must_match():
    with pytest.raises(ParameterError, match="qubits"):
        PauliSum.from_sparse_list([("Z", [0], 1.0)], num_qubits=1) + PauliSum.from_sparse_list(
            [("Z", [0], 1.0)], num_qubits=2)


def test_compose_is_the_matrix_product():
    """Every single-qubit product (phases included) against Qiskit's dense matrices."""
    left = PauliSum.from_sparse_list(TERMS, num_qubits=4)
    right = PauliSum.from_sparse_list([("YX", [0, 2], 0.6), ("ZY", [1, 3], -0.3j), ("XZ", [0, 1], 1.2),
                                       ("Y", [3], 0.8), ("", [], -0.5)], num_qubits=4)
    for a, b in ((left, right), (right, left), (left, left)):
        product = a.compose(b).to_sparse_pauli_op().to_matrix()
        expected = a.to_sparse_pauli_op().to_matrix() @ b.to_sparse_pauli_op().to_matrix()
        assert np.allclose(product, expected, atol=1e-13)
    for p in "XYZ":
        for q in "XYZ":
            one = PauliSum.from_sparse_list([(p, [0], 1.0)], num_qubits=1)
            two = PauliSum.from_sparse_list([(q, [0], 1.0)], num_qubits=1)
            expected = one.to_sparse_pauli_op().to_matrix() @ two.to_sparse_pauli_op().to_matrix()
            assert np.allclose(one.compose(two).to_sparse_pauli_op().to_matrix(), expected), (p, q)


def test_z_linear_reads_constant_and_z_coefficients():
    op = PauliSum.from_sparse_list([("", [], 0.5), ("Z", [2], -1.5), ("Z", [0], 0.25), ("Z", [2], 0.5)], num_qubits=3)
    constant, linear = op.z_linear()
    assert constant == 0.5 and np.allclose(linear, [0.25, 0.0, -1.0])
    assert PauliSum.from_sparse_list([("ZZ", [0, 1], 1.0)], num_qubits=2).z_linear() is None
    assert PauliSum.from_sparse_list([("X", [0], 1.0)], num_qubits=2).z_linear() is None

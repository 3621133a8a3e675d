"""Compiled sector kernels: against the numpy path they replaced, dense operators and brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from qiskit.quantum_info import PauliList, SparsePauliOp, Statevector

from qlat.exact.diagonalization import physical_sector_indices
from qlat.quantum import sector_trotter_layers as sk
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.statevector import evolve_plan, evolve_statevector, expectation_values
from qlat.quantum.trotter import trotter_plan
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_index


def _numpy_reference(plan, basis: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """The numpy path the kernels replaced: exact diagonals, np.take pair gathers, scatters."""
    comps = plan.basis.components
    diags = [c.diagonal(basis) for c in comps]
    pairs = []
    for bond in range(plan.n_qubits - 1):
        ia = np.flatnonzero(((basis >> bond) & 3) == 1)
        pairs.append((ia, np.searchsorted(basis, basis[ia] ^ (np.int64(3) << bond))))
    psi = psi.copy()
    for layer in plan.layers:
        w = [float(g) for g in layer.weights(plan.basis)]
        if layer.kind == "diag":
            psi *= np.exp(-1j * sum(g * d for g, d in zip(w, diags)))
            continue
        angles = sum(g * c.hopping for g, c in zip(w, comps))
        for bond in range(0 if layer.kind == "hop_even" else 1, plan.n_qubits - 1, 2):
            ia, ib = pairs[bond]
            c, s = math.cos(2 * angles[bond]), -1j * math.sin(2 * angles[bond])
            a, b = psi[ia], psi[ib]
            psi[ia], psi[ib] = c * a + s * b, c * b + s * a
    return psi


@pytest.mark.parametrize("n, formulation, theta", [(4, "rotated", 0.7), (12, "rotated", 0.0),
                                                   (14, "electric", 1.3), (14, "rotated", 2.1)])
def test_evolution_equals_the_numpy_path_it_replaced(n, formulation, theta):
    model = SchwingerModel(n, 0.5, 0.2, theta=theta, formulation=formulation)
    schedule = AdiabaticSchedule(1.0, 0.1, initial_mass=0.8, ramp="sin2")
    basis = physical_sector_indices(n)
    psi0 = np.zeros(basis.size, dtype=complex)
    psi0[np.searchsorted(basis, bare_vacuum_index(n))] = 1.0
    expected = _numpy_reference(trotter_plan(model, schedule, order=2), basis, psi0)
    got = evolve_statevector(model, schedule)
    np.testing.assert_allclose(got[basis], expected, atol=1e-12, rtol=0)


@pytest.mark.parametrize("order", [1, 2])
def test_every_charge_sector_equals_the_numpy_path(order, monkeypatch):
    """A random state over all sectors of N = 8, with blocks of 3 low bits (high bonds exercised)."""
    monkeypatch.setattr(sk, "_LOW_BITS", 2)
    sk.sector_layout.cache_clear()
    try:
        n = 8
        model = SchwingerModel(n, 0.5, 0.3, theta=0.4, formulation="electric")
        plan = trotter_plan(model, AdiabaticSchedule(0.6, 0.2), order=order)
        rng = np.random.default_rng(5)
        state = rng.standard_normal(2**n) + 1j * rng.standard_normal(2**n)
        got = evolve_plan(plan, state)
        counts = np.bitwise_count(np.arange(2**n))
        for p in range(n + 1):
            basis = np.flatnonzero(counts == p).astype(np.int64)
            np.testing.assert_allclose(got[basis], _numpy_reference(plan, basis, state[basis]), atol=1e-12, rtol=0)
    finally:
        sk.sector_layout.cache_clear()


def _hopping_matrix(n: int, angles: np.ndarray, parity: int) -> np.ndarray:
    terms = [("XX", [b, b + 1], angles[b]) for b in range(parity, n - 1, 2)]
    terms += [("YY", [b, b + 1], angles[b]) for b in range(parity, n - 1, 2)]
    return SparsePauliOp.from_sparse_list(terms, num_qubits=n).to_matrix()


@pytest.mark.parametrize("low_bits", [2, 3, 4, 10])
@pytest.mark.parametrize("parity", [0, 1])
def test_hop_layer_is_the_exponential_of_the_bond_terms(low_bits, parity, monkeypatch):
    """exp(−i Σ_{bonds of parity} φ_n (XX+YY)) on a random sector state, low/high split at any m."""
    monkeypatch.setattr(sk, "_LOW_BITS", low_bits)
    sk.sector_layout.cache_clear()
    try:
        n, p = 9, 4
        rng = np.random.default_rng(low_bits + 10 * parity)
        angles = rng.uniform(-1.0, 1.0, n - 1)
        basis = sk.sector_basis(n, p)
        psi = rng.standard_normal(basis.size) + 1j * rng.standard_normal(basis.size)
        full = np.zeros(2**n, dtype=complex)
        full[basis] = psi
        expected = scipy.linalg.expm(-1j * _hopping_matrix(n, angles, parity)) @ full
        table = np.exp(1j * rng.uniform(0, 2 * np.pi, 3))
        cls = rng.integers(0, 3, basis.size).astype(np.uint16)
        re, im = psi.real.copy(), psi.imag.copy()
        sk.apply_hop_layer(re, im, sk.sector_layout(n, p, parity), angles)
        np.testing.assert_allclose(re + 1j * im, expected[basis], atol=1e-12, rtol=0)
        # with the diagonal phase fused in front
        re, im = psi.real.copy(), psi.imag.copy()
        sk.apply_hop_layer(re, im, sk.sector_layout(n, p, parity), angles, phase=(table, cls))
        full[basis] = psi * table[cls]
        expected = scipy.linalg.expm(-1j * _hopping_matrix(n, angles, parity)) @ full
        np.testing.assert_allclose(re + 1j * im, expected[basis], atol=1e-12, rtol=0)
    finally:
        sk.sector_layout.cache_clear()


def test_sector_basis_is_the_sorted_popcount_set():
    for n in (1, 2, 5, 8):
        idx = np.arange(2**n)
        for p in range(n + 1):
            np.testing.assert_array_equal(sk.sector_basis(n, p), idx[np.bitwise_count(idx) == p])
    np.testing.assert_array_equal(sk.sector_basis(12, 6), physical_sector_indices(12))


@pytest.mark.parametrize("formulation, theta", [("rotated", 0.9), ("electric", 2.5)])
def test_sector_diagonal_matches_the_terms(formulation, theta):
    model = SchwingerModel(10, 0.4, 0.3, theta=theta, formulation=formulation)
    terms = model.terms()
    basis = physical_sector_indices(10)
    got = sk.sector_diagonal(basis, constant=terms.constant, z=terms.z, zz=terms.zz)
    np.testing.assert_allclose(got, terms.diagonal(basis), atol=1e-12, rtol=0)


def test_diagonal_classes_reproduce_the_values_and_fall_back_to_exact():
    rng = np.random.default_rng(2)
    few = rng.integers(0, 5, (3, 400)) * 0.37
    cls, values = sk.diagonal_classes(few, limit=4096)
    assert values.shape[1] <= 125 and cls.dtype == np.uint16
    np.testing.assert_allclose(values[:, cls], few, atol=1e-12, rtol=0)
    cls, values = sk.diagonal_classes(few, limit=3)
    np.testing.assert_array_equal(cls, np.arange(400))
    np.testing.assert_array_equal(values, few)


@pytest.mark.parametrize("compiled", [False, True])
def test_expectations_on_the_support_match_dense_operators(compiled, monkeypatch):
    from qlat.exact import sector_operators as exact_operators

    monkeypatch.setattr(exact_operators, "COMPILED_MIN_STATES", 0 if compiled else 10**9)
    rng = np.random.default_rng(7)
    n = 8
    basis = physical_sector_indices(n)
    state = np.zeros(2**n, dtype=complex)
    state[basis] = rng.standard_normal(basis.size) + 1j * rng.standard_normal(basis.size)
    model = SchwingerModel(n, 0.5, 0.3, theta=1.1)
    labels = ["".join(rng.choice(list("IXYZ"), n)) for _ in range(12)]
    random_op = SparsePauliOp(labels, rng.standard_normal(12))
    random_op = (random_op + random_op.adjoint()).simplify()
    signed = SparsePauliOp(PauliList(["-IIIIIIXY", "IIIIYYZX"]), [0.5, 0.3])  # a Pauli with a group phase
    observables = {"H": model.hamiltonian(), "random": random_op, "signed": (signed + signed.adjoint()).simplify()}
    values = expectation_values(state, observables)
    sv = Statevector(state)
    for name, op in observables.items():
        assert values[name] == pytest.approx(float(np.real(sv.expectation_value(op))), abs=1e-11)

"""Qubit realizations of the common observables, checked on hand-computed basis states and ED."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import NoRealizationError, ParameterError
from qlat.core.observable_registry import OBSERVABLES
from qlat.quantum.measurement import observable_bases
from qlat.quantum.observables import (
    QubitObservable,
    condensate_operator,
    free_condensate,
    free_condensate_infinite_volume,
    physical_condensate_operator,
    qubit_observable,
)
from qlat.theories.pauli_sum import PauliSum
from qlat.theories.schwinger_qubit import FORMULATIONS, SchwingerModel, bare_vacuum_bits, schwinger_terms

NAMES = (
    "energy",
    "energy_density",
    "condensate",
    "condensate_subtracted",
    "electric_field",
    "charge_density",
    "total_charge",
)


def _basis_state(occupation) -> np.ndarray:
    """Statevector of a Fock state; qubit bit 0 = occupied, little-endian index."""
    bits = 1 - np.asarray(occupation, dtype=np.int64)
    state = np.zeros(2**bits.size, dtype=complex)
    state[int(np.sum(bits << np.arange(bits.size)))] = 1.0
    return state


def _hand_values(model: SchwingerModel, occupation) -> dict[str, np.ndarray | float]:
    occ = np.asarray(occupation, dtype=float)
    n = model.n_sites
    sign = (-1.0) ** np.arange(n)
    m = model.mass
    rotated = model.formulation == "rotated"
    mu = (m * math.cos(model.theta) if rotated else m) - model.mass_offset
    vartheta = 0.0 if rotated else model.theta / (2 * math.pi)
    charge = occ - (1 - sign) / 2
    links = np.cumsum(charge)[:-1] + vartheta
    z = 2 * occ - 1
    energy = model.J * np.sum(links**2) + mu * np.sum(sign * occ)
    return {
        "charge_density": charge,
        "electric_field": links,
        "total_charge": charge.sum(),
        "condensate": np.sum(sign * z) / (2 * model.spacing * n),
        "energy": energy,
        "energy_density": energy / (n * model.spacing),
    }


def _ground_state(op: SparsePauliOp) -> tuple[float, np.ndarray]:
    vals, vecs = np.linalg.eigh(op.to_matrix())
    assert vals[1] - vals[0] > 1e-6, "test needs a non-degenerate ground state"
    return float(vals[0]), vecs[:, 0]


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_every_name_is_realized(formulation):
    model = SchwingerModel(4, spacing=0.5, mass=0.2, theta=0.3, formulation=formulation)
    lengths = {"electric_field": 3, "charge_density": 4}
    for name in NAMES:
        obs = qubit_observable(name, model)
        assert isinstance(obs, QubitObservable)
        assert obs.name == name and obs.unit == OBSERVABLES.get(name).unit
        assert len(obs.operators) == len(obs.labels) == lengths.get(name, 1)
        assert obs.is_scalar == (name not in lengths)
        assert obs.is_diagonal == (name not in ("energy", "energy_density"))
        assert obs.num_qubits == 4
    assert qubit_observable("electric_field", model).labels == ("L_0", "L_1", "L_2")
    assert observable_bases(qubit_observable("energy", model)) == ["ZZZZ", "XXXX", "YYYY"]
    assert observable_bases(qubit_observable("charge_density", model)) == ["ZZZZ"]


def test_unrealized_and_unknown_observables_raise():
    model = SchwingerModel(4, spacing=0.5, mass=0.2)
    with pytest.raises(NoRealizationError, match="plaquette"):
        qubit_observable("plaquette", model)
    with pytest.raises(ParameterError, match="observable"):
        qubit_observable("no_such_observable", model)


def test_qubit_observable_validates_its_fields():
    op = PauliSum.from_sparse_list([("Z", [1], 1.0)], num_qubits=2)
    with pytest.raises(ParameterError, match="labels"):
        QubitObservable("x", (op, op), ("a",), "1")
    with pytest.raises(ParameterError, match="terms"):
        QubitObservable("x", (op, PauliSum.from_sparse_list([("Z", [0], 1.0)], num_qubits=1)), ("a", "b"), "1")
    with pytest.raises(ParameterError, match="PauliSum"):
        QubitObservable("x", (SparsePauliOp("ZI"),), ("a",), "1")


def test_operators_are_the_terms_as_sparse_pauli_ops():
    """The Qiskit view (built on first use) equals the PauliSum, component by component."""
    model = SchwingerModel(6, spacing=0.4, mass=0.3, theta=0.7)
    for name in ("energy", "condensate_subtracted", "electric_field"):
        obs = qubit_observable(name, model)
        for terms, op in zip(obs.terms, obs.operators, strict=True):
            assert np.allclose(terms.to_sparse_pauli_op().to_matrix(), op.to_matrix(), atol=1e-14)
    assert np.allclose(qubit_observable("energy", model).operators[0].to_matrix(),
                       model.hamiltonian().to_matrix(), atol=1e-13)


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_bare_vacuum(formulation):
    model = SchwingerModel(6, spacing=0.4, mass=0.7, theta=1.1, formulation=formulation, mass_shift=True)
    occupation = 1 - bare_vacuum_bits(6)  # odd sites occupied
    np.testing.assert_array_equal(occupation, [0, 1, 0, 1, 0, 1])
    state = _basis_state(occupation)
    hand = _hand_values(model, occupation)
    assert qubit_observable("condensate", model).expectation(state)[0] == pytest.approx(-1 / (2 * 0.4), abs=1e-12)
    np.testing.assert_allclose(qubit_observable("charge_density", model).expectation(state), 0.0, atol=1e-12)
    assert abs(qubit_observable("total_charge", model).expectation(state)[0]) < 1e-12
    vartheta = 1.1 / (2 * math.pi) if formulation == "electric" else 0.0
    np.testing.assert_allclose(qubit_observable("electric_field", model).expectation(state), vartheta, atol=1e-12)
    for name in ("energy", "energy_density"):
        assert qubit_observable(name, model).expectation(state)[0] == pytest.approx(hand[name], abs=1e-12)


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_one_pair_excited(formulation):
    """Empty site 1 and fill site 4 of the bare vacuum: charges −1, +1 and L = −1 between them."""
    model = SchwingerModel(6, spacing=0.9, mass=0.3, theta=2.2, formulation=formulation)
    occupation = np.array([0, 0, 0, 1, 1, 1])
    state = _basis_state(occupation)
    vartheta = 2.2 / (2 * math.pi) if formulation == "electric" else 0.0
    np.testing.assert_allclose(
        qubit_observable("charge_density", model).expectation(state), [0, -1, 0, 0, 1, 0], atol=1e-12
    )
    np.testing.assert_allclose(
        qubit_observable("electric_field", model).expectation(state),
        np.array([0, -1, -1, -1, 0]) + vartheta,
        atol=1e-12,
    )
    assert abs(qubit_observable("total_charge", model).expectation(state)[0]) < 1e-12
    assert qubit_observable("condensate", model).expectation(state)[0] == pytest.approx(
        -(6 - 4) / (2 * 0.9 * 6), abs=1e-12
    )
    hand = _hand_values(model, occupation)
    # the energy observable is the diagonal of H
    diag = model.terms().diagonal()
    k = int(np.sum((1 - occupation) << np.arange(6)))
    for name in ("energy", "energy_density"):
        value = qubit_observable(name, model).expectation(state)[0]
        assert value == pytest.approx(hand[name], abs=1e-12)
    assert qubit_observable("energy", model).expectation(state)[0] == pytest.approx(diag[k], abs=1e-12)


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_random_basis_states_against_hand_values(formulation):
    model = SchwingerModel(8, spacing=0.6, mass=0.45, theta=-0.8, formulation=formulation, mass_shift=True)
    rng = np.random.default_rng(3)
    for _ in range(5):
        occupation = rng.integers(0, 2, size=8)
        state = _basis_state(occupation)
        hand = _hand_values(model, occupation)
        for name in ("charge_density", "electric_field", "total_charge", "condensate", "energy"):
            np.testing.assert_allclose(
                qubit_observable(name, model).expectation(state), np.atleast_1d(hand[name]), atol=1e-12
            )


@pytest.mark.parametrize(
    ("formulation", "n_sites", "mass", "spacing", "theta"),
    [
        ("rotated", 2, 0.5, 0.7, 0.0),
        ("rotated", 4, 0.3, 0.5, 0.8),
        ("rotated", 6, 1.2, 0.9, 2.5),
        ("rotated", 8, 0.2, 1.3, -1.0),
        ("electric", 4, 0.4, 0.6, 1.0),
        ("electric", 8, 0.9, 0.4, 3.0),
    ],
)
def test_free_condensate_against_ed(formulation, n_sites, mass, spacing, theta):
    """Single-particle result = ED of the J = 0 qubit Hamiltonian; the subtraction then vanishes."""
    model = SchwingerModel(n_sites, spacing=spacing, mass=mass, theta=theta, formulation=formulation)
    free_h = schwinger_terms(
        n_sites, w=model.w, J=0.0, mass=model.mass, theta=theta, formulation=formulation,
        mass_offset=model.mass_offset,
    ).to_sparse_pauli_op()
    _, psi = _ground_state(free_h)
    exact = float(np.real(np.vdot(psi, condensate_operator(model).to_matrix() @ psi)))
    assert free_condensate(model) == pytest.approx(exact, abs=1e-10)
    subtracted = qubit_observable("condensate_subtracted", model)
    assert abs(subtracted.expectation(psi)[0]) < 1e-10
    # the interacting model's condensate differs from the free one
    _, psi_int = _ground_state(model.hamiltonian())
    assert abs(subtracted.expectation(psi_int)[0]) > 1e-4


@pytest.mark.parametrize(
    ("mass", "spacing", "theta"), [(0.3, 0.5, 0.7), (1.0, 0.25, 0.0), (0.5, 1.0, 2.8), (2.5, 0.6, 1.4)]
)
def test_free_condensate_approaches_infinite_volume(mass, spacing, theta):
    """Open chain: f(N) = f(∞) + c/N + O(e^{−N}); Richardson 2f(2N) − f(N) removes c/N."""
    inf = free_condensate_infinite_volume(mass, spacing, theta)
    values = {n: free_condensate(SchwingerModel(n, spacing=spacing, mass=mass, theta=theta)) for n in (20, 200, 400)}
    assert abs(values[200] - inf) < abs(values[20] - inf)
    assert abs(2 * values[400] - values[200] - inf) < 1e-9 * max(1.0, abs(inf))


def test_free_condensate_infinite_volume_limits():
    # logarithmic divergence −(m/π) ln(4/(ma)) as a → 0 (docs/references.md)
    m, a = 0.4, 1e-5
    assert free_condensate_infinite_volume(m, a) == pytest.approx(-(m / math.pi) * math.log(4 / (m * a)), rel=1e-8)
    # docs/references.md's form with scipy's ellipk (parameter k²), at points with k² in (0, 1) and k² < 0
    from scipy.special import ellipk

    for m, a, theta in [(0.7, 0.5, 0.4), (3.0, 0.8, 1.2)]:
        mc, ms = m * math.cos(theta), m * math.sin(theta)
        k2 = (1 - (ms * a) ** 2) / (1 + (mc * a) ** 2)
        reference = -(mc / math.pi) * ellipk(k2) / math.sqrt(1 + (mc * a) ** 2)
        assert free_condensate_infinite_volume(m, a, theta) == pytest.approx(reference, rel=1e-12)
    # the rotated chain at θ = π/2 and the massless chain are chirally symmetric
    assert free_condensate_infinite_volume(0.0, 0.5, 0.3) == 0.0
    assert abs(free_condensate_infinite_volume(0.7, 0.5, math.pi / 2)) < 1e-15
    # θ → θ + π flips the sign of the staggered mass m cos θ
    assert free_condensate_infinite_volume(0.7, 0.5, 0.4 + math.pi) == pytest.approx(
        -free_condensate_infinite_volume(0.7, 0.5, 0.4), rel=1e-12
    )
    with pytest.raises(ParameterError, match="a"):
        free_condensate_infinite_volume(0.5, 0.0)
    with pytest.raises(ParameterError, match="m: must be a finite number"):
        free_condensate_infinite_volume(float("nan"), 0.5)
    with pytest.raises(ParameterError, match="theta: must be a finite number"):
        free_condensate_infinite_volume(0.5, 0.5, float("inf"))


@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_physical_condensate_is_dE_dm(formulation):
    """Hellmann–Feynman: ⟨∂H/∂m⟩/(Na) in the ground state = ∂E₀/∂m/(Na) (central difference)."""
    model = SchwingerModel(6, spacing=0.7, mass=0.35, theta=1.2, formulation=formulation, mass_shift=True)
    op = physical_condensate_operator(model)
    _, psi = _ground_state(model.hamiltonian())
    hf = float(np.real(np.vdot(psi, op.to_matrix() @ psi)))
    h = 1e-4
    e_plus, _ = _ground_state(model.with_(mass=model.mass + h).hamiltonian())
    e_minus, _ = _ground_state(model.with_(mass=model.mass - h).hamiltonian())
    derivative = (e_plus - e_minus) / (2 * h) / model.volume
    assert hf == pytest.approx(derivative, abs=1e-7)

    # explicit form: electric S; rotated cos θ S + sin θ P
    n, a = model.n_sites, model.spacing
    s_op = condensate_operator(model)
    if formulation == "electric":
        expected = s_op
    else:
        p_terms = [(pp, [k, k + 1], -((-1) ** k) / (4 * a * n)) for k in range(n - 1) for pp in ("XX", "YY")]
        p_op = SparsePauliOp.from_sparse_list(p_terms, num_qubits=n)
        expected = math.cos(model.theta) * s_op + math.sin(model.theta) * p_op
    np.testing.assert_allclose(op.to_matrix(), expected.to_matrix(), atol=1e-12)

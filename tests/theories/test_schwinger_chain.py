"""SchwingerChain: chain_terms (odd chains, external charges) against Gauss's law, and its mirror symmetries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.exact.diagonalization import sparse_on
from qlat.exact.levels import mirror_indices
from qlat.exact.sector_operators import sector_basis
from qlat.theories.schwinger_qubit import SchwingerChain, SchwingerModel, chain_terms, schwinger_terms


@pytest.mark.parametrize("formulation", ["rotated", "electric"])
def test_chain_terms_equal_schwinger_terms_for_neutral_even_chains(formulation):
    kw = dict(w=1.3, J=0.4, mass=0.37, theta=1.1, formulation=formulation, mass_offset=0.05)
    a, b = schwinger_terms(8, **kw), chain_terms(8, **kw)
    assert np.array_equal(a.z, b.z) and np.array_equal(a.zz, b.zz) and np.array_equal(a.hopping, b.hopping)
    assert a.constant == b.constant
    model = SchwingerModel(8, 0.6, 0.3, theta=0.8, formulation=formulation, mass_shift=True)
    c = SchwingerChain.from_model(model).terms()
    assert np.array_equal(c.z, model.terms().z) and c.constant == model.terms().constant


def _gauss_energy(chain: SchwingerChain, bits: np.ndarray) -> float:
    """The diagonal energy of a product state written from the definitions (no Pauli expansion):
    J Σ_n E_n² with E_n = ϑ + Σ_{i≤n}(Q_i + q_i), Q_i = (Z_i + (−1)^i)/2, plus the staggered mass."""
    z = 1.0 - 2.0 * bits
    sign = (-1.0) ** np.arange(chain.n_sites)
    field = chain.background_field + np.cumsum(0.5 * (z + sign) + chain.charges())[:-1]
    mass = chain.mass - chain.mass_offset if chain.formulation == "electric" else (
        chain.mass * math.cos(chain.theta) - chain.mass_offset)
    return float(chain.J * np.sum(field**2) + 0.5 * mass * np.sum(sign * z))


@pytest.mark.parametrize("chain", [
    SchwingerChain(7, 0.6, 0.4, theta=math.pi, charge=-1, mass_shift=True),
    SchwingerChain(8, 0.5, 0.3, theta=0.7, external_charges=(0, 0, 0.5, 0, 0, -0.5, 0, 0)),
    SchwingerChain(6, 0.9, -0.2, theta=-1.3, formulation="rotated", external_charges=(0.25, 0, 0, 0, 0, 0.1)),
    SchwingerChain(9, 0.4, 1.1, theta=2.0, charge=1),
], ids=["odd-theta-pi", "probes", "rotated-asymmetric-probes", "odd-charged"])
def test_diagonal_is_gauss_law_energy_on_asymmetric_product_states(chain):
    rng = np.random.default_rng(3)
    terms = chain.terms()
    for _ in range(6):
        bits = rng.integers(0, 2, chain.n_sites)
        index = np.array([int(np.sum(bits.astype(np.int64) << np.arange(chain.n_sites)))])
        assert terms.diagonal(index)[0] == pytest.approx(_gauss_energy(chain, bits), abs=1e-12)


def test_external_charge_sign_and_site_matter():
    base = dict(w=1.0, J=0.5, mass=0.2, theta=0.0, formulation="electric")
    plus = chain_terms(6, external_charges=[0, 0.5, 0, 0, 0, 0], **base)
    minus = chain_terms(6, external_charges=[0, -0.5, 0, 0, 0, 0], **base)
    shifted = chain_terms(6, external_charges=[0, 0, 0.5, 0, 0, 0], **base)
    assert not np.allclose(plus.z, minus.z) and not np.allclose(plus.z, shifted.z)


def test_sector_and_initial_state():
    for chain in (SchwingerChain(7, 0.5, 0.3, charge=-1), SchwingerChain(10, 0.5, 0.3, charge=2),
                  SchwingerChain(9, 0.5, 0.3)):
        bits = chain.initial_bits()
        assert int(bits.sum()) == chain.popcount
        z = 1.0 - 2.0 * bits
        assert 0.5 * np.sum(z + (-1.0) ** np.arange(chain.n_sites)) == chain.charge
    with pytest.raises(ParameterError, match="charge"):
        SchwingerChain(6, 0.5, 0.1, charge=4)
    with pytest.raises(ParameterError, match="external_charges"):
        SchwingerChain(6, 0.5, 0.1, external_charges=(1.0, 2.0))
    with pytest.raises(ParameterError, match="n_sites"):
        chain_terms(1, w=1, J=1, mass=0, theta=0)


def _commutator_norm(chain: SchwingerChain, conjugate: bool) -> float:
    basis = sector_basis(chain.n_sites, chain.popcount)
    image = mirror_indices(basis, chain.n_sites, conjugate=conjugate)
    if not np.array_equal(np.sort(image), basis):
        return math.inf  # the mirror leaves the sector
    matrix = sparse_on(chain.terms(), basis).toarray()
    perm = np.searchsorted(basis, image)
    return float(np.max(np.abs(matrix[np.ix_(perm, perm)] - matrix)))


@pytest.mark.parametrize("chain, kind", [
    (SchwingerChain(8, 0.5, 0.3, theta=1.2, mass_shift=True), "cp"),
    (SchwingerChain(8, 0.5, 0.3, theta=1.2, formulation="rotated"), "cp"),
    (SchwingerChain(8, 0.5, 0.3, theta=0.4, external_charges=(0, 0.5, 0, 0, 0, 0, -0.5, 0)), "cp"),
    (SchwingerChain(7, 0.5, 0.3, theta=math.pi, charge=-1, mass_shift=True), "reflection"),
    (SchwingerChain(7, 0.5, 0.3, theta=-math.pi, charge=1), "reflection"),
    (SchwingerChain(7, 0.5, 0.3, theta=0.0, charge=0), "reflection"),
])
def test_symmetry_commutes_with_the_sector_hamiltonian(chain, kind):
    assert chain.symmetry() == kind
    assert _commutator_norm(chain, conjugate=kind == "cp") < 1e-12


@pytest.mark.parametrize("chain", [
    SchwingerChain(7, 0.5, 0.3, theta=0.9 * math.pi, charge=-1),
    SchwingerChain(8, 0.5, 0.3, theta=0.4, external_charges=(0, 0.5, 0, 0, 0, 0, 0, -0.5)),
    SchwingerChain(7, 0.5, 0.3, theta=1.0, charge=0, formulation="rotated"),
])
def test_no_symmetry_claimed_where_none_holds(chain):
    """Power check: the symmetry is only claimed where the sector matrix commutes with it."""
    assert chain.symmetry() is None
    assert min(_commutator_norm(chain, True), _commutator_norm(chain, False)) > 1e-3


def test_electric_field_profile():
    chain = SchwingerChain(7, 0.5, 0.3, theta=math.pi, charge=-1)
    bits = chain.initial_bits()
    field = chain.electric_field(1.0 - 2.0 * bits)
    assert field.shape == (6,)
    # right of the last site the field is ϑ + Q + Σq = ½ − 1
    q_last = 0.5 * ((1.0 - 2.0 * bits[-1]) + 1.0)
    assert field[-1] + q_last == pytest.approx(-0.5)
    assert chain.params()["charge"] == -1

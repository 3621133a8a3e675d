"""Low-lying levels (exact.levels): ED against dense diagonalization and the free-fermion spectrum,
DMRG against ED (energies, mirror values, transition amplitudes, ZZ blocks), lowest_states ordering."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.exact.diagonalization import sparse_on
from qlat.exact.levels import dmrg_levels, ed_levels, levels
from qlat.exact.sector_operators import sector_basis
from qlat.theories.schwinger_qubit import SchwingerChain


def test_ed_levels_equal_dense_sector_spectrum():
    chain = SchwingerChain(9, 0.5, 0.4, theta=math.pi, charge=-1, mass_shift=True)
    lv = ed_levels(chain, 4)
    basis = sector_basis(chain.n_sites, chain.popcount)
    dense = np.linalg.eigvalsh(sparse_on(chain.terms(), basis).toarray())
    assert np.allclose(lv.energies, dense[:4], atol=1e-10)
    assert lv.details["sector_dimension"] == basis.size


def test_free_fermion_limit():
    """J → 0 (tiny coupling): many-body levels are sums of single-particle energies (free staggered chain)."""
    chain = SchwingerChain(8, 0.5, 0.3, coupling=1e-9, formulation="rotated")
    lv = ed_levels(chain, 5)
    terms = chain.terms()
    # hole modes b_n with b†b = (1 − Z)/2: H = b† M b + Σ μ_n (see schwinger_qubit.free_condensate)
    mat = np.diag(-2.0 * terms.z) + np.diag(2.0 * terms.hopping, 1) + np.diag(2.0 * terms.hopping, -1)
    eps = np.linalg.eigvalsh(mat)
    n_holes = chain.popcount
    sums = sorted(terms.constant + float(np.sum(terms.z)) + sum(eps[list(c)])
                  for c in itertools.combinations(range(chain.n_sites), n_holes))
    assert np.allclose(lv.energies, sums[:5], atol=1e-8)


def test_mirror_values_are_exact_quantum_numbers():
    chain = SchwingerChain(10, 0.5, 0.2, mass_shift=True)
    lv = ed_levels(chain, 5)
    cp = lv.mirror_values()
    assert np.allclose(np.abs(cp), 1.0, atol=1e-10)
    assert cp[0] == pytest.approx(1.0)
    assert sorted(np.round(cp).astype(int).tolist()) != [1] * 5  # both parities occur among 5 levels
    with pytest.raises(ParameterError, match="mirror symmetry"):
        ed_levels(SchwingerChain(7, 0.5, 0.3, theta=1.0, charge=-1), 2).mirror_values()


def test_dmrg_levels_equal_ed():
    pytest.importorskip("tenpy")
    from qlat.exact.dmrg import DMRGSettings

    fast = DMRGSettings(min_sweeps=2, mixer_sweeps=1, max_sweeps=12, energy_tol=1e-11)
    chain = SchwingerChain(7, 0.5, 0.4, theta=math.pi, charge=-1, mass_shift=True)
    ed = ed_levels(chain, 3)
    dm = dmrg_levels(chain, 3, bond_dim=16, truncation_check=False, settings=fast)
    assert np.allclose(dm.energies, ed.energies, atol=1e-9)
    assert np.allclose(dm.mirror_values(), ed.mirror_values(), atol=1e-8)
    assert np.allclose(dm.z_expectations(), ed.z_expectations(), atol=1e-8)
    for i in (1, 2):
        assert np.allclose(np.abs(dm.transition_z(i)), np.abs(ed.transition_z(i)), atol=1e-7)
    sites = [0, 2, 3, 6]
    assert np.allclose(dm.zz_block(sites), ed.zz_block(sites), atol=1e-8)
    # the particle-hole mirror (CP) on MPS, against ED, on a neutral even chain
    even = SchwingerChain(6, 0.5, 0.2, mass_shift=True)
    cp = dmrg_levels(even, 2, bond_dim=8, truncation_check=False, settings=fast).mirror_values()
    assert np.allclose(cp, ed_levels(even, 2).mirror_values(), atol=1e-8)


def test_level_method_dispatch_and_errors():
    chain = SchwingerChain(6, 0.5, 0.2)
    assert levels(chain, 2, method="ed").method == "ed"
    with pytest.raises(ParameterError, match="method"):
        levels(chain, 2, method="qpu")
    with pytest.raises(ParameterError, match="n_sites"):
        ed_levels(SchwingerChain(24, 0.5, 0.2), 2)
    with pytest.raises(ParameterError, match="k"):
        ed_levels(chain, 0)


def test_dmrg_levels_line_in_the_discarded_weight_against_ed():
    """At a truncating χ (N = 8, χ = 6, χ/2 = 3) the distance of E(χ) and Z(χ) from the line
    (qlat.exact.dmrg_truncation: × 1 for energies, × OBSERVABLE_FACTOR for ⟨Z⟩) covers the real
    distance to ED and is within 5× of it (measured 1.1× and 2.4×; the bare χ/2 difference ~10³×)."""
    pytest.importorskip("tenpy")
    from qlat.exact.dmrg_truncation import OBSERVABLE_FACTOR

    chain = SchwingerChain(8, 0.5, 0.3, theta=1.0, formulation="electric", mass_shift=True)
    ed = ed_levels(chain, 1)
    dm = dmrg_levels(chain, 1, bond_dim=6)
    assert 0.0 < dm.line_fractions()[0] < 0.01 and dm.line_warnings() == []
    energy_sigma = abs(dm.line_energies()[0] - dm.energies[0])
    energy_distance = abs(dm.energies[0] - ed.energies[0])
    z_sigma = OBSERVABLE_FACTOR * np.max(np.abs(dm.z_expectations(line=True) - dm.z_expectations()))
    z_distance = np.max(np.abs(dm.z_expectations() - ed.z_expectations()))
    for sigma, distance in ((energy_sigma, energy_distance), (z_sigma, z_distance)):
        assert distance <= 2.0 * sigma <= 10.0 * distance

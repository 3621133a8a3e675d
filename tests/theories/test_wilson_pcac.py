"""PCAC correlators of the Wilson operator: the free mass, gauge invariance, positivity."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.theories.wilson_dirac import WilsonOperator, pcac_mass


@pytest.mark.parametrize("m0", [0.02, 0.05, 0.1])
def test_free_pcac_mass_is_the_bare_mass(m0):
    """U = 1: the Ward identity gives m_PCAC = m₀ up to O(a m₀) and the time-boundary tail (L = 24)."""
    L = 24
    cpp, cap = WilsonOperator(np.zeros((1, 2, L, L)), mass=m0).pcac_correlators()
    assert np.all(cpp > 0)
    assert pcac_mass(cpp, cap, window=(L // 4, L // 2)) == pytest.approx(m0, rel=0.05)


def test_correlators_are_gauge_invariant():
    rng = np.random.default_rng(4)
    L0, L1 = 6, 4
    theta = rng.uniform(-np.pi, np.pi, size=(2, 2, L0, L1))
    alpha = rng.uniform(-np.pi, np.pi, size=(2, L0, L1))
    transformed = theta.copy()
    for mu in range(2):  # θ_μ(x) → θ_μ(x) + α(x) − α(x + μ̂)
        transformed[:, mu] += alpha - np.roll(alpha, -1, axis=1 + mu)
    a = WilsonOperator(theta, mass=0.1).pcac_correlators()
    b = WilsonOperator(transformed, mass=0.1).pcac_correlators()
    for x, y in zip(a, b, strict=True):
        assert np.allclose(x, y, atol=1e-12)
    assert not np.allclose(a[0], WilsonOperator(np.zeros_like(theta), mass=0.1).pcac_correlators()[0])


def test_window_is_checked():
    from qlat.core.errors import ParameterError

    cpp, cap = WilsonOperator(np.zeros((1, 2, 8, 8)), mass=0.1).pcac_correlators()
    with pytest.raises(ParameterError, match="window"):
        pcac_mass(cpp, cap, window=(0, 4))


def test_one_lu_gives_the_determinant_and_the_propagator():
    rng = np.random.default_rng(9)
    theta = rng.uniform(-np.pi, np.pi, size=(3, 2, 4, 6))
    op = WilsonOperator(theta, mass=-0.6)  # negative determinants occur below m_c
    logs, signs, props = op.log_abs_det_and_point_propagator()
    ref_logs, ref_signs = op.log_abs_det()
    assert np.allclose(logs, ref_logs, atol=1e-10) and np.array_equal(signs, ref_signs)
    assert np.allclose(props, op.point_propagator(), atol=1e-12)

"""Even-odd reduced determinants and propagators of the Wilson operator at several bare masses."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.theories.wilson_dirac import WilsonOperator


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (8, 8)])
def test_even_odd_matches_the_dense_lu(shape):
    """det D = det(α² − H_eoH_oe) and the reconstructed point propagator, against one dense LU per mass,
    including masses below m_c where det D < 0 (the sign must survive the reduction)."""
    rng = np.random.default_rng(9)
    theta = rng.uniform(-np.pi, np.pi, size=(8, 2, *shape))
    masses = [-1.5, -0.3, 0.1, 0.5]
    logs, signs, props = WilsonOperator(theta, mass=0.0).even_odd_masses(masses)
    assert logs.shape == signs.shape == (4, 8) and props.shape == (4, 8, 2 * shape[0] * shape[1], 2)
    seen_negative = False
    for k, m in enumerate(masses):
        ref_logs, ref_signs, ref_props = WilsonOperator(theta, mass=m).log_abs_det_and_point_propagator()
        assert np.allclose(logs[k], ref_logs, atol=1e-9)
        assert np.array_equal(signs[k], ref_signs)
        assert np.allclose(props[k], ref_props, atol=1e-11)
        seen_negative |= bool(np.any(ref_signs < 0))
    assert seen_negative


def test_even_odd_needs_even_extents_and_valid_masses():
    from qlat.core.errors import ParameterError

    with pytest.raises(ParameterError, match="shape"):
        WilsonOperator(np.zeros((1, 2, 5, 4)), mass=0.1).even_odd_masses([0.1])
    with pytest.raises(ParameterError, match="masses"):
        WilsonOperator(np.zeros((1, 2, 4, 4)), mass=0.1).even_odd_masses([-2.5])

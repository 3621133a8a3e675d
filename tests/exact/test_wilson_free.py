"""Free Wilson operator: momentum-space formulas against the position-space matrix (independent code)."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.exact import wilson_free
from qlat.theories.wilson_dirac import WilsonOperator


def _sorted(ev: np.ndarray) -> np.ndarray:
    return ev[np.lexsort((np.round(ev.imag, 8), np.round(ev.real, 8)))]


@pytest.mark.parametrize("shape,mass", [((4, 4), 0.0), ((4, 6), 0.3), ((6, 4), -0.4)])
def test_spectrum_equals_momentum_formula(shape, mass):
    op = WilsonOperator(np.zeros((1, 2, *shape)), mass=mass)
    ev = np.linalg.eigvals(op.dense(0))
    np.testing.assert_allclose(_sorted(ev), _sorted(wilson_free.spectrum(shape, mass=mass)), atol=1e-11)


@pytest.mark.parametrize("shape,mass", [((4, 4), 0.1), ((6, 8), -0.2), ((8, 4), 1.5)])
def test_trace_inverse_and_log_det(shape, mass):
    op = WilsonOperator(np.zeros((1, 2, *shape)), mass=mass)
    volume = shape[0] * shape[1]
    assert op.trace_inverse()[0] / volume == pytest.approx(wilson_free.trace_inverse_density(shape, mass=mass),
                                                            abs=1e-12)
    logdet, sign = op.log_abs_det()
    assert sign[0] == 1.0
    assert logdet[0] == pytest.approx(wilson_free.log_det(shape, mass=mass), abs=1e-9)


def test_time_momenta_are_antiperiodic():
    p0, p1 = wilson_free.momenta((4, 6))
    np.testing.assert_allclose(p0[:, 0], np.pi * np.array([0.25, 0.75, 1.25, 1.75]))
    np.testing.assert_allclose(p1[0], 2 * np.pi * np.arange(6) / 6)


def test_bad_mass():
    with pytest.raises(ParameterError, match="mass"):
        wilson_free.trace_inverse_density((4, 4), mass=-2.0)

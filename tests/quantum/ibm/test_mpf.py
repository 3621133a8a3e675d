"""Multi-product formulas on the device path (qlat.quantum.ibm.mpf): coefficients and the combined value.

The combined value is checked against the same combination of statevector values computed here.
"""

from __future__ import annotations

import numpy as np
import pytest

from qlat.core.errors import ParameterError
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.ibm.mpf import mpf_coefficients, run_mpf
from qlat.quantum.observables import qubit_observable
from qlat.quantum.statevector import evolve_statevector, expectation_values
from qlat.theories.schwinger_qubit import SchwingerModel


def test_coefficients_cancel_the_even_error_terms():
    steps = (2, 3, 4)
    c = mpf_coefficients(steps)
    k = np.asarray(steps, dtype=float)
    assert c.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.sum(c / k**2) == pytest.approx(0.0, abs=1e-12) and np.sum(c / k**4) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ParameterError, match="steps"):
        mpf_coefficients((4, 2))


def test_mpf_of_a_noiseless_device_is_the_mpf_of_the_statevector_values():
    model = SchwingerModel(4, 1.0, 0.5)
    schedule = AdiabaticSchedule(total_time=1.5, dt=1.5, initial_mass=1.0)
    op = qubit_observable("condensate", model).operators[0]
    values = [expectation_values(evolve_statevector(model, AdiabaticSchedule(1.5, 1.5 / k, initial_mass=1.0)),
                                 {"c": op})["c"] for k in (1, 2)]
    expected = float(np.dot(mpf_coefficients((1, 2)), values))
    run = run_mpf(model, schedule=schedule, steps=(1, 2), backend="fake:fake_manila", observables=["condensate"],
                  shots=2000, seed=4, device_noise=False)
    est = run.estimates["condensate"]
    assert est.provenance["noiseless_value"] == pytest.approx(expected, abs=1e-10)
    assert abs(est.value - expected) < 4 * est.error
    assert 4 * est.error < 0.25 * abs(expected)  # power: a 1.25x value would be far outside
    assert est.provenance["mpf"]["coefficients"] == pytest.approx([-1 / 3, 4 / 3])
    assert set(est.provenance["systematic_sources"]) == {"noise", "trotter", "adiabatic"}
    assert est.backend.endswith("+mpf")

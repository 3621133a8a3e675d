"""The DMRG truncation error model (qlat.exact.dmrg_truncation): the line in the discarded weight."""

from __future__ import annotations

import numpy as np
import pytest

from qlat.exact.dmrg_truncation import OBSERVABLE_FACTOR, ROUNDING, extrapolation_factor, truncation_errors


def run(w: float, *, chi: int = 8, max_chi: int | None = None, converged: bool = True) -> dict:
    return {"discarded_weight": w, "bond_dim": chi, "max_bond_dim": chi if max_chi is None else max_chi,
            "converged": converged}


def test_extrapolation_factor():
    assert extrapolation_factor(1e-4, 1e-6, bound=True) == pytest.approx(1e-6 / (1e-4 - 1e-6))
    assert extrapolation_factor(1e-4, 1e-6, bound=False) == 0.0  # chi did not bind: svd_min only
    assert extrapolation_factor(1e-6, 1e-6, bound=True) == 1.0  # no lever arm: the bare difference


def test_energy_is_the_line_and_observables_carry_the_factor():
    ref = {"energy": -1.0, "energy_density": -0.1, "condensate": 0.3, "gap": 0.5,
           "electric_field": np.array([0.1, 0.2, 0.3, 0.4])}
    fin = {"energy": -1.1, "energy_density": -0.11, "condensate": 0.32, "gap": 0.45,
           "electric_field": np.array([0.1, 0.25, 0.3, 0.4])}
    runs_ref = {"ground": run(1e-3, chi=4), "excited": run(2e-4, chi=4)}
    runs_fin = {"ground": run(1e-4), "excited": run(1e-5)}
    sys, description, warned = truncation_errors(list(ref), ref, fin, runs_ref, runs_fin, n_sites=4)
    line = 1e-4 / (1e-3 - 1e-4)
    assert sys["energy"] == pytest.approx(0.1 * line)
    assert sys["energy_density"] == pytest.approx(0.01 * line)
    assert sys["condensate"] == pytest.approx(OBSERVABLE_FACTOR * 0.02 * line)
    # the profile: a component's bare difference is the max over its neighbours
    np.testing.assert_allclose(sys["electric_field"], OBSERVABLE_FACTOR * 0.05 * line * np.array([1, 1, 1, 0]),
                               atol=1e-12)
    e0, e1 = 0.1 * line, abs((-1.1 + 0.45) - (-1.0 + 0.5)) * (1e-5 / (2e-4 - 1e-5))
    assert float(sys["gap"]) == pytest.approx(np.hypot(e0, e1))
    assert warned == [] and "discarded weight" in description["method"]
    assert description["discarded_weights"]["ground"] == [1e-3, 1e-4]


def test_warnings_are_earned_from_the_runs():
    ref, fin = {"energy": -1.0}, {"energy": -1.1}
    _, _, warned = truncation_errors(["energy"], ref, fin, {"ground": run(1e-4, chi=4)}, {"ground": run(1e-4)}, n_sites=4)
    assert len(warned) == 1 and "did not decrease" in warned[0]
    _, _, warned = truncation_errors(["energy"], ref, fin, {"ground": run(1e-3, chi=4)},
                                     {"ground": run(1e-4, converged=False)}, n_sites=4)
    assert len(warned) == 1 and "did not converge" in warned[0]
    _, _, warned = truncation_errors(["energy"], ref, fin, {"ground": run(1e-2, chi=4)}, {"ground": run(5e-4)},
                                     n_sites=4)
    assert len(warned) == 1 and "rough guide" in warned[0]  # beyond TeNPy's max_trunc_err
    sys, _, warned = truncation_errors(["energy"], ref, fin, {"ground": run(1e-3, chi=4)},
                                       {"ground": run(1e-14, max_chi=6)}, n_sites=4)
    assert warned == [] and sys["energy"] == pytest.approx(4 * ROUNDING * 1.1)  # chi never bound: rounding only


def test_two_references_take_the_larger_line():
    """An O(chi) that is not monotone: O(chi_ref) lands next to O(chi) (the chi_ref line sees nothing), the chi_mid
    run does not; each value takes the larger of the two lines, and the description keeps both."""
    from qlat.exact.dmrg_truncation import TWO_LINE_OBSERVABLE_FACTOR, middle_bond_dim, truncation_errors_of_runs

    assert [middle_bond_dim(max(2, c // 2), c) for c in (3, 4, 6, 8, 12, 64)] == [None, 3, 4, 6, 9, 48]
    measured = [{"energy": -1.0, "condensate": 0.3001}, {"energy": -1.09, "condensate": 0.32},
                {"energy": -1.1, "condensate": 0.3}]
    runs = [{"ground": run(1e-3, chi=4)}, {"ground": run(1e-4, chi=6)}, {"ground": run(1e-5)}]
    sys, description, warned = truncation_errors_of_runs(["energy", "condensate"], measured, runs, n_sites=4)
    far, near = 1e-5 / (1e-3 - 1e-5), 1e-5 / (1e-4 - 1e-5)
    assert sys["condensate"] == pytest.approx(TWO_LINE_OBSERVABLE_FACTOR * 0.02 * near)  # not 2 * 1e-4 * far
    assert sys["energy"] == pytest.approx(max(0.1 * far, 0.01 * near))
    assert description["middle"]["line_fraction"]["ground"] == pytest.approx(near) and warned == []
    two, _, _ = truncation_errors_of_runs(["condensate"], [measured[0], measured[2]], [runs[0], runs[2]], n_sites=4)
    assert two["condensate"] == pytest.approx(OBSERVABLE_FACTOR * 1e-4 * far)  # without chi_mid: the chi_ref line, x 3
    assert TWO_LINE_OBSERVABLE_FACTOR < OBSERVABLE_FACTOR

"""Every unreliable error bar warns on stderr and says so in the JSON provenance (issue 7, acceptance 4)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qlat.analysis.extrapolation import extrapolate
from qlat.analysis.statistics import MIN_SAMPLES_PER_TAU, gamma_estimate
from qlat.core.errors import QlatWarning


def test_frozen_chain_warns_and_has_no_error():
    with pytest.warns(QlatWarning, match="did not move"):
        est = gamma_estimate(np.ones((50, 2)), name="q2")
    assert est.error == math.inf and "warning" in est.provenance
    assert "did not move" in json.loads(est.to_json())["provenance"]["warning"]


def test_short_chain_relative_to_tau_int_warns():
    rng = np.random.default_rng(0)
    x = np.zeros((400, 2))
    for t in range(1, 400):  # AR(1), ρ = 0.98: τ_int = (1 + ρ)/(2(1 − ρ)) ≈ 50, so N/τ_int ≈ 8
        x[t] = 0.98 * x[t - 1] + rng.normal(size=2)
    with pytest.warns(QlatWarning, match="samples per τ_int"):
        est = gamma_estimate(x, name="slow")
    assert 400 / est.tau_int < MIN_SAMPLES_PER_TAU and "τ_int" in est.provenance["warning"]


def test_long_chain_does_not_warn(recwarn):
    gamma_estimate(np.random.default_rng(1).normal(size=(2000, 2)), name="fine")
    assert not [w for w in recwarn if issubclass(w.category, QlatWarning)]


def test_extrapolation_from_two_points_warns():
    with pytest.warns(QlatWarning, match="2 points"):
        est = extrapolate([0.1, 0.2], [1.0, 1.1], sigma=[0.01, 0.01], degree=1)
    assert "not reliable" in est.provenance["warning"]


def test_cli_prints_the_warning_on_stderr_and_in_json(capsys):
    from qlat.cli.main import main

    assert main(["sample", "u1", "--L", "4", "--beta", "6", "--n", "8", "--chains", "1", "--thermalize", "0",
                 "--tau", "0.05", "--steps", "1", "--start", "cold", "--no-progress", "--json"]) == 0
    captured = capsys.readouterr()
    assert "qlat: warning:" in captured.err and "Traceback" not in captured.err
    out = json.loads(captured.out)
    assert any("warning" in entry.get("provenance", {}) for key, entry in out.items() if key != "ensemble")

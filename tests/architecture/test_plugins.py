"""A backend registered at run time plugs in everywhere without editing any other module."""

from __future__ import annotations

import pytest

from qlat.core.estimate import Estimate
from qlat.core.registry import BACKENDS
from qlat.quantum.simulators import AdiabaticSimulator, SimulationRequest
from qlat.theories.schwinger_qubit import SchwingerModel


class ToySimulator(AdiabaticSimulator):
    """Pretends the adiabatic state is the exact ground state (ED), with a fixed 'shot noise'."""

    name = "toy"
    label = "toy-sim"
    description = "test double: the ED ground state with error 0.01"
    shots = "never"
    needs_circuit = False

    def simulate(self, request: SimulationRequest):
        from qlat.quantum.exact_backend import exact_estimates

        exact = exact_estimates(request.model, observables=[o.name for o in request.observables])
        return {k: (e.value, 0.01) for k, e in exact.items()}, None


@pytest.fixture
def toy():
    BACKENDS.register("toy", ToySimulator)
    yield ToySimulator
    BACKENDS.unregister("toy")


def test_toy_backend_is_found_by_qlat_estimate(toy):
    import qlat

    model = SchwingerModel(4, 0.5, 0.1)
    est = qlat.estimate(model, ["energy", "condensate"], backend="toy")
    ref = qlat.estimate(model, ["energy", "condensate"], backend="ed")
    assert est["energy"].value == ref["energy"].value and est["energy"].error == 0.01
    assert est["energy"].backend == "toy-sim"


def test_toy_backend_appears_in_the_cli_choices_and_runs(toy, capsys):
    from qlat.cli.main import main

    with pytest.raises(SystemExit):
        main(["schwinger", "adiabatic", "--help"])
    assert "toy" in capsys.readouterr().out
    assert main(["schwinger", "adiabatic", "--backend", "toy", "--sites", "4", "--time", "1", "--dt", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "toy" in out and "exact (ED)" in out


def test_toy_backend_joins_a_crosscheck_table(toy):
    from qlat.analysis.crosscheck import CrossCheck

    model = SchwingerModel(4, 0.5, 0.1)
    check = CrossCheck.from_backends(model, ["energy"], backends=["ed", "toy"])
    row = check.comparison("toy", "energy")
    assert row["difference"] == 0.0 and row["z"] == 0.0
    assert "toy" in check.table()


def test_a_name_cannot_be_taken_twice(toy):
    from qlat.core.errors import ParameterError

    class Other(ToySimulator):
        pass

    with pytest.raises(ParameterError):
        BACKENDS.register("toy", Other)
    assert isinstance(BACKENDS.get("toy")(), ToySimulator)
    assert Estimate(1.0).exact


def test_citation_file_names_this_version():
    from pathlib import Path

    from qlat._version import __version__

    text = (Path(__file__).resolve().parents[2] / "CITATION.cff").read_text()
    assert f"version: {__version__}" in text and "cff-version: 1.2.0" in text

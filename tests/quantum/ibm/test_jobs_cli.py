"""``qlat jobs`` in-process: list/status/fetch/show/cancel on a stored local job, errors as one line."""

from __future__ import annotations

import json

import pytest

from qlat.cli.main import main
from qlat.core.errors import ParameterError
from qlat.quantum.ibm.backend import run_on_device
from qlat.quantum.ibm.mitigation import parse_mitigation


def test_jobs_commands_on_a_local_job(model4, one_step, capsys):
    assert main(["jobs", "list"]) == 0
    assert "no jobs" in capsys.readouterr().out
    run = run_on_device(model4, backend="fake:fake_manila", schedule=one_step, shots=100, seed=9, mitigation="trex")
    capsys.readouterr()
    assert main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    assert run.ref[:12] in out and "fake:fake_manila" in out and "trex" in out and "done" in out
    assert main(["jobs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["jobs"]
    assert [j["ref"] for j in listed] == [run.ref] and listed[0]["mitigation"] == "trex"
    assert main(["jobs", "fetch", run.job_id, "--json"]) == 0
    fetched = json.loads(capsys.readouterr().out)
    assert fetched["estimates"] == {k: e.to_dict() for k, e in run.estimates.items()}
    assert main(["jobs", "fetch", run.ref[:8]]) == 0
    text = capsys.readouterr().out
    assert "fake:fake_manila+trex" in text and str(run.estimates["energy"]) in text
    assert main(["jobs", "show", run.ref]) == 0
    assert "circuit_hash" in capsys.readouterr().out
    assert main(["jobs", "status", run.ref, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "done"
    assert main(["jobs", "cancel", run.ref]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qlat: error: ") and "nothing to cancel" in err
    assert main(["jobs", "fetch", "zzzzzzzz"]) == 2
    assert "JOB: not in the job store" in capsys.readouterr().err


def test_corrupt_store_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "jobs.sqlite"
    bad.write_bytes(b"\x00garbage" * 100)
    assert main(["jobs", "list", "--store", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a SQLite database" in err and bad.read_bytes() == b"\x00garbage" * 100


def test_mitigation_names():
    assert parse_mitigation(None).label == "none" and parse_mitigation("none").names == ()
    m = parse_mitigation("ZNE, trex")
    assert m.names == ("trex", "zne") and m.kind == "estimator" and m.label == "trex+zne"
    p = parse_mitigation(["postselect", "dd"])
    assert p.kind == "sampler" and p.postselect and "dd" in p
    with pytest.raises(ParameterError, match="choose one"):
        parse_mitigation("zne+postselect")
    with pytest.raises(ParameterError, match="unknown mitigation"):
        parse_mitigation("pec")

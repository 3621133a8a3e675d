"""`qlat schwinger scan --out`: two writers never share a folder; a tampered resume log is refused (issue 24)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys

import pytest

from qlat.cli.main import main

ROUNDS = 20
SCAN = ["schwinger", "scan", "--sites", "4", "--spacing", "0.5", "--thetas", "0", "1", "--exact-only", "--json"]


def _writer(barrier, argv, log_path):
    log = open(log_path, "w")  # noqa: SIM115 — flushed before os._exit
    sys.stdout = sys.stderr = log
    barrier.wait()
    rc = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


@pytest.mark.skipif(sys.platform != "linux", reason="fork-based race")
def test_two_scans_with_different_mass_on_one_new_folder_exactly_one_wins(tmp_path, capsys):
    assert main([*SCAN, "--mass", "0.1", "--out", str(tmp_path / "warm")]) == 0  # imports done before forking
    capsys.readouterr()
    ctx = mp.get_context("fork")
    for round_ in range(ROUNDS):
        out = tmp_path / f"race{round_}"
        barrier = ctx.Barrier(2)
        procs, logs = [], []
        for mass in ("0.1", "0.2"):
            logs.append(tmp_path / f"log{round_}-{mass}.txt")
            argv = [*SCAN, "--mass", mass, "--out", str(out)]
            procs.append(ctx.Process(target=_writer, args=(barrier, argv, str(logs[-1]))))
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        codes = [p.exitcode for p in procs]
        assert sorted(codes) == [0, 2], (round_, codes, [log.read_text()[-400:] for log in logs])
        loser = logs[codes.index(2)].read_text().strip().splitlines()
        assert len(loser) == 1 and loser[0].startswith("qlat: error: --out:"), loser
        winner_mass = ("0.1", "0.2")[codes.index(0)]
        study = json.loads((out / "scan.json").read_text())
        assert study["params"]["mass"] == float(winner_mass)


def test_tampered_resume_log_is_refused_and_an_intact_one_resumes(tmp_path, capsys):
    out = tmp_path / "scan"
    argv = [*SCAN, "--mass", "0.1", "--out", str(out)]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(argv) == 0  # resumes: nothing recomputed, same numbers
    assert json.loads(capsys.readouterr().out)["rows"] == first["rows"]
    log = out / "scan-points.jsonl"
    text = log.read_text()
    log.write_text(text.replace('"n_sites": 4', '"n_sites": 6', 1) if '"n_sites": 4' in text
                   else text.replace("0.", "1.", 1))
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qlat: error: --out:") and "scan-points.jsonl" in err[0]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert main([*SCAN, "--mass", "0.3", "--out", str(out)]) == 2  # another study: names the parameter
    assert "other parameters" in capsys.readouterr().err
    # a log whose hash chain verifies but whose entry is not a scan result (rewritten with the hashes
    # recomputed): the schema check refuses it, one line naming the file, the entry and the flag
    from qlat.analysis.distributed import ResultLog
    from qlat.core.hashlog import HashChainLog

    log.write_text(text)
    entry = HashChainLog(log, kind=ResultLog.KIND).load()[0]
    log.unlink()
    HashChainLog(log, kind=ResultLog.KIND).append({**entry, "result": {"rows": 5, "study": {}}})
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qlat: error: --out:"), err
    assert "scan-points.jsonl: entry 1.result.rows: must be an array" in err[0]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before

"""Two `qlat sample` runs on one new --out folder at the same instant: exactly one wins (issue 7).

The processes are forked after qlat is imported and released together by a barrier, so they race
for the file in the same millisecond; the loser must exit 2 with a one-line message naming
--out, and the file must hold the winner's chain intact (checksum verified, winner's β).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys

import pytest

from qlat.cli.main import main
from qlat.core.ensemble import Ensemble

ROUNDS = 20


def _writer(barrier, argv, log_path):
    log = open(log_path, "w")  # noqa: SIM115 — closed by os._exit's flush below
    sys.stdout = sys.stderr = log
    barrier.wait()
    rc = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)


@pytest.mark.skipif(sys.platform != "linux", reason="fork-based race")
def test_two_writers_one_new_file_exactly_one_wins(tmp_path):
    import pyerrors  # noqa: F401  — heavy imports done once, before forking
    import torch  # noqa: F401

    import qlat.analysis.statistics  # noqa: F401
    import qlat.cli.sample  # noqa: F401
    import qlat.theories.observables  # noqa: F401

    main(["sample", "u1", "--L", "4", "--beta", "2", "--n", "5", "--chains", "1", "--no-progress", "--json"])
    ctx = mp.get_context("fork")
    for round_ in range(ROUNDS):
        out = tmp_path / f"race{round_}"
        barrier = ctx.Barrier(2)
        procs, logs = [], []
        for beta in ("2", "3"):
            argv = ["sample", "u1", "--L", "4", "--beta", beta, "--n", "20", "--chains", "2", "--seed", "1",
                    "--out", str(out), "--no-progress", "--json"]
            logs.append(tmp_path / f"log{round_}-{beta}.txt")
            procs.append(ctx.Process(target=_writer, args=(barrier, argv, str(logs[-1]))))
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        codes = [p.exitcode for p in procs]
        assert sorted(codes) == [0, 2], (round_, codes, [log.read_text()[-500:] for log in logs])
        winner = "23"[codes.index(0)]
        loser_log = logs[codes.index(2)].read_text().strip().splitlines()
        # the loser lost the creation race (--out), found the file locked by the winner (--out), or —
        # if it started only after the winner finished — found the winner's different run (--beta)
        assert loser_log[-1].startswith(("qlat: error: --out:", "qlat: error: --beta: differs")), loser_log
        assert "Traceback" not in logs[codes.index(2)].read_text()
        with Ensemble.open(out / "ensemble.h5") as ens:  # verifies the checksum of every block
            assert ens.theory_params["beta"] == float(winner)
            assert ens.n_samples == 20
        leftovers = [p.name for p in out.iterdir() if "qlat-creating" in p.name]
        assert not leftovers, leftovers

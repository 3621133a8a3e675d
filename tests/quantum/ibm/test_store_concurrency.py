"""First use of a job store by several processes at once: every one of them records its job (issue 24).

Four processes, forked after the imports and released together by a barrier, open a store that does
not exist yet (its folder neither) — or that is an empty file — and each records one job.  Before
the store was created under a temporary name and linked into place, 12 of 12 such trials failed
("table meta already exists", or a false "not a qlat job store").
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import traceback

import pytest

from qlat.quantum.ibm.store import JobStore

ROUNDS = 20
WRITERS = 4
BATCH = 5


def _writer(barrier, path, ref, log_path):
    code = 0
    with open(log_path, "w") as log:
        try:
            barrier.wait()
            store = JobStore(path)
            store.record_pending(ref=ref, backend="fake:fake_manila", device="fake_manila", local=True, mode="job",
                                 primitive="executor", kind="estimator", params={"shots": 10}, recipe={},
                                 circuit_hash="h")
        except BaseException:  # noqa: BLE001 — reported to the parent through the log
            log.write(traceback.format_exc())
            code = 1
    os._exit(code)


@pytest.mark.skipif(sys.platform != "linux", reason="fork-based race")
def test_first_use_by_four_processes_at_once_records_every_job(tmp_path):
    ctx = mp.get_context("fork")
    rounds = []
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round{round_}" / "data"
        path = folder / "jobs.sqlite"
        if round_ % 4 == 3:  # an empty file left in place: initialized once, under its lock
            folder.mkdir(parents=True)
            path.write_bytes(b"")
        barrier = ctx.Barrier(WRITERS)
        refs = [f"{round_:02d}{i:02d}" + "0" * 28 for i in range(WRITERS)]
        logs = [tmp_path / f"log{round_}-{i}.txt" for i in range(WRITERS)]
        procs = [ctx.Process(target=_writer, args=(barrier, path, ref, str(log))) for ref, log in zip(refs, logs)]
        rounds.append((folder, path, refs, logs, procs))
    for batch in range(0, ROUNDS, BATCH):  # BATCH rounds at a time, each with its own barrier (fsyncs overlap)
        for *_, procs in rounds[batch:batch + BATCH]:
            for p in procs:
                p.start()
        for *_, procs in rounds[batch:batch + BATCH]:
            for p in procs:
                p.join(60)
    for round_, (folder, path, refs, logs, procs) in enumerate(rounds):
        codes = [p.exitcode for p in procs]
        assert codes == [0] * WRITERS, (round_, codes, [log.read_text()[-600:] for log in logs if log.read_text()])
        records = JobStore(path).list()
        assert sorted(r.ref for r in records) == sorted(refs), round_
        leftovers = [p.name for p in folder.iterdir() if ".creating" in p.name]
        assert not leftovers, leftovers
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)

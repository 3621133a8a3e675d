"""A crash loses no job: SIGKILL a real subprocess right after submission, recover from a new process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qlat.core.errors import QlatError
from qlat.quantum.ibm.loopback import LoopbackService
from qlat.quantum.ibm.store import JobStore
from qlat.quantum.ibm.submit import fetch, refresh


class CountingService(LoopbackService):
    """Counts retrievals by id (a second fetch must not retrieve again)."""

    lookups = 0

    def job(self, job_id):
        CountingService.lookups += 1
        return super().job(job_id)

REPO = Path(__file__).resolve().parents[3]

_PRELUDE = """
import sys, time
from qlat.theories.schwinger_qubit import SchwingerModel
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.ibm.backend import run_on_device
model = SchwingerModel(n_sites=4, spacing=1.0, mass=0.5)
schedule = AdiabaticSchedule(total_time=0.75, dt=0.75, initial_mass=1.0)
"""


def _child(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _PRELUDE + script], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def _read_marker(proc: subprocess.Popen, timeout: float = 120.0) -> str:
    """The first stdout line of ``proc`` (the ref it submitted), then SIGKILL it."""
    deadline = time.monotonic() + timeout
    line = ""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() or proc.poll() is not None:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    assert line.startswith("REF "), (line, proc.stderr.read() if proc.stderr else "")
    return line.split()[1]


def _qlat(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qlat.cli.main", *args], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def test_local_job_killed_after_submission_is_recovered_from_the_store():
    proc = _child("""
run = run_on_device(model, backend="fake:fake_manila", schedule=schedule, shots=200, seed=7)
print("REF", run.ref, flush=True)
time.sleep(600)
""")
    ref = _read_marker(proc)
    out = _qlat("jobs", "fetch", ref, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["ref"] == ref and data["status"] == "done"
    assert set(data["estimates"]) == {"energy", "condensate"}
    store = JobStore()
    again = fetch(store, ref[:10])
    assert {k: e.to_dict() for k, e in again.items()} == data["estimates"]
    assert store.count_results(ref) == 1 and [r.ref for r in store.list()] == [ref]


def test_local_job_killed_while_running_is_reported_lost():
    """Local jobs cannot be retrieved by id: the store says so explicitly instead of waiting forever."""
    proc = _child("""
import qlat.quantum.ibm.results as results
from qlat.quantum.ibm.store import JobStore
def hang(*args, **kwargs):
    print("REF", JobStore().list()[0].ref, flush=True)
    time.sleep(600)
results.finalize = hang
run_on_device(model, backend="fake:fake_manila", schedule=schedule, shots=100, seed=1)
""")
    ref = _read_marker(proc)
    rec = JobStore().get(ref)
    assert rec.status == "submitted" and rec.job_id and rec.local  # the id was committed before the kill
    out = _qlat("jobs", "fetch", ref)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "local testing mode" in out.stderr and "Traceback" not in out.stderr
    assert refresh(JobStore(), ref).status == "lost"


@pytest.mark.parametrize("kill_before_id", [pytest.param(False, marks=pytest.mark.slow), True])
def test_service_job_killed_after_submission_is_fetched_by_id(tmp_path, kill_before_id):
    """The ibm: path against the loopback service (fake device, results filed by job id): the id
    (or, if the kill came before it was committed, the job tag) lets a new process collect the
    result, exactly once."""
    root = tmp_path / "service"
    hang = """
from qlat.quantum.ibm.store import JobStore
def stall(self, ref, job_id):
    print("REF", ref, flush=True)
    time.sleep(600)
JobStore.record_submitted = stall
""" if kill_before_id else ""
    proc = _child(f"""
from qlat.quantum.ibm.loopback import LoopbackService
service = LoopbackService({str(root)!r}, hold=True)
{hang}
run = run_on_device(model, backend="ibm:fake_manila", schedule=schedule, shots=200, seed=3,
                    service=service, wait=False, mitigation="postselect")
print("REF", run.ref, flush=True)
time.sleep(600)
""")
    ref = _read_marker(proc)
    store = JobStore()
    rec = store.get(ref)
    assert not rec.local and rec.backend == "ibm:fake_manila" and rec.channel in (None, "loopback")
    assert rec.status == ("pending" if kill_before_id else "submitted")
    service = CountingService(root)
    with pytest.raises(QlatError, match="not finished"):
        fetch(store, ref, service=service)
    job_id = store.get(ref).job_id
    assert job_id  # recovered by its tag when the kill came before the id was committed
    service.release(job_id)
    first = fetch(store, ref, service=service)
    lookups = CountingService.lookups
    second = fetch(store, job_id, service=service)
    assert first == second and CountingService.lookups == lookups  # stored results: no second retrieval
    assert store.count_results(ref) == 1
    assert first["energy"].backend == "ibm:fake_manila+postselect" and "discarded_fraction" in first
    assert first["energy"].provenance["job_id"] == job_id
    assert refresh(store, ref, service=service).status == "done"


def test_cancel_a_queued_service_job(tmp_path, model4, one_step):
    from qlat.quantum.ibm.backend import run_on_device
    from qlat.quantum.ibm.jobs import cancel_job, job_status

    service = LoopbackService(tmp_path / "service", hold=True)
    run = run_on_device(model4, backend="ibm:fake_manila", schedule=one_step, shots=100, service=service, wait=False)
    assert run.estimates is None and run.status == "submitted" and "qlat jobs fetch" in str(run)
    assert job_status(run.ref, service=service).status == "submitted"
    assert cancel_job(run.ref, service=service).status == "cancelled"
    with pytest.raises(QlatError, match="cancelled"):
        fetch(JobStore(), run.ref, service=service)


def test_ibm_path_waits_for_the_service_result(tmp_path, model4, one_step):
    service = LoopbackService(tmp_path / "service")
    from qlat.quantum.ibm.backend import run_on_device

    run = run_on_device(model4, backend="ibm:fake_manila", schedule=one_step, shots=100, seed=2, service=service)
    assert run.status == "done" and run.estimates["energy"].backend == "ibm:fake_manila"
    rec = JobStore().get(run.ref)
    assert not rec.local and rec.results == run.estimates

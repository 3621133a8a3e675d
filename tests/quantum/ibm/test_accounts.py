"""Accounts: fast one-line errors without credentials or network, and no token anywhere qlat writes.

No test builds a real ``QiskitRuntimeService`` (it contacts the server in its constructor): the
service factory is replaced by stand-ins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest

from qlat.core.errors import ParameterError, QlatError
from qlat.quantum.ibm.accounts import (
    CredentialsError,
    assert_no_secret,
    connect,
    find_account,
    redact,
)
from qlat.quantum.ibm.backend import run_on_device
from qlat.quantum.ibm.store import JobStore

REPO = Path(__file__).resolve().parents[3]
SENTINEL = "qlatSENTINELtoken0123456789abcdef"


def test_no_account_fails_fast_with_what_to_set(model4):
    start = time.monotonic()
    with pytest.raises(CredentialsError) as info:
        find_account()
    message = str(info.value)
    assert "QISKIT_IBM_TOKEN" in message and "QISKIT_IBM_INSTANCE" in message and "\n" not in message
    with pytest.raises(CredentialsError):
        run_on_device(model4, backend="ibm:ibm_torino")
    with pytest.raises(CredentialsError, match="saved account 'lab'"):
        find_account(name="lab")
    assert time.monotonic() - start < 10
    with pytest.raises(ParameterError, match="retired"):
        find_account(channel="ibm_quantum")


def test_environment_account_is_found_without_network(monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", SENTINEL)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "crn:v1:test-instance")
    info = find_account()
    assert info.channel == "ibm_quantum_platform" and info.instance == "crn:v1:test-instance"
    assert info.source == "environment" and SENTINEL not in json.dumps(info.to_dict())
    monkeypatch.setenv("QISKIT_IBM_CHANNEL", "ibm_cloud")
    assert find_account().channel == "ibm_cloud"


def test_saved_account_through_the_runtimes_own_file(monkeypatch):
    from qiskit_ibm_runtime.accounts import AccountManager

    AccountManager.save(token=SENTINEL, channel="ibm_quantum_platform", instance="crn:v1:saved", name="lab",
                        set_as_default=True)
    info = find_account(name="lab")
    assert info.source == "saved:lab" and info.instance == "crn:v1:saved"
    assert find_account().source == "saved (default)"
    assert redact(f"key {SENTINEL}", extra=[SENTINEL]) == "key <redacted>"


def test_connect_is_bounded_and_redacts(monkeypatch):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", SENTINEL)

    def hangs(**kwargs):
        time.sleep(30)

    start = time.monotonic()
    with pytest.raises(CredentialsError, match="did not answer within 0.5 s"):
        connect(timeout=0.5, factory=hangs)
    assert time.monotonic() - start < 5

    def leaks(**kwargs):
        assert "token" not in kwargs  # qlat never hands the token to the runtime itself
        raise RuntimeError(f"401 Unauthorized for token {SENTINEL}\nsecond line with {SENTINEL}")

    with pytest.raises(CredentialsError) as info:
        connect(timeout=5, factory=leaks)
    text = "".join(traceback.format_exception(info.value))
    assert SENTINEL not in text and "<redacted>" in str(info.value) and "\n" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None or SENTINEL not in repr(
        info.value.__context__)

    calls = {}

    def records(**kwargs):
        calls.update(kwargs)
        return "service"

    assert connect(timeout=5, factory=records) == "service"
    assert calls == {"channel": "ibm_quantum_platform"}
    with pytest.raises(QlatError, match="refusing to write"):
        assert_no_secret(f"params {SENTINEL}")


def test_sentinel_token_appears_nowhere_qlat_writes(tmp_path, monkeypatch, capsys):
    """A full fake-device run, the jobs CLI and a failing ibm: connection with a sentinel token set:
    grep the store (and its WAL), the JSON results, stdout/stderr and the tracebacks."""
    monkeypatch.setenv("QISKIT_IBM_TOKEN", SENTINEL)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "crn:v1:sentinel-test")
    script = """
import json, sys
from qlat.theories.schwinger_qubit import SchwingerModel
from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.quantum.ibm.backend import run_on_device
model = SchwingerModel(n_sites=4, spacing=1.0, mass=0.5)
schedule = AdiabaticSchedule(total_time=0.75, dt=0.75)
run = run_on_device(model, backend="fake:fake_manila", schedule=schedule, shots=100, seed=1, mitigation="postselect")
print(run)
json.dump(run.to_dict(), open(sys.argv[1], "w"))
import qlat.quantum.ibm.accounts as accounts
def leaky(**kwargs):
    import os
    raise ValueError("bad key " + os.environ["QISKIT_IBM_TOKEN"])
import qiskit_ibm_runtime
qiskit_ibm_runtime.QiskitRuntimeService = leaky
run_on_device(model, backend="ibm:ibm_torino", schedule=schedule)
"""
    results = tmp_path / "run.json"
    proc = subprocess.run([sys.executable, "-c", script, str(results)], cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)
    assert proc.returncode == 1 and "CredentialsError" in proc.stderr and "<redacted>" in proc.stderr
    texts = [proc.stdout, proc.stderr, results.read_text()]
    ref = json.loads(texts[2])["ref"]
    from qlat.cli.main import main

    for args in (["jobs", "list", "--json"], ["jobs", "show", ref, "--json"], ["jobs", "fetch", ref],
                 ["jobs", "status", ref]):
        assert main(args) == 0
        out = capsys.readouterr()
        texts += [out.out, out.err]
    store_dir = JobStore().path.parent
    files = [p for p in store_dir.iterdir() if p.is_file()]
    assert any(p.name == "jobs.sqlite" for p in files)
    for text in texts:
        assert SENTINEL not in text
    for path in files + [results]:
        assert SENTINEL.encode() not in path.read_bytes(), path


def test_jobs_cli_without_credentials_exits_2_fast(capsys):
    """A service job in the store, no account: ``qlat jobs fetch`` says what to set, exit 2, < 10 s."""
    store = JobStore()
    ref = store.new_ref()
    store.record_pending(ref=ref, backend="ibm:ibm_torino", device="ibm_torino", local=False, mode="batch",
                         primitive="executor", kind="estimator", params={}, recipe={"kind": "estimator"},
                         circuit_hash="0" * 64, channel="ibm_quantum_platform", instance=None)
    store.record_submitted(ref, "d1e2f3runtimeid")
    from qlat.cli.main import main

    start = time.monotonic()
    assert main(["jobs", "fetch", ref]) == 2
    assert time.monotonic() - start < 10
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith("qlat: error: ") and out.err.count("\n") == 1
    assert "QISKIT_IBM_TOKEN" in out.err and "Traceback" not in out.err

"""Following stored jobs from any process: list, status, fetch, cancel, show (``qlat jobs``).

Each call opens the job store (``QLAT_DATA_DIR`` or the user data directory) and connects to
IBM Quantum only when the answer needs the service: never for a job whose results are stored,
never for a local-testing-mode job.  The connection goes through
:func:`qlat.quantum.ibm.accounts.connect` (bounded timeout, one-line errors, no token).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qlat.core.estimate import Estimate
from qlat.quantum.ibm.store import JobRecord, JobStore


def _store(store: JobStore | str | None) -> JobStore:
    return store if isinstance(store, JobStore) else JobStore(store)


def _service_for(rec: JobRecord, service: Any, connect: Callable[..., Any] | None) -> Any:
    if service is not None or rec.local or rec.results is not None or rec.final:
        return service
    if rec.channel == "loopback":
        from qlat.core.errors import QlatError

        raise QlatError(f"job {rec.ref[:8]} went to a LoopbackService (offline stand-in); fetch it in Python with "
                        "service=LoopbackService(<its directory>)")
    if connect is None:
        from qlat.quantum.ibm.accounts import connect as connect_
    else:
        connect_ = connect
    return connect_(channel=rec.channel, instance=rec.instance)


def list_jobs(*, store: JobStore | str | None = None, limit: int | None = None) -> list[JobRecord]:
    """Stored jobs, newest first (statuses as stored; no network)."""
    return _store(store).list(limit=limit)


def job_status(key: str, *, store: JobStore | str | None = None, service: Any = None,
               connect: Callable[..., Any] | None = None) -> JobRecord:
    """The job's record with its status refreshed (service jobs: asks the service)."""
    from qlat.quantum.ibm.submit import refresh

    st = _store(store)
    rec = st.get(key)
    return refresh(st, rec.ref, service=_service_for(rec, service, connect))


def fetch_job(key: str, *, store: JobStore | str | None = None, service: Any = None,
              connect: Callable[..., Any] | None = None) -> tuple[JobRecord, dict[str, Estimate]]:
    """The job's Estimates (stored, or retrieved by id from the service and stored once)."""
    from qlat.quantum.ibm.submit import fetch

    st = _store(store)
    rec = st.get(key)
    estimates = fetch(st, rec.ref, service=_service_for(rec, service, connect))
    return st.get(rec.ref), estimates


def cancel_job(key: str, *, store: JobStore | str | None = None, service: Any = None,
               connect: Callable[..., Any] | None = None) -> JobRecord:
    """Cancel a queued or running service job."""
    from qlat.quantum.ibm.submit import cancel

    st = _store(store)
    rec = st.get(key)
    return cancel(st, rec.ref, service=_service_for(rec, service, connect))


def show_job(key: str, *, store: JobStore | str | None = None) -> JobRecord:
    """The full stored record (no network)."""
    return _store(store).get(key)


# --------------------------------------------------------------------------------- executed circuits
#: Key of the job parameters that hold the ISA circuits as submitted (:func:`encode_circuits`).
CIRCUITS_KEY = "isa_circuits"


def encode_circuits(circuits: list[Any], *, names: list[str]) -> dict[str, Any]:
    """The ISA ``circuits`` as OpenQASM 3 (``qiskit.qasm3.dumps``), zlib-compressed and base64-encoded,
    with the sha256 of each text — JSON that goes into the job's parameters at submission."""
    import base64
    import hashlib
    import zlib

    from qiskit import qasm3

    out = []
    for name, qc in zip(names, circuits):
        text = qasm3.dumps(qc)
        out.append({"name": name, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "qasm3_zlib_b64": base64.b64encode(zlib.compress(text.encode(), 9)).decode("ascii")})
    return {"format": "OpenQASM 3 (qiskit.qasm3.dumps), zlib, base64", "circuits": out}


def executed_circuits(key: str, *, store: JobStore | str | None = None) -> tuple[JobRecord, list[tuple[str, str]]]:
    """``(record, [(name, OpenQASM 3 text)])``: the ISA circuits job ``key`` submitted, each checked
    against the sha256 recorded at submission (no network)."""
    import base64
    import hashlib
    import zlib

    from qlat.core.errors import CorruptFileError, QlatError

    rec = _store(store).get(key)
    stored = rec.params.get(CIRCUITS_KEY)
    if not stored:
        raise QlatError(f"job {rec.ref[:8]} has no stored circuits (submitted by a qlat older than the circuit record)")
    out = []
    for item in stored["circuits"]:
        text = zlib.decompress(base64.b64decode(item["qasm3_zlib_b64"])).decode()
        if hashlib.sha256(text.encode()).hexdigest() != item["sha256"]:
            raise CorruptFileError(f"job {rec.ref[:8]}: stored circuit {item['name']} does not match its sha256")
        out.append((str(item["name"]), text))
    return rec, out

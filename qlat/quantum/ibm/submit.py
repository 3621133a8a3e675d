r"""Submit compiled circuits to a runtime primitive and follow the job through the store.

Order of events in :func:`submit` (the store never loses a submitted job):

1. a fresh qlat ``ref`` and the job's parameters and recipe are committed (status ``pending``);
2. the primitive runs with the job tag ``qlat:<ref>``; the runtime returns the job;
3. its id is committed (status ``submitted``) — before :func:`submit` returns;
4. local testing mode only: the job runs in this process; its result is turned into Estimates and
   committed (status ``done``).  Local jobs live only in their process and cannot be retrieved
   by id later; if the process dies before step 4 the job is reported ``lost`` (its pid is
   recorded and checked) and must be submitted again.

A service job is followed later from any process with :func:`fetch` / :func:`refresh` /
:func:`cancel`, given a service (``qlat.quantum.ibm.accounts.connect``) that answers
``service.job(job_id)``.  A job whose id was never committed (a kill between 2 and 3) is found by
its tag with ``service.jobs(job_tags=["qlat:<ref>"])``.  :func:`fetch` is idempotent: stored
results are returned without contacting the service again.

Execution modes: ``"job"`` (the primitive gets the device), ``"batch"`` (a ``Batch``: jobs
scheduled together; works on every plan) and ``"session"`` (a ``Session``: exclusive access
between jobs; not available on the Open plan).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from qlat.core.errors import ParameterError, QlatError
from qlat.core.estimate import Estimate
from qlat.quantum.ibm.store import JobRecord, JobStore

MODES: tuple[str, ...] = ("job", "batch", "session")
TAG_PREFIX = "qlat:"

#: Runtime job states → store states.
_FINAL_RUNTIME = {"DONE": "done", "ERROR": "failed", "CANCELLED": "cancelled"}


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ParameterError("mode", f"must be one of {', '.join(MODES)}", mode)
    return mode


def job_tag(ref: str) -> str:
    return TAG_PREFIX + ref


def runtime_status(job: Any) -> str:
    """``"QUEUED"``, ``"RUNNING"``, ``"DONE"``, ``"ERROR"``, ``"CANCELLED"`` … of a runtime or local job."""
    status = job.status()
    return str(getattr(status, "name", status)).upper()


@contextlib.contextmanager
def execution_mode(device: Any, mode: str) -> Iterator[Any]:
    """What the primitive gets as ``mode=``: the device (job mode), a ``Batch`` or a ``Session``."""
    check_mode(mode)
    if mode == "job":
        yield device
        return
    from qiskit_ibm_runtime import Batch, Session

    cls = Batch if mode == "batch" else Session
    with cls(backend=device) as ctx:
        yield ctx


def make_primitive(kind: str, primitive: str, mode_obj: Any, options: Any) -> Any:
    """The Estimator or Sampler of ``primitive`` (``"executor"`` or legacy ``"v2"``), imported explicitly."""
    if primitive == "executor":
        if kind == "estimator":
            from qiskit_ibm_runtime.executor_estimator import Estimator

            return Estimator(mode=mode_obj, options=options)
        from qiskit_ibm_runtime.executor_sampler import Sampler

        return Sampler(mode=mode_obj, options=options)
    with warnings.catch_warnings():
        # chosen explicitly (primitive="v2"); the runtime deprecates them since 0.50
        warnings.simplefilter("ignore", DeprecationWarning)
        if kind == "estimator":
            from qiskit_ibm_runtime import EstimatorV2

            return EstimatorV2(mode=mode_obj, options=options)
        from qiskit_ibm_runtime import SamplerV2

        return SamplerV2(mode=mode_obj, options=options)


def _result(job: Any) -> Any:
    """``job.result()`` without the runtime's ZNE fit warning: qlat fits the ZNE line itself
    (:func:`qlat.quantum.ibm.results.linear_extrapolation`), with finite errors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No positive, finite standard errors")
        return job.result()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process with that pid
        return True
    return True


def submit(
    store: JobStore,
    *,
    pubs: list[Any],
    kind: str,
    device: Any,
    backend_label: str,
    device_name: str,
    local: bool,
    mode: str,
    primitive: str,
    options: Any,
    params: Mapping[str, Any],
    recipe: Mapping[str, Any],
    circuit_hash: str,
    ref: str | None = None,
    channel: str | None = None,
    instance: str | None = None,
    on_submitted: Callable[[Any, list[str]], None] | None = None,
) -> tuple[str, dict[str, Estimate] | None]:
    """Submit ``pubs`` and record the job (module docstring).  Returns ``(ref, estimates)``;
    ``estimates`` is None for a service job (fetch it later), the stored Estimates for a local one.

    ``options`` must carry the job tag ``qlat:<ref>``; pass the ``ref`` used to build it.
    ``on_submitted(job, tags)`` is called as soon as the primitive returns the job (the
    :class:`~qlat.quantum.ibm.loopback.LoopbackService` files it there, as the service would).
    """
    check_mode(mode)
    ref = ref or store.new_ref()
    params = dict(params)
    if local:
        params["local_pid"] = os.getpid()
    store.record_pending(ref=ref, backend=backend_label, device=device_name, local=local, mode=mode,
                         primitive=primitive, kind=kind, params=params, recipe=recipe, circuit_hash=circuit_hash,
                         channel=channel, instance=instance)
    submitted = False
    try:
        with execution_mode(device, mode) as mode_obj:
            job = make_primitive(kind, primitive, mode_obj, options).run(pubs)
            if on_submitted is not None:
                on_submitted(job, [job_tag(ref)])
            store.record_submitted(ref, str(job.job_id()))
            submitted = True
            if not local:
                return ref, None
            result = _result(job)
    except Exception as exc:
        from qlat.quantum.ibm.accounts import redact

        message = redact(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        if local or not submitted:  # a service job that has an id stays followable
            store.record_status(ref, "failed", error=message)
        raise QlatError(f"job {ref[:8]} on {backend_label} failed: {message[:300]}") from None
    from qlat.quantum.ibm.results import finalize

    estimates = finalize(recipe, result, extra_provenance={"job_id": str(job.job_id()), "ref": ref})
    return ref, store.record_results(ref, estimates)


def _recover_pending(store: JobStore, rec: JobRecord, service: Any) -> JobRecord:
    """A ``pending`` service job: find it by its tag (the id may never have been committed)."""
    jobs = list(service.jobs(job_tags=[job_tag(rec.ref)], limit=2))
    if not jobs:
        store.record_status(rec.ref, "failed", error="never reached the service (no job carries its tag)")
        raise QlatError(f"job {rec.ref[:8]} never reached the service (no job tagged {job_tag(rec.ref)}); "
                        "submit it again")
    store.record_submitted(rec.ref, str(jobs[0].job_id()))
    return store.get(rec.ref)


def refresh(store: JobStore, key: str, *, service: Any = None) -> JobRecord:
    """The job's record with its status brought up to date (from the service, or the local pid)."""
    rec = store.get(key)
    if rec.final:
        return rec
    if rec.local:
        pid = rec.params.get("local_pid")
        if not (isinstance(pid, int) and _pid_alive(pid)):
            store.record_status(rec.ref, "lost", error="local testing mode: the process that ran the job ended "
                                "before its result was stored; local jobs cannot be retrieved by id")
        return store.get(rec.ref)
    if service is None:
        return rec
    if rec.status == "pending":
        rec = _recover_pending(store, rec, service)
    status = runtime_status(service.job(rec.job_id))
    if status in ("ERROR", "CANCELLED"):
        store.record_status(rec.ref, _FINAL_RUNTIME[status], error=f"runtime status {status}")
    return store.get(rec.ref)


def fetch(store: JobStore, key: str, *, service: Any = None) -> dict[str, Estimate]:
    """The Estimates of job ``key`` (ref or runtime id); idempotent (stored results are returned as is).

    Raises :class:`QlatError` (one line) for a job that is not finished, failed, was cancelled,
    or was a local job that got lost; and when a service is needed but none is given.
    """
    rec = store.get(key)
    if rec.results is not None:
        return rec.results
    rec = refresh(store, rec.ref, service=service)
    if rec.results is not None:
        return rec.results
    if rec.status == "lost":
        raise QlatError(f"job {rec.ref[:8]} ran in local testing mode and its process ended before the result was "
                        "stored (local jobs cannot be retrieved by id); submit it again")
    if rec.status in ("failed", "cancelled"):
        raise QlatError(f"job {rec.ref[:8]} is {rec.status}" + (f": {rec.error}" if rec.error else ""))
    if rec.local:
        raise QlatError(f"job {rec.ref[:8]} is still running in local testing mode (process {rec.params.get('local_pid')})")
    if service is None:
        raise QlatError(f"job {rec.ref[:8]} ({rec.backend}) has no stored result; connecting to IBM Quantum is "
                        "needed to fetch it")
    job = service.job(rec.job_id)
    status = runtime_status(job)
    if status != "DONE":
        raise QlatError(f"job {rec.ref[:8]} ({rec.job_id}) is not finished: runtime status {status}")
    from qlat.quantum.ibm.results import finalize

    estimates = finalize(rec.recipe, _result(job), extra_provenance={"job_id": rec.job_id, "ref": rec.ref})
    return store.record_results(rec.ref, estimates)


def cancel(store: JobStore, key: str, *, service: Any = None) -> JobRecord:
    """Cancel a queued or running service job (a local or finished job cannot be cancelled)."""
    rec = refresh(store, key, service=service)
    if rec.final:
        raise QlatError(f"job {rec.ref[:8]} is {rec.status}; nothing to cancel")
    if rec.local:
        raise QlatError(f"job {rec.ref[:8]} runs in local testing mode inside process "
                        f"{rec.params.get('local_pid')}; stop that process instead")
    if service is None:
        raise QlatError(f"cancelling job {rec.ref[:8]} needs a connection to IBM Quantum")
    service.job(rec.job_id).cancel()
    store.record_status(rec.ref, "cancelled", error="cancelled by the user")
    return store.get(rec.ref)

"""An offline stand-in for ``QiskitRuntimeService``: the ``ibm:`` path without a network.

:class:`LoopbackService` answers what qlat asks a service — ``backend(name)``, ``job(job_id)``,
``jobs(job_tags=...)`` — with the runtime's fake devices: a job submitted through it runs in the
runtime's local testing mode (the fake device's noise model, simulated by Aer) and its result is
filed under ``root`` as JSON written by the runtime's own ``RuntimeEncoder`` (no pickle), so that
``job(job_id)`` finds it again from any process, as the real service would.  It exists so that
the whole service-job life cycle (id committed before submission returns, retrieval by id from
another process, idempotent fetch) runs in tests, the conformance suite and demos; it never
opens a connection and holds no credentials.  Channel: ``"loopback"``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError

_ID = re.compile(r"^[A-Za-z0-9_\-]+$")


class LoopbackJob:
    """A filed job: ``status()`` is ``"DONE"`` once its result is filed, ``"CANCELLED"`` after :meth:`cancel`."""

    def __init__(self, root: Path, job_id: str) -> None:
        self.root = root
        self._id = job_id

    def job_id(self) -> str:
        return self._id

    def status(self) -> str:
        if (self.root / "cancelled" / self._id).exists():
            return "CANCELLED"
        return "DONE" if (self.root / "done" / f"{self._id}.json").exists() else "QUEUED"

    def result(self) -> Any:
        from qiskit_ibm_runtime import RuntimeDecoder

        path = self.root / "done" / f"{self._id}.json"
        if not path.exists():
            raise ParameterError("job", "has no result yet", self._id)
        return json.loads(path.read_text(), cls=RuntimeDecoder)

    def cancel(self) -> None:
        (self.root / "cancelled").mkdir(parents=True, exist_ok=True)
        (self.root / "cancelled" / self._id).write_text("")


class LoopbackService:
    """Fake devices and a directory of filed results, behind the service calls qlat makes.

    ``hold=True`` keeps filed jobs ``QUEUED`` until :meth:`release` (to exercise waiting).
    """

    channel = "loopback"

    def __init__(self, root: str | Path, *, hold: bool = False) -> None:
        self.root = Path(root)
        self.hold = bool(hold)
        for sub in ("queued", "done", "tags"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def backend(self, name: str) -> Any:
        from qlat.quantum.ibm.devices import fake_device

        return fake_device(name, parameter="backend")

    def _check(self, job_id: str) -> str:
        if not isinstance(job_id, str) or not _ID.match(job_id):
            raise ParameterError("job", "is not a job id", job_id)
        return job_id

    def job(self, job_id: str) -> LoopbackJob:
        self._check(job_id)
        if not any((self.root / d / f"{job_id}.json").exists() for d in ("queued", "done")):
            raise ParameterError("job", f"not known to the loopback service at {self.root}", job_id)
        return LoopbackJob(self.root, job_id)

    def jobs(self, *, job_tags: list[str] | None = None, limit: int | None = 10, **_: Any) -> list[LoopbackJob]:
        found = []
        for path in sorted((self.root / "tags").glob("*.json")):
            tags = json.loads(path.read_text())
            if all(t in tags for t in (job_tags or [])):
                found.append(LoopbackJob(self.root, path.stem))
        return found[:limit]

    def file_job(self, job: Any, tags: list[str]) -> None:
        """Run a just-submitted local job to completion and file its result (called by qlat's submit)."""
        from qiskit.primitives.containers import PrimitiveResult, PubResult
        from qiskit_ibm_runtime import RuntimeEncoder

        from qlat.quantum.ibm.submit import _result

        job_id = self._check(str(job.job_id()))
        result = _result(job)
        # the runtime's metadata holds objects its encoder does not write; the data is all qlat reads
        plain = PrimitiveResult([PubResult(p.data, metadata={}) for p in result], metadata={})
        (self.root / "tags" / f"{job_id}.json").write_text(json.dumps(list(tags)))
        target = self.root / ("queued" if self.hold else "done") / f"{job_id}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(plain, cls=RuntimeEncoder))
        tmp.replace(target)

    def release(self, job_id: str) -> None:
        """Finish a held job: its result becomes retrievable."""
        self._check(job_id)
        (self.root / "queued" / f"{job_id}.json").replace(self.root / "done" / f"{job_id}.json")

r"""The job store: every submitted IBM Runtime job, in one SQLite file that never loses one.

A hardware job waits hours in a queue; the process that submitted it may be gone long before it
finishes (a crash, a reboot, a closed laptop).  The store keeps, per job, everything needed to
turn its result into :class:`~qlat.core.estimate.Estimate`\ s later, from any process:

- ``ref``: qlat's own id, assigned (and committed) *before* anything is submitted; the runtime
  job is tagged ``qlat:<ref>`` so that a job whose id was never recorded (a kill between the
  service accepting it and the commit) can still be found with ``service.jobs(job_tags=...)``;
- ``job_id``: the runtime's id, committed before the submitting call returns;
- backend (``ibm:<device>`` / ``fake:<device>``), channel and instance (never the token), execution
  mode, primitive, kind (estimator / sampler), the run parameters, the *recipe* that maps the
  primitive result to Estimates, the hash of the ISA circuits, qlat version, status, timestamps;
- once done, the results as Estimate JSON (``Estimate.to_dict``).

Durability.  The file is in WAL mode with ``synchronous=FULL``; every change is one
``BEGIN IMMEDIATE`` … ``COMMIT`` transaction, so a SIGKILL leaves either the old or the new row,
never half of one.  Storing results is idempotent: the first fetch writes them, a second one
returns the stored Estimates unchanged (no duplicate, no rewrite).

Safety.  A file that is not a qlat job store (another SQLite database, a truncated or garbage
file, a store written by a newer qlat) is reported with :class:`~qlat.core.errors.CorruptFileError`
naming the path and is never modified or replaced.  Nothing that looks like the IBM token of the
environment is ever written (:func:`qlat.quantum.ibm.accounts.assert_no_secret`).

Location: ``$QLAT_DATA_DIR/jobs.sqlite`` if ``QLAT_DATA_DIR`` is set, else the user data
directory of ``platformdirs`` (``~/.local/share/qlat`` on Linux).  See ``docs/architecture.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat.core.errors import CorruptFileError, ParameterError, QlatError
from qlat.core.estimate import Estimate
from qlat.core.schema import ANY, Build, MalformedFileError, MapOf, Where, check, parse_json

#: Version of the table layout below; a store with a higher version is refused (newer qlat).
SCHEMA_VERSION = 1
#: Written into the ``meta`` table; a SQLite file without it is not ours.
APPLICATION = "qlat-jobs"
#: File name inside the data directory.
STORE_NAME = "jobs.sqlite"
#: Environment variable that overrides the data directory.
DATA_DIR_ENV = "QLAT_DATA_DIR"

#: Job states.  ``pending``: recorded, not yet accepted by the runtime; ``submitted``: the runtime
#: has it (queued or running); ``done`` / ``failed`` / ``cancelled``: final; ``lost``: a
#: local-testing-mode job whose process ended before it finished (local jobs live only in their
#: process and cannot be retrieved by id).
STATUSES: tuple[str, ...] = ("pending", "submitted", "done", "failed", "cancelled", "lost")
FINAL_STATUSES: frozenset[str] = frozenset({"done", "failed", "cancelled", "lost"})

_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE jobs (
    ref           TEXT PRIMARY KEY,
    job_id        TEXT UNIQUE,
    backend       TEXT NOT NULL,
    device        TEXT NOT NULL,
    local         INTEGER NOT NULL,
    channel       TEXT,
    instance      TEXT,
    mode          TEXT NOT NULL,
    primitive     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    params        TEXT NOT NULL,
    recipe        TEXT NOT NULL,
    circuit_hash  TEXT NOT NULL,
    qlat_version  TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_utc   TEXT NOT NULL,
    submitted_utc TEXT,
    updated_utc   TEXT NOT NULL,
    finished_utc  TEXT,
    error         TEXT,
    results       TEXT
);
CREATE INDEX jobs_created ON jobs (created_utc);
"""

_COLUMNS = (
    "ref", "job_id", "backend", "device", "local", "channel", "instance", "mode", "primitive", "kind",
    "params", "recipe", "circuit_hash", "qlat_version", "status", "created_utc", "submitted_utc",
    "updated_utc", "finished_utc", "error", "results",
)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def default_data_dir() -> Path:
    """``$QLAT_DATA_DIR`` if set (and non-empty), else ``platformdirs.user_data_dir("qlat")``."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("qlat", appauthor=False))


def default_store_path() -> Path:
    """Where the job store lives (see the module docstring)."""
    return default_data_dir() / STORE_NAME


@dataclass(frozen=True)
class JobRecord:
    """One row of the store, decoded (``params`` / ``recipe`` / ``results`` as Python objects)."""

    ref: str
    job_id: str | None
    backend: str
    device: str
    local: bool
    channel: str | None
    instance: str | None
    mode: str
    primitive: str
    kind: str
    params: dict[str, Any]
    recipe: dict[str, Any]
    circuit_hash: str
    qlat_version: str
    status: str
    created_utc: str
    submitted_utc: str | None
    updated_utc: str
    finished_utc: str | None
    error: str | None
    results: dict[str, Estimate] | None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def summary(self) -> dict[str, Any]:
        """The JSON-ready fields ``qlat jobs list`` shows (no recipe, no results)."""
        return {
            "ref": self.ref, "job_id": self.job_id, "backend": self.backend, "mode": self.mode,
            "primitive": self.primitive, "kind": self.kind, "status": self.status,
            "mitigation": self.params.get("mitigation"), "created_utc": self.created_utc,
            "finished_utc": self.finished_utc,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (results as Estimate dicts)."""
        out = {name: getattr(self, name) for name in _COLUMNS}
        out["results"] = None if self.results is None else {k: e.to_dict() for k, e in self.results.items()}
        return out


class MissingStoreError(ParameterError):
    """There is no job store at the path (raised instead of creating one when ``create=False``)."""


class JobStore:
    """The SQLite job store at ``path`` (default :func:`default_store_path`).

    Opening checks the file; a foreign, corrupt or newer-schema file raises
    :class:`CorruptFileError` and is left alone.  With ``create`` (the default, for submitting) a
    missing or empty file becomes a new store; without it (``qlat jobs``, which only reads and
    follows jobs) nothing is created and :class:`MissingStoreError` says there is no store.

    Creation is safe when several processes use a new store at the same moment: the new store is
    written complete under a temporary name in the same folder and hard-linked to ``path`` (which
    fails if ``path`` appeared meanwhile: the loser uses the winner's store), the same mechanism as
    :meth:`qlat.core.ensemble.Ensemble.create`; an empty file is initialized under an exclusive
    ``flock`` on it.  Connections never create files (``mode=rw`` URIs).

    A store this user cannot write (``read_only``) is read through a read-only connection: listing
    and showing jobs works, recording raises a one-line :class:`ParameterError` that says so.
    ``source`` names what chose the path in errors (default ``"path"`` for an explicit path, else
    ``QLAT_DATA_DIR``; the command line passes ``"--store"``).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True,
                 source: str | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.source = source or ("path" if path is not None else DATA_DIR_ENV)
        self.read_only = False
        self._immutable = False
        self._open_checked(create=create)

    # ------------------------------------------------------------------ opening and checks
    def _connect(self) -> sqlite3.Connection:
        from urllib.parse import quote

        mode = "ro" if self.read_only else "rw"  # never "rwc": a connection must not create the file
        uri = f"file:{quote(str(self.path.absolute()))}?mode={mode}" + ("&immutable=1" if self._immutable else "")
        conn = sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        return conn

    def _corrupt(self, why: str) -> CorruptFileError:
        """A damaged or foreign store: a :class:`CorruptFileError` naming the path and where it came from."""
        return MalformedFileError(self.path, f"{why}; qlat will not modify or replace it — move it away (or point "
                                  f"{DATA_DIR_ENV} elsewhere) to start a new job store", flag=self.source)

    def _sqlite_error(self, exc: sqlite3.Error, doing: str) -> QlatError:
        """A one-line error for a SQLite failure, by its cause: damage, permissions, a lock, the disk."""
        name = str(getattr(exc, "sqlite_errorname", ""))
        if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
            return ParameterError(self.source, f"{self.path}: cannot {doing}: permission denied for this user "
                                  f"({exc}); check the permissions of the file and its folder")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return QlatError(f"{self.path}: another process has held the job store locked for more than "
                             f"{_BUSY_TIMEOUT_MS // 1000} s ({exc}); try again")
        if name.startswith(("SQLITE_IOERR", "SQLITE_FULL")):
            return QlatError(f"{self.path}: cannot {doing}: input/output error or full disk ({exc})")
        return self._corrupt(f"is corrupted ({exc})")

    def _open_checked(self, *, create: bool) -> None:
        path = self.path
        if path.is_symlink() and not path.exists():
            raise ParameterError(self.source, "is a dangling symbolic link", str(path))
        if path.exists() and not path.is_file():
            if path.is_dir():
                raise self._corrupt(f"is a folder, not a regular file (give the store's file, e.g. "
                                    f"{path / STORE_NAME})")
            raise self._corrupt("is not a regular file")
        if not path.exists() or path.stat().st_size == 0:
            if not create:
                state = "is an empty file" if path.exists() else "does not exist"
                raise MissingStoreError(self.source, f"there is no job store at {path} (it {state}: no job was "
                                        "submitted with it)")
            if path.exists():
                self._initialize_empty()
            else:
                self._create_new()
        with open(path, "rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head != _SQLITE_MAGIC:
            raise self._corrupt("is not a SQLite database (not a qlat job store, or corrupted)")
        if not os.access(path, os.W_OK):
            self.read_only = True
        while True:
            try:
                self._check_tables()
                return
            except sqlite3.Error as exc:
                error = self._sqlite_error(exc, "open the job store")
                if not isinstance(error, ParameterError) or self._immutable:
                    raise error from None
                # no write permission (to the file, or to its folder for the WAL index): read only,
                # and if SQLite cannot even set up its WAL index, as an immutable file
                self._immutable = self.read_only
                self.read_only = True

    def _check_tables(self) -> None:
        conn = self._connect()
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                # a valid SQLite file without tables: created by someone else, leave it alone
                raise self._corrupt("is an SQLite database without a qlat job table (not a qlat job store)")
            if not {"meta", "jobs"} <= tables:
                raise self._corrupt(f"is an SQLite database of another application (tables: {', '.join(sorted(tables))})")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if meta.get("application") != APPLICATION:
                raise self._corrupt("is an SQLite database of another application (no qlat marker)")
            if check != "ok":
                raise self._corrupt(f"failed SQLite's integrity check ({check})")
            try:
                version = int(meta.get("schema_version", ""))
            except ValueError:
                raise self._corrupt(f"has an unreadable schema version {meta.get('schema_version')!r}") from None
            if version > SCHEMA_VERSION:
                raise self._corrupt(f"was written by a newer qlat (schema {version}, this qlat reads {SCHEMA_VERSION})")
            if version < 1:
                raise self._corrupt(f"has an unknown schema version {version}")
            if not self.read_only and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()

    def _folder(self) -> Path:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ParameterError(self.source, f"cannot create the job store's folder {folder} "
                                 f"({exc.strerror or exc})", str(self.path)) from None
        return folder

    def _build(self, folder: Path) -> Path:
        """A complete new store under a temporary name in ``folder`` (closed: ready to be linked)."""
        import tempfile

        try:
            fd, name = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.", suffix=".creating")
        except OSError as exc:
            raise ParameterError(self.source, f"cannot write a job store in {folder} ({exc.strerror or exc})",
                                 str(self.path)) from None
        os.close(fd)  # mkstemp: mode 0600, the store's
        tmp = Path(name)
        try:
            conn = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                for statement in filter(None, (part.strip() for part in _SCHEMA.split(";"))):
                    conn.execute(statement)
                conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [
                    ("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION)), ("created_utc", _now()),
                ])
                conn.execute("COMMIT")
            finally:
                conn.close()  # the last connection: the WAL is checkpointed into the file and removed
        except sqlite3.Error as exc:
            self._remove_temporary(tmp)
            raise QlatError(f"{self.path}: cannot create the job store in {folder} ({exc})") from None
        except BaseException:
            self._remove_temporary(tmp)
            raise
        return tmp

    @staticmethod
    def _remove_temporary(tmp: Path) -> None:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)

    def _create_new(self) -> None:
        """Create the store at a missing ``path``; of several processes at once, one link wins."""
        tmp = self._build(self._folder())
        try:
            os.link(tmp, self.path)  # atomic and exclusive
        except FileExistsError:
            pass  # another process created the store at the same moment: it is complete, use it
        except OSError as exc:
            raise ParameterError(self.source, f"cannot create the job store ({exc.strerror or exc})",
                                 str(self.path)) from None
        finally:
            self._remove_temporary(tmp)

    def _initialize_empty(self) -> None:
        """Turn an empty file at ``path`` into a store, under an exclusive flock on it (one process does)."""
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise ParameterError(self.source, f"cannot open the empty job store file ({exc.strerror or exc})",
                                 str(self.path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits while another process initializes it
            mine = os.fstat(fd)
            if mine.st_size == 0 and os.path.samestat(mine, os.stat(self.path)):
                tmp = self._build(self.path.parent)
                try:
                    os.replace(tmp, self.path)  # the empty file becomes a complete store at once
                except OSError as exc:
                    raise ParameterError(self.source, f"cannot create the job store ({exc.strerror or exc})",
                                         str(self.path)) from None
                finally:
                    self._remove_temporary(tmp)
        finally:
            os.close(fd)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading; SQLite failures become one-line errors."""
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise self._sqlite_error(exc, "read the job store") from None
        try:
            yield conn
        except sqlite3.Error as exc:
            raise self._sqlite_error(exc, "read the job store") from None
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rollback on error)."""
        if self.read_only:
            raise ParameterError(self.source, f"{self.path} is read-only for this user: jobs can be listed and "
                                 "shown, but nothing can be recorded; use a store you can write")
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise self._sqlite_error(exc, "write the job store") from None
        try:
            try:
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._sqlite_error(exc, "write the job store") from None
            try:
                yield conn
            except BaseException as exc:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._sqlite_error(exc, "write the job store") from None
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._sqlite_error(exc, "write the job store") from None
        finally:
            conn.close()

    # ------------------------------------------------------------------ writing
    @staticmethod
    def new_ref() -> str:
        """A fresh qlat job reference (uuid4 hex, 32 characters)."""
        return uuid.uuid4().hex

    def record_pending(
        self,
        *,
        ref: str,
        backend: str,
        device: str,
        local: bool,
        mode: str,
        primitive: str,
        kind: str,
        params: Mapping[str, Any],
        recipe: Mapping[str, Any],
        circuit_hash: str,
        channel: str | None = None,
        instance: str | None = None,
    ) -> None:
        """Commit a job about to be submitted (status ``pending``), before the runtime sees it."""
        from qlat._version import __version__
        from qlat.quantum.ibm.accounts import assert_no_secret

        params_json = json.dumps(params, sort_keys=True)
        recipe_json = json.dumps(recipe, sort_keys=True)
        for text in (params_json, recipe_json, backend, device, channel or "", instance or ""):
            assert_no_secret(text)
        now = _now()
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (ref, job_id, backend, device, local, channel, instance, mode, primitive, kind, "
                "params, recipe, circuit_hash, qlat_version, status, created_utc, updated_utc) "
                "VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (ref, backend, device, int(bool(local)), channel, instance, mode, primitive, kind, params_json,
                 recipe_json, circuit_hash, __version__, now, now),
            )

    def record_submitted(self, ref: str, job_id: str) -> None:
        """Commit the runtime's job id (status ``submitted``)."""
        now = _now()
        with self._transaction() as conn:
            cur = conn.execute(
                "UPDATE jobs SET job_id = ?, status = 'submitted', submitted_utc = ?, updated_utc = ? "
                "WHERE ref = ? AND status = 'pending'", (str(job_id), now, now, ref))
            if cur.rowcount != 1:
                raise QlatError(f"job store: job {ref} is not pending; cannot record runtime id {job_id}")

    def record_results(self, ref: str, results: Mapping[str, Estimate]) -> dict[str, Estimate]:
        """Store the results of job ``ref`` once (idempotent) and return the stored Estimates.

        If results are stored already, nothing is written and the stored ones are returned.
        """
        from qlat.quantum.ibm.accounts import assert_no_secret

        text = json.dumps({k: e.to_dict() for k, e in results.items()}, sort_keys=True)
        assert_no_secret(text)
        now = _now()
        with self._transaction() as conn:
            row = conn.execute("SELECT results FROM jobs WHERE ref = ?", (ref,)).fetchone()
            if row is None:
                raise ParameterError("ref", "no such job in the store", ref)
            if row[0] is None:
                conn.execute(
                    "UPDATE jobs SET results = ?, status = 'done', error = NULL, finished_utc = ?, updated_utc = ? "
                    "WHERE ref = ? AND results IS NULL", (text, now, now, ref))
                stored = text
            else:
                stored = row[0]
        decoded = self._decode_results(stored, ref)
        assert decoded is not None
        return decoded

    def record_status(self, ref: str, status: str, *, error: str | None = None) -> None:
        """Set the status of job ``ref`` (a job with results stays ``done``)."""
        from qlat.quantum.ibm.accounts import assert_no_secret, redact

        if status not in STATUSES:
            raise ParameterError("status", f"must be one of {', '.join(STATUSES)}", status)
        if error is not None:
            error = redact(error)
            assert_no_secret(error)
        now = _now()
        finished = now if status in FINAL_STATUSES else None
        with self._transaction() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, error = COALESCE(?, error), updated_utc = ?, "
                "finished_utc = COALESCE(finished_utc, ?) WHERE ref = ? AND results IS NULL",
                (status, error, now, finished, ref))

    # ------------------------------------------------------------------ reading
    def get(self, key: str) -> JobRecord:
        """The job whose qlat ref, runtime job id, or a unique prefix of either (≥ 6 chars) is ``key``."""
        if not isinstance(key, str) or not key.strip():
            raise ParameterError("job", "must be a job id or qlat ref", key)
        key = key.strip()
        with self._reading() as conn:
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE ref = ? OR job_id = ?",
                                (key, key)).fetchall()
            if not rows and len(key) >= 6:
                like = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                rows = conn.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE ref LIKE ? ESCAPE '\\' "
                    "OR job_id LIKE ? ESCAPE '\\'", (like, like)).fetchall()
        if not rows:
            raise ParameterError("job", f"not in the job store {self.path}", key)
        if len(rows) > 1:
            raise ParameterError("job", f"prefix matches {len(rows)} jobs; give more characters", key)
        return self._decode_row(rows[0])

    def list(self, *, limit: int | None = None) -> list[JobRecord]:
        """All jobs, newest first (at most ``limit``)."""
        sql = f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY created_utc DESC, rowid DESC"
        params: tuple = ()
        if limit is not None:
            if not isinstance(limit, int) or limit < 1:
                raise ParameterError("limit", "must be an integer >= 1", limit)
            sql += " LIMIT ?"
            params = (limit,)
        with self._reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._decode_row(row) for row in rows]

    def count_results(self, ref: str) -> int:
        """How many result sets job ``ref`` holds (0 or 1: storing is idempotent)."""
        with self._reading() as conn:
            row = conn.execute("SELECT COUNT(*) FROM jobs WHERE ref = ? AND results IS NOT NULL", (ref,)).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ decoding (schema-checked)
    def _decode_results(self, text: Any, ref: Any) -> dict[str, Estimate] | None:
        if text is None:
            return None
        return self._parse(text, _RESULTS, ref, "results")

    def _parse(self, text: Any, spec: Any, ref: Any, column: str) -> Any:
        where = f"job {str(ref)[:12]} {column}"
        if not isinstance(text, str):
            raise MalformedFileError(self.path, f"must be JSON text, not {type(text).__name__}", flag=self.source,
                                     where=where)
        return parse_json(text, spec, file=self.path, flag=self.source, where=where)

    def _decode_row(self, row: tuple) -> JobRecord:
        """A row as a :class:`JobRecord`, every column checked: a damaged or edited row is one line
        (:class:`~qlat.core.schema.MalformedFileError` naming the store, the job and the column)."""
        data = dict(zip(_COLUMNS, row))
        ref = data.get("ref")
        data["params"] = self._parse(data["params"], dict, ref, "params")
        data["recipe"] = self._parse(data["recipe"], dict, ref, "recipe")
        data["results"] = self._decode_results(data["results"], ref)
        data = check(data, _ROW, file=self.path, flag=self.source, where=f"job {str(ref)[:12]}")
        data["local"] = bool(data["local"])
        return JobRecord(**data)


def _estimate(data: Any) -> Estimate:
    return Estimate.from_dict(data)


def _schemas() -> tuple[Any, Any]:
    text, maybe = str, (str, type(None))
    row = {"ref": text, "job_id": maybe, "backend": text, "device": text, "local": Where(int, lambda v: v in (0, 1),
           "0 or 1"), "channel": maybe, "instance": maybe, "mode": text, "primitive": text, "kind": text,
           "params": dict, "recipe": dict, "circuit_hash": text, "qlat_version": text,
           "status": Where(str, lambda v: v in STATUSES, f"one of {', '.join(STATUSES)}"), "created_utc": text,
           "submitted_utc": maybe, "updated_utc": text, "finished_utc": maybe, "error": maybe, "results": ANY}
    return row, MapOf(Build(_estimate, "an Estimate", spec=dict))


#: What a row and its ``results`` column must hold (:mod:`qlat.core.schema`).
_ROW, _RESULTS = _schemas()

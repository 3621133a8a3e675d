"""The SQLite job store: location, schema, atomic idempotent writes, foreign/corrupt files refused."""

from __future__ import annotations

import sqlite3

import pytest

from qlat.core.errors import CorruptFileError, ParameterError
from qlat.core.estimate import Estimate
from qlat.quantum.ibm.store import SCHEMA_VERSION, STORE_NAME, JobStore, default_store_path


def _pending(store: JobStore, ref: str | None = None, *, local: bool = False) -> str:
    ref = ref or store.new_ref()
    store.record_pending(ref=ref, backend="ibm:ibm_test", device="ibm_test", local=local, mode="batch",
                         primitive="executor", kind="estimator", params={"shots": 100, "mitigation": "trex"},
                         recipe={"kind": "estimator"}, circuit_hash="abc", channel="ibm_quantum_platform",
                         instance="crn:test")
    return ref


def test_location_follows_qlat_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("QLAT_DATA_DIR", str(tmp_path / "elsewhere"))
    assert default_store_path() == tmp_path / "elsewhere" / STORE_NAME
    store = JobStore()
    assert store.path.is_file() and store.path.parent == tmp_path / "elsewhere"
    monkeypatch.delenv("QLAT_DATA_DIR")
    import platformdirs

    assert default_store_path().parent == __import__("pathlib").Path(platformdirs.user_data_dir("qlat", appauthor=False))


def test_schema_wal_and_lifecycle(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    conn.close()
    assert meta["application"] == "qlat-jobs" and int(meta["schema_version"]) == SCHEMA_VERSION

    ref = _pending(store)
    rec = store.get(ref)
    assert rec.status == "pending" and rec.job_id is None and rec.results is None
    store.record_submitted(ref, "runtime-id-123")
    # another connection (another process) sees the committed id at once
    other = JobStore(store.path)
    assert other.get("runtime-id-123").ref == ref and other.get(ref[:8]).status == "submitted"
    with pytest.raises(Exception):
        store.record_submitted(ref, "again")  # only a pending job takes an id

    first = {"energy": Estimate(-1.5, 0.1, name="energy", unit="g", backend="ibm:ibm_test")}
    stored = store.record_results(ref, first)
    again = store.record_results(ref, {"energy": Estimate(99.0, 1.0, name="energy", unit="g")})
    assert stored == first and again == first  # idempotent: the first result set stays
    assert store.count_results(ref) == 1
    rec = store.get(ref)
    assert rec.status == "done" and rec.results == first and rec.finished_utc is not None
    store.record_status(ref, "failed", error="late")  # a job with results stays done
    assert store.get(ref).status == "done"
    assert [r.ref for r in store.list()] == [ref]


def test_lookup_errors(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    with pytest.raises(ParameterError, match="not in the job store"):
        store.get("nosuchjob")
    a = _pending(store, "abcdef" + "0" * 26)
    _pending(store, "abcdef" + "1" * 26)
    with pytest.raises(ParameterError, match="matches 2 jobs"):
        store.get("abcdef")
    assert store.get(a[:8]).ref == a
    with pytest.raises(ParameterError):
        store.record_status(a, "weird")


def _assert_refused(path, match):
    before = path.read_bytes()
    with pytest.raises(CorruptFileError, match=match) as info:
        JobStore(path)
    assert str(path) in str(info.value) and "will not modify or replace" in str(info.value)
    assert path.read_bytes() == before  # never silently replaced


def test_garbage_and_truncated_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all" * 10)
    _assert_refused(garbage, "not a SQLite database")

    good = JobStore(tmp_path / "good.sqlite")
    _pending(good)
    truncated = tmp_path / "truncated.sqlite"
    data = good.path.read_bytes()
    truncated.write_bytes(data[:100] + b"\x00" * 50)
    with pytest.raises(CorruptFileError):
        JobStore(truncated)


def test_foreign_and_newer_stores_are_refused(tmp_path):
    foreign = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE photos (id INTEGER, name TEXT)")
    conn.execute("INSERT INTO photos VALUES (1, 'cat')")
    conn.commit()
    conn.close()
    _assert_refused(foreign, "another application")

    lookalike = tmp_path / "lookalike.sqlite"
    conn = sqlite3.connect(lookalike)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE jobs (ref TEXT)")
    conn.execute("INSERT INTO meta VALUES ('application', 'someone-else')")
    conn.commit()
    conn.close()
    _assert_refused(lookalike, "another application")

    newer = JobStore(tmp_path / "newer.sqlite")
    conn = sqlite3.connect(newer.path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(CorruptFileError, match="newer qlat"):
        JobStore(newer.path)


def test_a_directory_in_the_way_is_refused(tmp_path):
    (tmp_path / "jobs.sqlite").mkdir()
    with pytest.raises(CorruptFileError, match="not a regular file"):
        JobStore(tmp_path / "jobs.sqlite")

"""Hash-chained resume logs: an edited line is refused, a crash-cut line is recomputed."""

import json

import pytest

from qlat.core.errors import CorruptFileError
from qlat.core.hashlog import HashChainLog


def test_round_trip_and_tamper_detection(tmp_path):
    path = tmp_path / "points.jsonl"
    log = HashChainLog(path, kind="test v1")
    for i in range(3):
        log.append({"index": i, "value": i * 0.5})
    assert HashChainLog(path, kind="test v1").load() == [{"index": i, "value": i * 0.5} for i in range(3)]
    with pytest.raises(CorruptFileError, match="line 1"):
        HashChainLog(path, kind="other v1").load()  # a log of another kind
    lines = path.read_text().splitlines()
    record = json.loads(lines[1])
    record["entry"]["value"] = 99.0
    path.write_text("\n".join([lines[0], json.dumps(record), lines[2]]) + "\n")
    with pytest.raises(CorruptFileError, match="points.jsonl: line 2"):
        HashChainLog(path, kind="test v1").load()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # a line removed
    with pytest.raises(CorruptFileError, match="line 2"):
        HashChainLog(path, kind="test v1").load()


def test_a_line_cut_by_a_crash_is_dropped_and_overwritten(tmp_path):
    path = tmp_path / "points.jsonl"
    log = HashChainLog(path, kind="test v1")
    log.append({"index": 0})
    with open(path, "a") as f:
        f.write('{"entry": {"index": 1}, "pr')  # the process died here
    again = HashChainLog(path, kind="test v1")
    assert again.load() == [{"index": 0}]
    again.append({"index": 1})
    assert HashChainLog(path, kind="test v1").load() == [{"index": 0}, {"index": 1}]

"""Scale-out on Dask: same results as the serial run, lost workers retried, finished points kept."""

from __future__ import annotations

import os
import signal
import time

import pytest

from qlat.analysis.distributed import ResultLog, batch_cluster, run_points, spawn_seeds
from qlat.analysis.schwinger_studies import scan_point

pytest.importorskip("distributed")


def _points():
    return [{"n_sites": n, "spacing": a, "thetas": [0.0, 0.8], "mass": 0.1, "coupling": 1.0,
             "formulation": "rotated", "mass_shift": False, "simulate": None} for n in (4, 6) for a in (0.5, 0.7)]


def _slow_square(x):
    time.sleep(0.3)
    return x * x


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    from qlat.analysis.distributed import WORKER_ENV

    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, env=WORKER_ENV)
    yield local
    local.close()


def test_two_worker_scan_equals_the_serial_scan(cluster):
    points = _points()
    serial = run_points(scan_point, points)
    parallel = run_points(scan_point, points, cluster=cluster)
    assert parallel == serial  # same numbers, bit for bit, in point order


def _refuse_three(x, log=None):
    from qlat.core.errors import ParameterError

    if log is not None:
        with open(log, "a") as f:
            f.write(f"{x}\n")
    if x == 3:
        raise ParameterError("ramp", "must be one of linear, smootherstep", "bogus")
    return x


def test_a_refusal_in_a_task_comes_back_as_one_error_not_retried(cluster, tmp_path):
    """A QlatError of a task is deterministic: raised here with its parameter, computed once (not retried)."""
    import functools

    from qlat.core.errors import ParameterError

    log = tmp_path / "calls.txt"
    arrived = []
    with pytest.raises(ParameterError) as info:
        run_points(functools.partial(_refuse_three, log=str(log)), [1, 3, 5], cluster=cluster, retries=2,
                   on_result=lambda i, r: arrived.append(r))
    assert info.value.parameter == "ramp" and info.value.value == "bogus" and "\n" not in str(info.value)
    assert 3 not in arrived
    assert log.read_text().split().count("3") == 1  # a retried refusal would run 3 times
    with pytest.raises(ParameterError, match="ramp"):  # serially the same error
        run_points(_refuse_three, [1, 3, 5])


def test_a_killed_worker_does_not_lose_the_scan(cluster):
    from distributed import Client

    with Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
    killed = []

    def on_result(i, result):
        if not killed:  # kill one worker as soon as the first point is back
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    results = run_points(_slow_square, list(range(8)), cluster=cluster, on_result=on_result, retries=3)
    assert killed and results == [x * x for x in range(8)]


def test_finished_points_are_never_recomputed(tmp_path):
    log = ResultLog(tmp_path / "points.jsonl")
    points = [{"x": i} for i in range(5)]
    calls = []

    def fn(p):
        calls.append(p["x"])
        return {"y": p["x"] ** 2}

    run_points(fn, points[:3], on_result=lambda i, r: log.append(i, points[i], r))
    finished = log.load(points)
    assert sorted(finished) == [0, 1, 2]
    calls.clear()
    results = run_points(fn, points, skip=sorted(finished), on_result=lambda i, r: log.append(i, points[i], r))
    assert calls == [3, 4] and results[3] == {"y": 9}
    assert sorted(log.load(points)) == [0, 1, 2, 3, 4]


def test_seeds_are_independent_and_reproducible():
    a, b = spawn_seeds(7, 4), spawn_seeds(7, 4)
    assert a == b and len(set(a)) == 4 and spawn_seeds(8, 4) != a


def test_slurm_job_script_is_generated_without_slurm():
    cluster = batch_cluster("slurm", {"queue": "short", "account": "lattice", "walltime": "01:00:00",
                                      "interface": "lo"})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in script and "#SBATCH -A lattice" in script and "#SBATCH -t 01:00:00" in script
    assert "export OMP_NUM_THREADS=1" in script and "dask" in script


"""Independent points of a study (θ, N, a, β …) as Dask tasks: local, on a scheduler, or on a batch system.

:func:`run_points` maps a function over points and returns the results in point order:

- serially in this process (``workers=None``), or
- on a ``distributed.LocalCluster`` of ``workers`` processes (one thread each, BLAS/OpenMP/torch
  threads pinned to 1 per worker through the worker environment), or
- on an existing scheduler (``scheduler="tcp://host:8786"``), or
- on a batch system through ``dask-jobqueue`` (``cluster="slurm"|"pbs"`` with a JSON config of the
  cluster's keyword arguments; :func:`batch_cluster` builds it, and its ``job_script()`` can be
  inspected without the batch system).

Each task carries its own point and its index; the submissions are ``pure=False`` so that two
identical points are never merged into one (Dask deduplicates identical keys otherwise), and any
per-point seed is part of the point (:func:`spawn_seeds` derives them with
``numpy.random.SeedSequence.spawn``).  A task lost with its worker is retried (``retries``);
results are handed to ``on_result(index, result)`` as they arrive, so a caller that writes them
out never recomputes a finished point after a crash (:class:`ResultLog`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError, require, require_int

#: Environment of every worker: one BLAS/OpenMP thread (the parallelism is across points).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "QLAT_TORCH_THREADS": "1"}

CLUSTERS = ("slurm", "pbs")


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 63-bit seeds from one user seed (``SeedSequence(seed).spawn(n)``)."""
    import numpy as np

    require_int(seed, "seed", minimum=0)
    return [int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for s in np.random.SeedSequence(seed).spawn(n)]


def batch_cluster(kind: str, config: dict[str, Any]) -> Any:
    """A ``dask_jobqueue`` cluster (``SLURMCluster`` / ``PBSCluster``) from its keyword arguments."""
    require(kind in CLUSTERS, "cluster", f"must be one of {', '.join(CLUSTERS)}", kind)
    import dask_jobqueue

    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]
    env = [f"export {k}={v}" for k, v in WORKER_ENV.items()]
    kwargs = {"cores": 1, "memory": "4GB", "processes": 1, **config}
    kwargs["job_script_prologue"] = list(kwargs.get("job_script_prologue", [])) + env
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ParameterError("cluster_config", f"not accepted by {cls.__name__}: {exc}") from None


def load_cluster_config(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object of keyword arguments for :func:`batch_cluster`."""
    p = Path(path)
    require(p.is_file(), "cluster_config", "no such file", str(p))
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ParameterError("cluster_config", f"not a JSON file ({exc})", str(p)) from None
    require(isinstance(data, dict), "cluster_config", "must hold a JSON object of cluster keyword arguments", str(p))
    return data


def _pinned(fn: Callable[[Any], Any], point: Any) -> Any:
    """Run ``fn(point)`` with torch pinned to the worker's one thread."""
    threads = os.environ.get("QLAT_TORCH_THREADS")
    if threads:
        try:
            import torch

            torch.set_num_threads(int(threads))
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
    return fn(point)


def run_points(
    fn: Callable[[Any], Any],
    points: Sequence[Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: Any = None,
    retries: int = 2,
    on_result: Callable[[int, Any], None] | None = None,
    skip: Sequence[int] = (),
) -> list[Any]:
    """``[fn(p) for p in points]``, serially or as Dask tasks (see the module docstring).

    ``skip``: indices already done (their entry in the returned list is ``None``);
    ``on_result(i, r)`` is called once per finished point, in completion order.
    """
    points = list(points)
    done = set(int(i) for i in skip)
    todo = [i for i in range(len(points)) if i not in done]
    results: list[Any] = [None] * len(points)
    if workers is None and scheduler is None and cluster is None:
        for i in todo:
            results[i] = fn(points[i])
            if on_result is not None:
                on_result(i, results[i])
        return results
    import logging

    from distributed import Client, LocalCluster, as_completed

    for name in ("distributed", "distributed.nanny", "distributed.worker", "distributed.scheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)  # a killed worker is retried: no log noise
    own = None
    if cluster is not None:
        client = Client(cluster)
    elif scheduler is not None:
        client = Client(scheduler, timeout="10s")
    else:
        n_workers = require_int(workers, "workers", minimum=1)
        own = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           env=WORKER_ENV)
        client = Client(own)
    try:
        futures = {client.submit(_pinned, fn, points[i], pure=False, retries=retries): i for i in todo}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if on_result is not None:
                on_result(i, results[i])
    finally:
        client.close()
        if own is not None:
            own.close()
    return results


class ResultLog:
    """Results appended as they arrive to a hash-chained JSON-lines log; a rerun skips the finished points.

    Each entry is ``{"index": i, "point": …, "result": …}``, one line of a
    :class:`~qlat.core.hashlog.HashChainLog` (an edited or damaged line is refused, a line cut by a
    crash is recomputed).  An entry whose point differs from the point at that index now (another
    study in the same file) is refused; every refusal is a :class:`ParameterError` naming ``out``.
    """

    KIND = "qlat study points v1"

    def __init__(self, path: str | os.PathLike) -> None:
        from qlat.core.hashlog import HashChainLog

        self.path = Path(path)
        self._log = HashChainLog(self.path, kind=self.KIND)

    def load(self, points: Sequence[Any]) -> dict[int, Any]:
        """Finished ``{index: result}`` for these points (empty if there is no log yet)."""
        from qlat.core.errors import CorruptFileError
        from qlat.core.jsonio import jsonable

        try:
            entries = self._log.load()
        except CorruptFileError as exc:
            raise ParameterError("out", str(exc), str(self.path.parent)) from None
        found: dict[int, Any] = {}
        wanted = jsonable(list(points))
        for n, entry in enumerate(entries, 1):
            ok = isinstance(entry, dict) and {"index", "point", "result"} <= set(entry)
            i = entry.get("index") if ok else None
            if not ok or not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(points):
                raise ParameterError("out", f"{self.path} entry {n} is not a point of this study; use another "
                                     "folder", str(self.path.parent))
            if entry["point"] != wanted[i]:
                raise ParameterError("out", f"{self.path} entry {n} belongs to another study; use another folder",
                                     str(self.path.parent))
            found[i] = entry["result"]
        return found

    def append(self, index: int, point: Any, result: Any) -> None:
        self._log.append({"index": int(index), "point": point, "result": result})

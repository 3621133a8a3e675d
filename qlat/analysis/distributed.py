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

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat.core.errors import ParameterError, QlatError, require, require_int
from qlat.core.schema import ANY, Obj, Where, check, load_json

#: Environment of every worker: one BLAS/OpenMP thread (the parallelism is across points).
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "QLAT_TORCH_THREADS": "1"}

CLUSTERS = ("slurm", "pbs")


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 63-bit seeds from one user seed (``SeedSequence(seed).spawn(n)``)."""
    import numpy as np

    require_int(seed, "seed", minimum=0)
    return [int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for s in np.random.SeedSequence(seed).spawn(n)]


def _cluster_class(kind: str) -> Any:
    require(kind in CLUSTERS, "cluster", f"must be one of {', '.join(CLUSTERS)}", kind)
    import dask_jobqueue

    return {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}[kind]


def cluster_keywords(kind: str) -> set[str]:
    """The keyword arguments the ``kind`` cluster class (and its job class) accepts, by their signatures."""
    import inspect

    cls = _cluster_class(kind)
    names: set[str] = set()
    for klass in (*cls.__mro__, *cls.job_cls.__mro__):
        if "__init__" in vars(klass):
            params = inspect.signature(vars(klass)["__init__"]).parameters.values()
            names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names - {"self", "job_cls", "loop", "asynchronous"}


def require_batch_system(kind: str) -> None:
    """Refuse ``kind`` where its submit command (``sbatch`` / ``qsub``) is not installed: dask-jobqueue
    would otherwise fail in a background thread and the run would wait forever for its workers."""
    import shutil

    command = str(getattr(_cluster_class(kind).job_cls, "submit_command", "") or "").split(" ")[0]
    if command and shutil.which(command) is None:
        raise ParameterError("cluster", f"{kind} jobs are submitted with '{command}', which is not installed here "
                             "(not on PATH); run on the batch system's login node, or use --workers or --scheduler",
                             kind)


def batch_cluster(kind: str, config: dict[str, Any]) -> Any:
    """A ``dask_jobqueue`` cluster (``SLURMCluster`` / ``PBSCluster``) from its keyword arguments."""
    cls = _cluster_class(kind)
    env = [f"export {k}={v}" for k, v in WORKER_ENV.items()]
    kwargs = {"cores": 1, "memory": "4GB", "processes": 1, **config}
    kwargs["job_script_prologue"] = list(kwargs.get("job_script_prologue", [])) + env
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        text = " ".join(str(exc).split())
        raise ParameterError("cluster_config", f"not accepted by {cls.__name__}: {text[:300]}") from None


def load_cluster_config(path: str | os.PathLike, *, kind: str | None = None) -> dict[str, Any]:
    """The JSON object of keyword arguments for :func:`batch_cluster`, schema-checked.

    With ``kind`` every key must be a keyword of that cluster class (an unknown one is named with
    the file, not found later by dask-jobqueue); ``n_workers`` is a whole number >= 1.
    """
    fields: dict[str, Any] = {"n_workers?": Where(int, lambda v: 1 <= v <= 10_000, "an integer in [1, 10000]"),
                              "job_script_prologue?": [str]}
    if kind is None:
        spec: Any = Obj(fields)
    else:
        spec = Obj({**{f"{name}?": ANY for name in sorted(cluster_keywords(kind))}, **fields}, closed=True)
    return dict(load_json(path, spec, flag="cluster_config"))


@dataclass(frozen=True)
class _Refusal:
    """A :class:`~qlat.core.errors.QlatError` raised by a task, carried back as a value: a refusal is
    deterministic, so it is not retried, not logged by the worker, and re-raised here as one line."""

    message: str
    parameter: str | None = None
    requirement: str | None = None
    value: Any = None
    hint: str | None = None

    @classmethod
    def of(cls, exc: QlatError) -> _Refusal:
        if isinstance(exc, ParameterError):
            value = exc.value if isinstance(exc.value, (str, int, float, bool, type(None))) else repr(exc.value)
            return cls(str(exc), exc.parameter, exc.requirement, value, exc.hint)
        return cls(str(exc))

    def error(self) -> QlatError:
        if self.parameter is not None and self.requirement is not None:
            return ParameterError(self.parameter, self.requirement, self.value, hint=self.hint)
        return QlatError(self.message)


def _pinned(fn: Callable[[Any], Any], point: Any) -> Any:
    """Run ``fn(point)`` with torch pinned to the worker's one thread; a QlatError comes back as a value."""
    threads = os.environ.get("QLAT_TORCH_THREADS")
    if threads:
        try:
            import torch

            torch.set_num_threads(int(threads))
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
    try:
        return fn(point)
    except QlatError as exc:
        return _Refusal.of(exc)


def _probe(scheduler: str) -> None:
    """A plain TCP connection to a ``tcp://``/``tls://`` scheduler address: a refused or unresolvable
    one is a :class:`ParameterError` at once (Dask itself retries until its 10 s timeout)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler)
    if parts.scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise ParameterError("scheduler", "must be an address with host and port, e.g. tcp://host:8786", scheduler)
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise ParameterError("scheduler", f"cannot connect to the Dask scheduler ({exc.strerror or exc})",
                             scheduler) from None


@contextmanager
def dask_client(*, workers: int | None = None, scheduler: str | None = None, cluster: Any = None,
                cluster_workers: int | None = None) -> Iterator[Any]:
    """The Dask client :func:`run_points` submits to (``None`` when all three are ``None``: serial).

    Opened before a caller writes anything, so an unreachable scheduler is a
    :class:`ParameterError` naming ``scheduler``, not a traceback after the output folder exists.
    ``cluster``: a cluster object (e.g. :func:`batch_cluster`), scaled to ``cluster_workers`` if given.
    """
    if workers is None and scheduler is None and cluster is None:
        yield None
        return
    import logging

    from distributed import Client, LocalCluster

    for name in ("distributed", "distributed.nanny", "distributed.worker", "distributed.scheduler",
                 "distributed.core", "distributed.comm"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # a killed worker is retried: no log noise
    own = None
    if cluster is not None:
        if cluster_workers is not None:
            cluster.scale(int(cluster_workers))
        client = Client(cluster)
    elif scheduler is not None:
        _probe(scheduler)
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            text = " ".join(str(exc).split())
            raise ParameterError("scheduler", f"cannot connect to the Dask scheduler ({text})", scheduler) from None
    else:
        n_workers = require_int(workers, "workers", minimum=1)
        own = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           env=WORKER_ENV, silence_logs=logging.CRITICAL)
        client = Client(own)
    try:
        yield client
    finally:
        client.close()
        if own is not None:
            own.close()


def check_distribution(*, workers: int | None = None, scheduler: str | None = None, cluster: str | None = None,
                       cluster_config: str | os.PathLike | None = None,
                       names: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """Check where points will run before any work (nothing is started): at most one of ``workers``
    (1–256 local processes), ``scheduler`` (an address) and ``cluster`` (a batch system, with its JSON
    ``cluster_config``).  Returns the batch cluster's ``{"kind", "config"}`` or None; errors name the
    parameter as ``names`` shows it (e.g. the command-line flags)."""

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    chosen = [name(key) for key, v in (("workers", workers), ("scheduler", scheduler), ("cluster", cluster))
              if v is not None]
    require(len(chosen) <= 1, chosen[-1] if chosen else name("workers"),
            f"choose one of {name('workers')}, {name('scheduler')}, {name('cluster')}")
    if workers is not None:
        require(1 <= workers <= 256, name("workers"), "must be an integer in [1, 256]", workers)
    if scheduler is not None:
        require(scheduler.startswith(("tcp://", "tls://", "inproc://")), name("scheduler"),
                "must be a scheduler address such as tcp://host:8786", scheduler)
    if cluster_config is not None:
        require(cluster is not None, name("cluster_config"), f"needs {name('cluster')} slurm|pbs")
    if cluster is None:
        return None
    require(cluster in CLUSTERS, name("cluster"), f"must be one of {', '.join(CLUSTERS)}", cluster)
    config = load_cluster_config(cluster_config, kind=cluster) if cluster_config is not None else {}
    require_batch_system(cluster)
    return {"kind": cluster, "config": config}


@contextmanager
def distribution_client(*, workers: int | None = None, scheduler: str | None = None,
                        cluster: dict[str, Any] | None = None) -> Iterator[Any]:
    """The Dask client for :func:`run_points` (None: serial) from :func:`check_distribution`'s choice: local
    ``workers``, a ``scheduler``, or the batch ``cluster`` (scaled to its config's ``n_workers``, default 2)."""
    if cluster is None:
        with dask_client(workers=workers, scheduler=scheduler) as client:
            yield client
        return
    config = dict(cluster["config"])
    n_workers = int(config.pop("n_workers", 2))
    batch = batch_cluster(cluster["kind"], config)
    try:
        with dask_client(cluster=batch, cluster_workers=n_workers) as client:
            yield client
    finally:
        batch.close()


def run_points(
    fn: Callable[[Any], Any],
    points: Sequence[Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: Any = None,
    client: Any = None,
    retries: int = 2,
    on_result: Callable[[int, Any], None] | None = None,
    skip: Sequence[int] = (),
) -> list[Any]:
    """``[fn(p) for p in points]``, serially or as Dask tasks (see the module docstring).

    ``client``: an open Dask client (:func:`dask_client`); else one is opened from
    ``workers``/``scheduler``/``cluster`` for this call (none of them: serial in this process).
    ``skip``: indices already done (their entry in the returned list is ``None``);
    ``on_result(i, r)`` is called once per finished point, in completion order.  A
    :class:`~qlat.core.errors.QlatError` of a task is raised here (the other tasks are cancelled).
    """
    points = list(points)
    done = set(int(i) for i in skip)
    todo = [i for i in range(len(points)) if i not in done]
    results: list[Any] = [None] * len(points)
    if client is None and workers is None and scheduler is None and cluster is None:
        for i in todo:
            results[i] = fn(points[i])
            if on_result is not None:
                on_result(i, results[i])
        return results
    if client is None:
        with dask_client(workers=workers, scheduler=scheduler, cluster=cluster) as own:
            return run_points(fn, points, client=own, retries=retries, on_result=on_result, skip=skip)
    from distributed import as_completed

    futures = {client.submit(_pinned, fn, points[i], pure=False, retries=retries): i for i in todo}
    for future in as_completed(futures):
        i = futures[future]
        result = future.result()
        if isinstance(result, _Refusal):
            client.cancel(list(futures))
            raise result.error()
        results[i] = result
        if on_result is not None:
            on_result(i, result)
    return results


class ResultLog:
    """Results appended as they arrive to a hash-chained JSON-lines log; a rerun skips the finished points.

    Each entry is ``{"index": i, "point": …, "result": …}``, one line of a
    :class:`~qlat.core.hashlog.HashChainLog` (an edited or damaged line is refused, a line cut by a
    crash is recomputed), checked against :mod:`qlat.core.schema` (``result`` against
    ``result_spec``).  An entry whose point differs from the point at that index now (another
    study in the same file) is refused; every refusal is a :class:`ParameterError` naming ``out``.
    """

    KIND = "qlat study points v1"

    def __init__(self, path: str | os.PathLike, *, result_spec: Any = ANY) -> None:
        from qlat.core.hashlog import HashChainLog

        self.path = Path(path)
        self.result_spec = result_spec
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
        spec = {"index": Where(int, lambda i: 0 <= i < len(wanted), f"a point index in [0, {len(wanted) - 1}] (a "
                               "point of this study)"), "point": ANY, "result": self.result_spec}
        for n, entry in enumerate(entries, 1):
            entry = check(entry, spec, file=self.path, flag="out", where=f"entry {n}")
            i = entry["index"]
            if entry["point"] != wanted[i]:
                raise ParameterError("out", f"{self.path} entry {n} belongs to another study",
                                     str(self.path.parent), hint="use a new folder, or the same study to resume")
            found[i] = entry["result"]
        return found

    def append(self, index: int, point: Any, result: Any) -> None:
        self._log.append({"index": int(index), "point": point, "result": result})

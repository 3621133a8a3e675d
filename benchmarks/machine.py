"""Describe the machine a benchmark ran on, for the results files.

``describe_machine()`` returns a JSON-ready dict: CPU model, logical cores (total and usable by
this process), memory, load average at the time of the run, OS, Python, and the versions of the
numerical libraries the benchmarks exercise.  Benchmarks store it next to their numbers so a
ratio can be read with the machine it was measured on (docs/architecture.md: "performance claims ... with
the machine recorded").
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from importlib import metadata
from typing import Any

PACKAGES: tuple[str, ...] = ("qlat", "numpy", "scipy", "qiskit", "qiskit-aer", "qiskit-ibm-runtime")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str | None:
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - numpy's config layout is informative only
        return None


def describe_machine() -> dict[str, Any]:
    """The machine and software a benchmark runs on, as a JSON-ready dict."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        load = list(os.getloadavg())
    except OSError:
        load = None
    mem = _memory_bytes()
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": None if mem is None else round(mem / 2**30, 2),
        "load_average_1_5_15": load,
        "os": platform.platform(),
        "python": platform.python_version(),
        "blas": _blas(),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                       if k in os.environ},
        "packages": {p: _version(p) for p in PACKAGES},
        "date_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(describe_machine(), indent=2))


def write_results(path: "os.PathLike[str] | str", record: dict[str, Any]) -> None:
    """Write a benchmark's JSON record (with its machine description) and say where."""
    import json
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")

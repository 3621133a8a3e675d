"""Running chains into an ensemble: resume checks, chunked runs that survive interrupts.

:func:`run_into` continues the chains stored in an ensemble (a :class:`~qlat.core.ensemble.Ensemble`
file, or anything with the same ``append``/``n_samples``/``chains``/``seed``/``state_arrays``)
chunk by chunk; after each chunk the samples and the chain state are appended, with SIGINT and
SIGTERM deferred while a chunk is written, so an interrupted run keeps every finished chunk and
resumes bit for bit (the chain of an uninterrupted run).  :func:`check_resumable` names the first
parameter that differs from a stored run.  ``qlat sample`` and :func:`qlat.sample` share both.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from qlat.core.errors import ParameterError


def _first_difference(stored: Mapping[str, Any], wanted: Mapping[str, Any], prefix: str = "") -> str | None:
    for key in sorted(set(stored) | set(wanted)):
        a, b = stored.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            found = _first_difference(a, b, f"{prefix}{key}.")
            if found:
                return found
        elif (list(a) if isinstance(a, tuple) else a) != (list(b) if isinstance(b, tuple) else b):
            return f"{prefix}{key}"
    return None


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    found: Any = data
    for part in key.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def check_resumable(ensemble: Any, *, theory: Any, sampler: Any, chains: int, seed: int, start: str,
                    names: Mapping[str, str] | None = None) -> None:
    """Raise :class:`ParameterError` naming the first parameter that differs from the stored run.

    The parameter is named by its key (``seed``, ``theory.beta``, ``sampler.n_steps`` …) or by
    ``names[key]`` when given (the command line passes its flags).
    """
    prov = ensemble.provenance
    stored = {"theory": prov.get("theory"), "sampler": prov.get("sampler"), "seed": prov.get("seed"),
              "chains": prov.get("chains"), "start": prov.get("start")}
    wanted = {"theory": theory.params(), "sampler": sampler.params(), "seed": seed, "chains": chains,
              "start": start}
    key = _first_difference(stored, wanted)
    if key is not None:
        raise ParameterError(
            (names or {}).get(key, key), f"differs from the run stored in {ensemble.path} ({key} = "
            f"{_lookup(stored, key)!r})", _lookup(wanted, key),
            hint="use the same parameters to resume it, or a new file")


class Interrupts:
    """SIGINT/SIGTERM → KeyboardInterrupt, deferred while a chunk is being written."""

    def __init__(self) -> None:
        self.critical = False
        self.pending = False

    def handler(self, signum: int, frame: Any) -> None:
        if self.critical:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator["Interrupts"]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        old = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        self.critical = True
        try:
            yield
        finally:
            self.critical = False
        if self.pending:
            raise KeyboardInterrupt


def run_into(ensemble: Any, *, theory: Any, sampler: Any, n: int, chunk: int, start: str,
             progress: bool) -> None:
    """Continue the chains stored in ``ensemble`` until it holds ``n`` samples, chunk by chunk.

    ``progress`` draws a bar on stderr only when stderr is a terminal.
    """
    from qlat.samplers.stored import stored_state

    state = stored_state(ensemble)
    if state is None:
        state = sampler.init_state(theory, chains=ensemble.chains, seed=ensemble.seed, start=start)
    todo = n - ensemble.n_samples
    if todo <= 0:
        return
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=n, initial=ensemble.n_samples, desc=f"{sampler.name} {theory.name}", unit="sample",
                   file=sys.stderr, leave=False)
    interrupts = Interrupts()
    try:
        with interrupts.installed():
            while ensemble.n_samples < n:
                m = min(chunk, n - ensemble.n_samples)
                batch, state = sampler.run(theory, m, state=state)
                with interrupts.deferred():
                    ensemble.append(batch, state)
                if bar is not None:
                    bar.update(m)
    finally:
        if bar is not None:
            bar.close()

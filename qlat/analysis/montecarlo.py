r"""Monte Carlo from Python without files: :func:`sample` returns an ensemble in memory.

.. code-block:: python

    import qlat
    from qlat.theories.u1 import U1Theory

    ens = qlat.sample(U1Theory.from_options(L=8, ndim=2, beta=2.0), "heatbath", n=1000, chains=8, seed=17)
    ens.estimate(["plaquette", "chi_t"])      # {name: Estimate}, Γ-method errors (hep-lat/0306017)
    print(ens.table())                        # next to the exact values where a registered exact backend has them
    ens.save("u1.h5")                         # the same HDF5 file `qlat sample --out` writes

The sampler is built with the **command line's defaults** (``qlat sample``: e.g. 100
thermalization updates), from its registered name and keyword options.  The seed is drawn at
random when none is given, and recorded (``ens.seed``).  With ``path=`` the chains run into that
HDF5 file chunk by chunk — interrupt and call again with the same arguments to resume bit for
bit (:mod:`qlat.samplers.chains`).  Two estimates of one ensemble keep their correlation in
arithmetic (:attr:`~qlat.core.estimate.Estimate.history`).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError, require, require_int
from qlat.core.estimate import Estimate

#: Refuse an in-memory ensemble larger than this (bytes of float64 configurations); use ``path=``.
MAX_IN_MEMORY_BYTES = 8 * 2**30


#: Largest chunk of configurations held in memory at once (bytes), chains × chunk × field size.
MAX_CHUNK_BYTES = 4 * 2**30
#: Field-sized arrays per chain a sampler works with besides the chunk it holds (fields, momenta,
#: forces, the proposal, staples/plaquettes): the working memory of the update, roughly.
WORKING_FIELDS = 10


def require_sampling_memory(field_shape: Sequence[int], *, chains: int, chunk: int, n: int,
                            where: str | os.PathLike | None = None, parameter: str = "field_shape/chains/chunk",
                            n_parameter: str = "n") -> None:
    """Refuse, before any chain runs, a sampling run the machine cannot hold (8-byte fields).

    A chunk of chains × min(chunk, n) configurations must stay under :data:`MAX_CHUNK_BYTES` and, with
    :data:`WORKING_FIELDS` field-sized working arrays per chain, under the available memory
    (:func:`qlat.core.resources.require_memory`); the whole ensemble, chains × n configurations, must fit on
    the disk at ``where`` (when it is a folder).  Errors name ``parameter`` (sizes) and ``n_parameter`` (disk).
    """
    import shutil

    from qlat.core.resources import require_memory

    field = 1.0
    for extent in field_shape:
        field *= float(extent)
    chunk_bytes = 8.0 * field * chains * min(chunk, n)
    require(chunk_bytes <= MAX_CHUNK_BYTES, parameter,
            f"a chunk of configurations would take {chunk_bytes / 2**30:.3g} GiB of memory "
            f"(at most {MAX_CHUNK_BYTES / 2**30:.0f} GiB; lower --chunk, --chains or --L)")
    require_memory(chunk_bytes + 8.0 * field * chains * WORKING_FIELDS, parameter,
                   f"{chains} chains on {tuple(field_shape)} fields (a chunk of {min(chunk, n)} "
                   "configurations and the update's working arrays)")
    if where is not None and Path(where).is_dir():
        total = 8.0 * field * chains * n
        free = shutil.disk_usage(where).free
        require(total <= free, n_parameter, f"the ensemble would take {total / 2**30:.3g} GiB, more than the "
                f"{free / 2**30:.3g} GiB free in {where}", n)


def _sampler(sampler: Any, options: dict[str, Any]) -> Any:
    """A Sampler from a registered name (command-line defaults + ``options``) or the object itself."""
    from qlat.core.registry import SAMPLERS

    if not isinstance(sampler, str):
        require(not options, "sampler_options", "apply only when the sampler is given by name", sorted(options))
        return sampler
    cls: Any = SAMPLERS.get(sampler, parameter="sampler")
    declared = {o.dest: o for o in cls.OPTIONS}
    unknown = sorted(set(options) - set(declared))
    require(not unknown, "sampler_options", f"not options of sampler '{sampler}' (it has: "
            f"{', '.join(sorted(declared))})", unknown)
    params = {dest: o.default for dest, o in declared.items() if o.default is not None}
    params.update(options)
    return cls.from_params({"name": sampler, **params})


def _draw_seed() -> int:
    import secrets

    return secrets.randbelow(2**31 - 1)


class MonteCarloEnsemble:
    """Configurations of ``chains`` Markov chains in memory (or read from the file they were run into).

    ``configurations`` has shape ``(n, chains, *field_shape)``; ``acceptance`` and ``delta_h``
    ``(n, chains)``; ``state`` continues the chains (:meth:`extend`).  The attributes mirror
    :class:`~qlat.core.ensemble.Ensemble`, so every analysis of a stored ensemble applies.
    """

    def __init__(self, *, theory: Any, sampler: Any, seed: int, start: str, configurations: np.ndarray,
                 acceptance: np.ndarray, delta_h: np.ndarray, state: Any, path: Path | None = None) -> None:
        self.theory = theory
        self.sampler = sampler
        self.seed = int(seed)
        self.start = start
        self.configurations = configurations
        self.acceptance = acceptance
        self.delta_h = delta_h
        self.state = state
        self.path = path
        self._checksum: str | None = None

    # --- the Ensemble interface ----------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.configurations.shape[0])

    @property
    def chains(self) -> int:
        return int(self.configurations.shape[1])

    @property
    def field_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.configurations.shape[2:])

    @property
    def theory_params(self) -> dict[str, Any]:
        return dict(self.theory.params())

    @property
    def sampler_params(self) -> dict[str, Any]:
        return dict(self.sampler.params())

    @property
    def provenance(self) -> dict[str, Any]:
        from qlat.core.provenance import provenance

        return provenance(theory=self.theory_params, sampler=self.sampler_params, seed=self.seed,
                          chains=self.chains, start=self.start, field_shape=list(self.field_shape))

    @property
    def checksum(self) -> str:
        """sha256 of the parameters and the configurations (what the file's checksum covers)."""
        if self._checksum is None:
            from qlat.core.jsonio import canonical

            h = hashlib.sha256(canonical({"theory": self.theory_params, "sampler": self.sampler_params,
                                          "seed": self.seed, "chains": self.chains}).encode())
            h.update(np.ascontiguousarray(self.configurations, dtype="<f8").tobytes())
            self._checksum = h.hexdigest()
        return self._checksum

    # --- analysis ------------------------------------------------------------------------------
    def estimate(self, observables: Sequence[str] | str | None = None, *, skip: int = 0,
                 S: float = 2.0) -> dict[str, Estimate]:
        """Γ-method estimates (:func:`qlat.analysis.statistics.ensemble_estimates`); default: the
        theory's default observables and the acceptance."""
        from qlat.analysis.statistics import ensemble_estimates

        names = ([observables] if isinstance(observables, str) else list(observables) if observables is not None
                 else list(self.theory.default_observables()) + ["acceptance"])
        return ensemble_estimates(self, names, skip=skip, S=S)

    def table(self, observables: Sequence[str] | None = None, *, skip: int = 0) -> str:
        """Estimates next to the exact values (a registered exact backend), with z-scores."""
        from qlat.analysis.tables import format_table, params_text

        estimates = self.estimate(observables, skip=skip)
        exact = exact_references(self.theory, [n for n in estimates if n != "acceptance"])
        rows = []
        for name, est in estimates.items():
            ref = exact.get(name)
            tau = "-" if est.tau_int is None else f"{est.tau_int:.2f}"
            rows.append([name, est, tau, est.n_samples if est.n_samples is not None else "-",
                         "-" if ref is None else f"{ref.value:.6g}",
                         "-" if ref is None or est.total_error == 0 else f"{est.z_score(ref):+.2f}"])
        head = (f"{self.theory.name} ({params_text(self.theory_params)}), {self.sampler.name}, {self.chains} chains × "
                f"{self.n_samples} samples (skip {skip}), seed {self.seed}")
        return head + "\n" + format_table(["observable", "value(error)", "tau_int", "samples", "exact", "z"], rows)

    def to_dataframe(self, observables: Sequence[str] | None = None, *, skip: int = 0) -> Any:
        """The estimates as a pandas DataFrame (value, error, systematic, unit, backend, τ_int …)."""
        from qlat.analysis.tables import estimate_record, records_to_dataframe

        return records_to_dataframe([{"observable": name, **estimate_record(est)}
                                     for name, est in self.estimate(observables, skip=skip).items()])

    # --- running and saving --------------------------------------------------------------------
    def extend(self, n: int, *, progress: bool = False, chunk: int = 50) -> "MonteCarloEnsemble":
        """``n`` more samples per chain on the same chains (bit for bit one longer run)."""
        n = require_int(n, "n", minimum=1)
        if self.path is not None:
            return sample(self.theory, self.sampler, n=self.n_samples + n, chains=self.chains, seed=self.seed,
                          start=self.start, path=self.path, progress=progress, chunk=chunk)
        more = _run_in_memory(self.theory, self.sampler, n=n, state=self.state, progress=progress, chunk=chunk)
        return MonteCarloEnsemble(
            theory=self.theory, sampler=self.sampler, seed=self.seed, start=self.start,
            configurations=np.concatenate([self.configurations, more["configurations"]]),
            acceptance=np.concatenate([self.acceptance, more["acceptance"]]),
            delta_h=np.concatenate([self.delta_h, more["delta_h"]]), state=more["state"])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the ensemble to a new HDF5 file (the format of ``qlat sample --out``; refused if it exists)."""
        from qlat.core.ensemble import Ensemble
        from qlat.samplers.base import SampleBatch

        path = Path(path)
        import torch

        batch = SampleBatch(configurations=torch.from_numpy(np.ascontiguousarray(self.configurations)),
                            accepted=self.acceptance, delta_h=self.delta_h)
        with Ensemble.create(path, theory=self.theory, sampler=self.sampler, chains=self.chains, seed=self.seed,
                             provenance={"start": self.start, "written_by": "qlat.sample"}) as ens:
            ens.append(batch, self.state)
        return path

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return (f"MonteCarloEnsemble({self.theory.name}, {self.sampler.name}, chains={self.chains}, "
                f"n={self.n_samples}, seed={self.seed}{where})")


def exact_references(theory: Any, names: Sequence[str]) -> dict[str, Estimate]:
    """Exact values of ``names`` on ``theory`` from the first registered exact backend that has them.

    Looks through the registered backends whose Estimates are labelled ``"exact"`` (``u1-exact``,
    ``free-scalar`` …) and that accept the theory; observables they do not know are left out.
    """
    from qlat.core.backend import get_backend
    from qlat.core.registry import BACKENDS

    for name in BACKENDS.names():
        try:
            backend = get_backend(name)
            if getattr(backend, "label", "") != "exact" or not backend.supports(theory):
                continue
            known = [n for n in names if n in backend.observables(theory)]
            return backend.estimate(theory, known) if known else {}
        except Exception:  # noqa: BLE001 — a reference that cannot answer is simply not shown
            continue
    return {}


def _run_in_memory(theory: Any, sampler: Any, *, n: int, state: Any, progress: bool, chunk: int) -> dict[str, Any]:
    import sys

    parts: list[Any] = []
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=n, desc=f"{sampler.name} {theory.name}", unit="sample", file=sys.stderr, leave=False)
    done = 0
    try:
        while done < n:
            m = min(chunk, n - done)
            batch, state = sampler.run(theory, m, state=state)
            parts.append(batch)
            done += m
            if bar is not None:
                bar.update(m)
    finally:
        if bar is not None:
            bar.close()
    return {"configurations": np.concatenate([b.configurations.detach().cpu().numpy() for b in parts]),
            "acceptance": np.concatenate([np.asarray(b.accepted, dtype=float) for b in parts]),
            "delta_h": np.concatenate([np.asarray(b.delta_h, dtype=float) for b in parts]), "state": state}


@dataclass(frozen=True)
class ChainRequest:
    """A registered theory and a sampler that can sample it, checked (:func:`chain_request`): what
    ``qlat sample`` runs into its ensemble file."""

    theory: Any
    sampler: Any

    def run_into(self, ensemble: Any, *, n: int, chunk: int, start: str, progress: bool = False) -> None:
        """Continue the chains stored in ``ensemble`` (:class:`~qlat.core.ensemble.Ensemble`, opened for appending)
        until it holds ``n`` samples per chain, ``chunk`` at a time, each chunk and the chain state appended before
        the next (:func:`qlat.samplers.chains.run_into`: a resumed run continues bit for bit the chain of an
        uninterrupted one; Ctrl-C or SIGTERM raise KeyboardInterrupt with every finished chunk kept)."""
        from qlat.samplers.chains import run_into

        run_into(ensemble, theory=self.theory, sampler=self.sampler, n=n, chunk=chunk, start=start,
                 progress=progress)


def chain_request(theory: str, sampler: str, *, L: int, ndim: int, theory_options: Mapping[str, Any] | None = None,
                  sampler_options: Mapping[str, Any] | None = None,
                  names: Mapping[str, str] | None = None) -> ChainRequest:
    """The registered ``theory`` on an L^ndim lattice (``from_options(L=, ndim=, **theory_options)``) and the
    registered ``sampler`` (``from_params``), refused when the sampler cannot sample the theory: the reason is the
    one its own start gives (e.g. pf-hmc: two Wilson flavours), unless that names an option of either (then that
    error, naming the option).  ``names`` shows ``theory`` and ``sampler`` as the caller calls them."""
    from qlat.core.registry import SAMPLERS, THEORIES

    name = (lambda key: (names or {}).get(key, key))
    theory_cls: Any = THEORIES.get(theory, parameter=name("theory"))
    sampler_cls: Any = SAMPLERS.get(sampler, parameter=name("sampler"))
    built = theory_cls.from_options(L=L, ndim=ndim, **dict(theory_options or {}))
    chain_sampler = sampler_cls.from_params({"name": sampler, **dict(sampler_options or {})})
    if not chain_sampler.supports(built):
        # the sampler's own start says why (e.g. pf-hmc: "two Wilson flavours, --nf 2"); one chain, cold
        own = {"L", "shape", "chains", "seed", "n", "path"} | {o.dest for o in (*theory_cls.OPTIONS,
                                                                                *sampler_cls.OPTIONS)}
        why = ""
        try:
            chain_sampler.init_state(built, chains=1, seed=0, start="cold")
        except ParameterError as exc:
            if exc.parameter in own:
                raise  # names an option of the theory or sampler: reported with its flag
            why = f": {exc.requirement}"
        raise ParameterError(name("sampler"), f"{sampler} cannot sample theory {built.name}{why}", sampler,
                             hint=f"'qlat sample {built.name} --help' lists the samplers of {built.name}")
    return ChainRequest(theory=built, sampler=chain_sampler)


def sample(theory: Any, sampler: Any = "hmc", *, n: int, chains: int = 4, seed: int | None = None,
           start: str = "hot", path: str | os.PathLike[str] | None = None, progress: bool = False,
           chunk: int = 50, **sampler_options: Any) -> MonteCarloEnsemble:
    """Run ``chains`` Markov chains of ``theory`` for ``n`` samples each and return the ensemble.

    Parameters
    ----------
    theory: a Theory (``U1Theory.from_options(L=8, ndim=2, beta=2.0)`` …).
    sampler: a registered sampler name (``"hmc"``, ``"heatbath"``, ``"flow"`` …, built with the
        command line's defaults and ``sampler_options``) or a Sampler object.
    n, chains: samples per chain (>= 5, the Γ-method's minimum) and independent chains.
    seed: integer >= 0; ``None`` draws one (recorded as ``.seed``).
    start: ``"hot"`` or ``"cold"``.
    path: run into this HDF5 file (created, or resumed if it holds the same run) instead of memory.
    progress: a progress bar on stderr (only on a terminal).
    """
    from qlat.analysis.statistics import MIN_SAMPLES_PER_CHAIN

    require(hasattr(theory, "params") and hasattr(theory, "field_shape"), "theory", "must be a Theory object",
            type(theory).__name__)
    n = require_int(n, "n", minimum=MIN_SAMPLES_PER_CHAIN)
    chains = require_int(chains, "chains", minimum=1)
    chunk = require_int(chunk, "chunk", minimum=1)
    seed = _draw_seed() if seed is None else require_int(seed, "seed", minimum=0)
    require(start in ("hot", "cold"), "start", "must be 'hot' or 'cold'", start)
    chain_sampler = _sampler(sampler, dict(sampler_options))
    require(chain_sampler.supports(theory), "sampler", f"{chain_sampler.name} cannot sample theory {theory.name}",
            chain_sampler.name)
    size = 8.0 * n * chains * math.prod(int(s) for s in theory.field_shape)
    if path is None:
        require(size <= MAX_IN_MEMORY_BYTES, "n", f"the configurations would take {size / 2**30:.3g} GiB of memory "
                f"(at most {MAX_IN_MEMORY_BYTES / 2**30:.0f} GiB in memory: pass path= to run into a file)", n)
        state = chain_sampler.init_state(theory, chains=chains, seed=seed, start=start)
        run = _run_in_memory(theory, chain_sampler, n=n, state=state, progress=progress, chunk=chunk)
        return MonteCarloEnsemble(theory=theory, sampler=chain_sampler, seed=seed, start=start, **run)
    return _sample_into_file(theory, chain_sampler, n=n, chains=chains, seed=seed, start=start, path=Path(path),
                             progress=progress, chunk=chunk)


def _sample_into_file(theory: Any, sampler: Any, *, n: int, chains: int, seed: int, start: str, path: Path,
                      progress: bool, chunk: int) -> MonteCarloEnsemble:
    from qlat.core.ensemble import Ensemble
    from qlat.samplers.chains import check_resumable, run_into
    from qlat.samplers.stored import stored_state

    if path.exists():
        ensemble = Ensemble.open(path, mode="a")
        try:
            check_resumable(ensemble, theory=theory, sampler=sampler, chains=chains, seed=seed, start=start)
        except ParameterError:
            ensemble.close()
            raise
    else:
        require(path.parent.is_dir(), "path", "directory does not exist", str(path.parent))
        ensemble = Ensemble.create(path, theory=theory, sampler=sampler, chains=chains, seed=seed,
                                   provenance={"start": start, "written_by": "qlat.sample"})
    with ensemble:
        run_into(ensemble, theory=theory, sampler=sampler, n=n, chunk=chunk, start=start, progress=progress)
        return MonteCarloEnsemble(
            theory=theory, sampler=sampler, seed=seed, start=start,
            configurations=np.asarray(ensemble.configurations), acceptance=np.asarray(ensemble.acceptance),
            delta_h=np.asarray(ensemble.delta_h), state=stored_state(ensemble), path=path)

r"""Calibration of error bars: does an estimator's error cover the exact answer as often as it claims?

An error bar is *calibrated* (docs/architecture.md, "Calibration") when, over points whose exact
answer is known, the z-score

.. math::
    z = \frac{\hat O - O_\text{exact}}{\sqrt{\sigma_\text{stat}^2 + \sigma_\text{sys}^2 + \sigma_\text{ref}^2}}

satisfies |z| ≤ 2 about 95 % of the time (≥ 90 % required) **and** the total error is not many
times the real distance, median σ/|Δ| ≤ 5 (an error 100× too wide hides bugs as surely as one too
narrow invents them).  Points whose estimate carries a warning (:attr:`Estimate.warnings`: the
estimator itself says its bar cannot be trusted) are counted apart: the goal applies to the
unwarned points, and the fraction that warned is reported beside it.

The harness is estimator-agnostic.  Each family of estimators (adiabatic simulators, devices,
continuum extrapolations, Monte Carlo samplers …) lives in a module of this package and
registers *case generators* with :func:`calibration_case`:

.. code-block:: python

    @calibration_case("statevector", family="adiabatic", description="...")
    def statevector_cases(rng, size):           # size: "test" | "quick" | "full"
        for ...:
            yield CalibrationPoint(estimator="statevector", observable="energy", estimate=est,
                                   exact=e0, reference="ed", point={"N": 8, ...})

:func:`run_calibration` draws each generator with its own seeded stream
(``SeedSequence(seed).spawn``) and returns a :class:`CalibrationReport` (table, JSON, plot).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate

#: The calibration goal (docs/architecture.md): |z| <= 2 for at least this fraction of the
#: unwarned points ...
COVERAGE_GOAL = 0.90
#: ... and a median total error / real distance of at most this.
TIGHTNESS_GOAL = 5.0
#: Sizes of a calibration run: "test" (seconds per estimator, the fast suite), "quick"
#: (minutes, the default command) and "full" (the recorded run, `make calibrate`).
SIZES = ("test", "quick", "full")


@dataclass(frozen=True)
class CalibrationPoint:
    """One estimate of one observable at one parameter point, next to its exact answer.

    ``exact_error`` is the reference's own uncertainty (a DMRG truncation error, a quadrature
    tolerance); it enters the z-score in quadrature.  ``point`` holds the parameters that
    define the point (N, a, m, θ, T, dt, seed …), so a bad point can be rerun.
    """

    estimator: str
    observable: str
    estimate: Estimate
    exact: float
    reference: str
    point: Mapping[str, Any] = field(default_factory=dict)
    exact_error: float = 0.0

    @property
    def delta(self) -> float:
        """Signed distance to the exact answer."""
        return float(self.estimate.value - self.exact)

    @property
    def sigma(self) -> float:
        """Total error: statistical, systematic and the reference's own in quadrature."""
        return math.hypot(self.estimate.total_error, self.exact_error)

    @property
    def z(self) -> float:
        if self.sigma == 0.0:
            return 0.0 if self.delta == 0.0 else math.copysign(math.inf, self.delta)
        return self.delta / self.sigma

    @property
    def tightness(self) -> float:
        """σ/|Δ|: how many times wider the error bar is than the real distance (nan if both 0)."""
        if self.delta == 0.0:
            return math.nan if self.sigma == 0.0 else math.inf
        return self.sigma / abs(self.delta)

    @property
    def warned(self) -> bool:
        return bool(self.estimate.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {"estimator": self.estimator, "observable": self.observable, "value": self.estimate.value,
                "error": self.estimate.error, "systematic": self.estimate.systematic,
                "systematic_sources": dict(self.estimate.provenance.get("systematic_sources", {})),
                "exact": self.exact, "exact_error": self.exact_error, "reference": self.reference,
                "delta": self.delta, "z": self.z, "tightness": self.tightness, "warned": self.warned,
                "warnings": list(self.estimate.warnings), "point": dict(self.point)}


@dataclass(frozen=True)
class CaseGenerator:
    """A registered source of calibration points for one estimator."""

    estimator: str
    family: str
    description: str
    generate: Callable[[np.random.Generator, str], Iterable[CalibrationPoint]]
    #: Why the estimator may miss the goal (a documented limitation), shown with its summary.
    known_limitation: str = ""


CASES: dict[str, CaseGenerator] = {}


def calibration_case(estimator: str, *, family: str, description: str,
                     known_limitation: str = "") -> Callable[[Callable], Callable]:
    """Register ``fn(rng, size) -> iterable of CalibrationPoint`` as the cases of ``estimator``.

    Registering a name twice is an error (a silent replacement would hide a generator).
    """

    def decorate(fn: Callable) -> Callable:
        if estimator in CASES and CASES[estimator].generate is not fn:
            raise ParameterError("estimator", "already has registered calibration cases", estimator)
        CASES[estimator] = CaseGenerator(estimator, family, description, fn, known_limitation)
        return fn

    return decorate


def load_cases() -> dict[str, CaseGenerator]:
    """Import every case module of this package (each registers its generators) and return them.

    A new family of cases is one new module in ``qlat/analysis/calibration/``; nothing else lists it.
    """
    import importlib
    import pkgutil
    from pathlib import Path

    package = __name__.rsplit(".", 1)[0]
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name != "harness" and not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
    return dict(CASES)


def _fraction(values: Sequence[bool]) -> float | None:
    return float(np.mean(values)) if len(values) else None


@dataclass(frozen=True)
class EstimatorSummary:
    """Coverage and tightness of one estimator over its points (unwarned points only)."""

    estimator: str
    family: str
    n_points: int
    n_warned: int
    coverage: dict[int, float | None]   # k -> fraction with |z| <= k (unwarned)
    median_tightness: float | None
    coverage_goal_met: bool
    tightness_goal_met: bool
    known_limitation: str = ""
    seconds: float = 0.0

    @property
    def goal_met(self) -> bool:
        return self.coverage_goal_met and self.tightness_goal_met

    @classmethod
    def of(cls, generator: CaseGenerator, points: Sequence[CalibrationPoint], seconds: float) -> "EstimatorSummary":
        clean = [p for p in points if not p.warned]
        coverage = {k: _fraction([abs(p.z) <= k for p in clean]) for k in (1, 2, 3)}
        ratios = [p.tightness for p in clean if not math.isnan(p.tightness)]
        median = float(np.median(ratios)) if ratios else None
        cov_ok = coverage[2] is not None and coverage[2] >= COVERAGE_GOAL
        tight_ok = median is not None and median <= TIGHTNESS_GOAL
        return cls(generator.estimator, generator.family, len(points), len(points) - len(clean), coverage, median,
                   cov_ok, tight_ok, generator.known_limitation, seconds)

    def to_dict(self) -> dict[str, Any]:
        return {"estimator": self.estimator, "family": self.family, "n_points": self.n_points,
                "n_warned": self.n_warned, "coverage": {f"|z|<={k}": v for k, v in self.coverage.items()},
                "median_tightness": self.median_tightness, "coverage_goal_met": self.coverage_goal_met,
                "tightness_goal_met": self.tightness_goal_met, "goal_met": self.goal_met,
                "known_limitation": self.known_limitation or None, "seconds": self.seconds}


@dataclass(frozen=True)
class CalibrationReport:
    """Every point and the per-estimator summaries of one calibration run."""

    points: tuple[CalibrationPoint, ...]
    summaries: tuple[EstimatorSummary, ...]
    params: Mapping[str, Any]

    def summary(self, estimator: str) -> EstimatorSummary:
        for s in self.summaries:
            if s.estimator == estimator:
                return s
        raise ParameterError("estimator", "not in this report", estimator)

    def points_of(self, estimator: str) -> list[CalibrationPoint]:
        return [p for p in self.points if p.estimator == estimator]

    def table(self) -> str:
        """One line per estimator: points, warned, coverage at 1/2/3σ, median σ/|Δ|, goal."""
        from qlat.analysis.tables import format_table

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{100 * v:.0f}%"

        rows = []
        for s in self.summaries:
            goal = "met" if s.goal_met else ("MISSED" + (" (known)" if s.known_limitation else ""))
            rows.append([s.estimator, s.n_points, s.n_warned, pct(s.coverage[1]), pct(s.coverage[2]),
                         pct(s.coverage[3]), "-" if s.median_tightness is None else f"{s.median_tightness:.2f}", goal])
        text = format_table(["estimator", "points", "warned", "|z|<=1", "|z|<=2", "|z|<=3", "median σ/|Δ|", "goal"],
                            rows)
        notes = [f"{s.estimator}: {s.known_limitation}" for s in self.summaries if s.known_limitation]
        goal = (f"goal: |z| <= 2 for >= {COVERAGE_GOAL:.0%} of the unwarned points and median σ/|Δ| <= "
                f"{TIGHTNESS_GOAL:g} (68/95/99.7 % for a calibrated Gaussian bar)")
        return "\n".join([text, goal] + notes)

    def to_dict(self) -> dict[str, Any]:
        return {"goal": {"coverage_at_2_sigma": COVERAGE_GOAL, "median_tightness": TIGHTNESS_GOAL},
                "params": dict(self.params),
                "summaries": [s.to_dict() for s in self.summaries],
                "points": [p.to_dict() for p in self.points]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CalibrationReport":
        """A report back from :meth:`to_dict` (e.g. a recorded ``calibration.json``), to print
        its table or draw its plot again without rerunning the points."""
        points = []
        for d in data["points"]:
            prov: dict[str, Any] = {"warnings": list(d.get("warnings", []))}
            if d.get("systematic_sources"):
                prov["systematic_sources"] = dict(d["systematic_sources"])
            est = Estimate(float(d["value"]), float(d["error"]), systematic=float(d["systematic"]),
                           name=str(d["observable"]), provenance=prov)
            points.append(CalibrationPoint(estimator=str(d["estimator"]), observable=str(d["observable"]),
                                           estimate=est, exact=float(d["exact"]), reference=str(d["reference"]),
                                           point=dict(d.get("point", {})),
                                           exact_error=float(d.get("exact_error", 0.0))))
        summaries = []
        for d in data["summaries"]:
            coverage = {int(k.split("<=")[1]): v for k, v in d["coverage"].items()}
            summaries.append(EstimatorSummary(
                str(d["estimator"]), str(d["family"]), int(d["n_points"]), int(d["n_warned"]), coverage,
                d["median_tightness"], bool(d["coverage_goal_met"]), bool(d["tightness_goal_met"]),
                d.get("known_limitation") or "", float(d.get("seconds", 0.0))))
        return cls(tuple(points), tuple(summaries), dict(data.get("params", {})))

    def replaced(self, new: "CalibrationReport", *, order: Sequence[str] = ()) -> "CalibrationReport":
        """This report with every estimator of ``new`` re-recorded: its points and summary replaced by (or, if
        this report lacks it, added from) ``new``'s, every other estimator's kept as recorded.

        Both must be of one size and seed (:func:`check_update`; otherwise the kept and the new points come
        from other draws and the merged table means nothing).  Estimators appear in ``order`` (the
        registration order, :func:`load_cases`), those not in it after, in the order they had.  The merged
        ``params`` are this report's, with ``estimators`` the merged list and ``updates`` one entry per merge
        (the estimators re-recorded, when, by which qlat version).
        """
        check_update(self.params, size=new.params.get("size"), seed=new.params.get("seed"))
        fresh = {s.estimator for s in new.summaries}
        names = [s.estimator for s in self.summaries]
        names += [s.estimator for s in new.summaries if s.estimator not in names]
        rank = {name: i for i, name in enumerate(order)}
        was = {name: i for i, name in enumerate(names)}
        names.sort(key=lambda name: (rank.get(name, len(rank)), was[name]))
        summaries = tuple((new if name in fresh else self).summary(name) for name in names)
        points = tuple(p for name in names for p in (new if name in fresh else self).points_of(name))
        updates = [*self.params.get("updates", []),
                   {key: new.params.get(key) for key in ("estimators", "created_utc", "qlat_version")}]
        return CalibrationReport(points, summaries, {**self.params, "estimators": names, "updates": updates})

    def to_dataframe(self) -> Any:
        """Every point as a pandas DataFrame (estimator, observable, value, errors, exact, z, σ/|Δ|, warned)."""
        from qlat.analysis.tables import records_to_dataframe

        rows = []
        for p in self.points:
            d = p.to_dict()
            d.pop("systematic_sources")
            d["warnings"] = "; ".join(d["warnings"])
            d.update({f"point.{k}": v for k, v in d.pop("point").items()})
            rows.append(d)
        return records_to_dataframe(rows)

    def plot(self, path: str) -> None:
        """z histograms per estimator against the standard normal density, and σ/|Δ| per point."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = max(1, len(self.summaries))
        cols = min(4, n)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), squeeze=False)
        grid = np.linspace(-5, 5, 201)
        normal = np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi)
        for ax, s in zip(axes.flat, self.summaries):
            pts = self.points_of(s.estimator)
            clean = np.clip([p.z for p in pts if not p.warned], -5, 5)
            warned = np.clip([p.z for p in pts if p.warned], -5, 5)
            bins = np.linspace(-5, 5, 21)
            width = float(bins[1] - bins[0])
            # Counts, stacked (unwarned below, warned on top), so the two are on one scale; the
            # normal curve is what the unwarned points should follow: N_unwarned × bin width × φ(z).
            ax.hist([clean, warned], bins=bins, stacked=True, color=["C0", "C3"], alpha=0.75,
                    label=[f"unwarned ({clean.size})", f"warned ({warned.size})"])
            ax.plot(grid, clean.size * width * normal, "k-", lw=1, label="N(0, 1) × unwarned")
            ax.set_ylabel("points", fontsize=8)
            cov = s.coverage[2]
            title = s.estimator + ("" if cov is None else f"\n|z|≤2: {100 * cov:.0f}%, median σ/|Δ| "
                                   f"{s.median_tightness:.2g}" if s.median_tightness is not None else "")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("z = (value − exact)/σ_total (clipped at ±5)", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.legend(fontsize=7)
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        fig.tight_layout()
        import os
        import tempfile

        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".calibration.", suffix=".png")
        os.close(fd)
        try:  # appears complete or not at all
            fig.savefig(tmp, dpi=110)
            os.replace(tmp, path)
        finally:
            plt.close(fig)
            if os.path.exists(tmp):
                os.unlink(tmp)


#: The files of a recorded calibration run in its ``--out`` folder.
REPORT_FILE = "calibration.json"
PLOT_FILE = "calibration.png"


def check_update(recorded_params: Mapping[str, Any], *, size: Any, seed: Any) -> None:
    """Refuse (ParameterError naming ``update``) to merge a run of ``size``/``seed`` into a report recorded
    at another size or seed: its kept points would come from other draws than the new ones."""
    was = (recorded_params.get("size"), recorded_params.get("seed"))
    require(was == (size, seed), "update",
            f"the recorded report is --size {was[0]} --seed {was[1]}; this run is --size {size} --seed {seed} "
            "(re-record into a report of the same size and seed)", None)


def read_recorded(folder: Any) -> dict[str, Any]:
    """The recorded calibration payload ``folder/calibration.json`` (what :func:`record_calibration` wrote);
    ParameterError naming ``update`` if it is missing, unreadable, not a calibration report or damaged (a
    point or summary that :meth:`CalibrationReport.from_dict` cannot read back)."""
    import json
    from pathlib import Path

    path = Path(folder) / REPORT_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ParameterError("update", f"there is no {path} to update (run without --update first)",
                             str(folder)) from None
    except (OSError, ValueError) as exc:
        raise ParameterError("update", f"{path} is not readable JSON ({exc})", str(folder)) from None
    ok = (isinstance(data, dict) and isinstance(data.get("params"), dict) and isinstance(data.get("points"), list)
          and isinstance(data.get("summaries"), list))
    require(ok, "update", f"{path} is not a calibration report (no params, points and summaries)", str(folder))
    try:  # every point and summary must read back, or the merge would fail after the whole run
        CalibrationReport.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ParameterError("update", f"{path} is a damaged calibration report ({type(exc).__name__}: {exc})",
                             str(folder)) from None
    return data


def record_calibration(
    folder: Any,
    *,
    command: str,
    estimators: Sequence[str] | None = None,
    size: str = "quick",
    seed: int = 0,
    update: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[CalibrationReport, dict[str, Any]]:
    """Run :func:`run_calibration` and write ``folder/calibration.json`` and ``calibration.png``; returns the
    report written (merged, with ``update``) and the payload (its :meth:`~CalibrationReport.to_dict`,
    ``files``, ``command``, ``commands``).

    The folder (which must exist) is locked for the whole run (:func:`qlat.core.outdir.lock_folder`: a second
    writer is refused at once, naming ``out``).  With ``update`` the recorded report there is re-recorded
    for the estimators run now (:meth:`CalibrationReport.replaced`; refused before anything runs when it is
    missing or of another size or seed, :func:`check_update`) and ``commands`` lists every command that built
    the file; ``command`` stays the first.  The JSON and the plot are each replaced atomically.
    """
    import os
    from pathlib import Path

    from qlat.core.files import atomic_write_bytes
    from qlat.core.jsonio import dumps
    from qlat.core.outdir import lock_folder

    out = Path(folder)
    if update:  # refused before the lock file is created (a refusal alters nothing)
        check_update(read_recorded(out)["params"], size=size, seed=seed)
    fd = lock_folder(out, flag="out")
    try:
        recorded = read_recorded(out) if update else None  # read again under the lock
        if recorded is not None:
            check_update(recorded["params"], size=size, seed=seed)
        report = run_calibration(estimators=estimators, size=size, seed=seed, progress=progress)
        commands = [command]
        if recorded is not None:
            report = CalibrationReport.from_dict(recorded).replaced(report, order=list(load_cases()))
            commands = [*recorded.get("commands", [recorded.get("command")]), command]
        files = {"json": str(out / REPORT_FILE), "plot": str(out / PLOT_FILE)}
        payload = {**report.to_dict(), "files": files, "command": commands[0], "commands": commands}
        atomic_write_bytes(out / REPORT_FILE, (dumps(payload, indent=2) + "\n").encode("utf-8"))
        report.plot(str(out / PLOT_FILE))
    finally:
        os.close(fd)
    return report, payload


def run_calibration(
    *,
    estimators: Sequence[str] | None = None,
    size: str = "quick",
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> CalibrationReport:
    """Run the registered case generators (all, or those in ``estimators``) at ``size``.

    Each generator gets its own random stream from ``SeedSequence(seed)`` keyed by its name, so
    adding or dropping one estimator does not move another's points.
    """
    from qlat.core.provenance import provenance

    require(size in SIZES, "size", f"must be one of {', '.join(SIZES)}", size)
    cases = load_cases()
    names = list(cases) if estimators is None else list(estimators)
    unknown = [n for n in names if n not in cases]
    require(not unknown, "estimators", f"unknown; registered: {', '.join(sorted(cases))}", unknown,
            hint="a new family is one module in qlat/analysis/calibration/ with @calibration_case(...)")
    points: list[CalibrationPoint] = []
    summaries: list[EstimatorSummary] = []
    for name in names:
        gen = cases[name]
        key = [int(b) for b in name.encode()]
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), *key]))
        if progress is not None:
            progress(f"calibrating {name} ({size})")
        start = time.perf_counter()
        these = list(_checked(gen.generate(rng, size), name))
        summaries.append(EstimatorSummary.of(gen, these, time.perf_counter() - start))
        points += these
    return CalibrationReport(tuple(points), tuple(summaries),
                             provenance(size=size, seed=int(seed), estimators=names))


def _checked(points: Iterable[CalibrationPoint], name: str) -> Iterator[CalibrationPoint]:
    for p in points:
        if not isinstance(p, CalibrationPoint) or p.estimator != name:
            raise TypeError(f"calibration cases of '{name}' must yield CalibrationPoint(estimator='{name}', ...)")
        yield p

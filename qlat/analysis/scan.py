"""The θ scan of the Schwinger model on qubits as one result object (``qlat schwinger scan`` prints it).

:func:`run_theta_scan` runs the lattices (N, a) of a scan — serially or as Dask tasks
(:mod:`qlat.analysis.distributed`), resuming from a hash-chained log of finished lattices — and,
optionally, the continuum extrapolation of the massless condensate (ED:
:func:`~qlat.analysis.schwinger_studies.continuum_condensate_massless`; DMRG:
:func:`~qlat.analysis.dmrg_continuum.continuum_condensate_massless_dmrg`).  The
:class:`ThetaScan` it returns knows its units (every physical number an
:class:`~qlat.core.estimate.Estimate` in g or g² in :meth:`ThetaScan.to_dict`), the deviation of
the bulk vacuum energy from first-order mass perturbation theory ΔE(θ)/L = −mΣ(cos θ − 1)
(Adam, Ann. Phys. 259 (1997) 1; computed by
:func:`~qlat.analysis.schwinger_studies.mpt_relative_deviation`), and writes its table, CSV,
JSON and plot — from Python as from the command line.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qlat.analysis.tables import format_table
from qlat.core.errors import require
from qlat.core.estimate import Estimate

#: Parameters of a scan row (plain numbers); every other number in it is a physical result.
SCAN_PARAMETERS = ("n_sites", "spacing", "theta")
#: Values of a row that a simulation produced (Estimates; JSON dicts in the resume log).
SIMULATED_KEYS = ("energy", "condensate", "condensate_subtracted", "fidelity")
#: Longest chain a scan with DMRG ground states accepts (DMRG at χ = 64 takes ~1 min there).
DMRG_SCAN_MAX_SITES = 400
#: Bond dimension of DMRG ground states (scan and continuum) when none is given.
DEFAULT_SCAN_BOND_DIM = 64
#: θ of a scan by default: 9 points in [0, π] (radians).
DEFAULT_THETAS = tuple(i * (math.pi / 8) for i in range(9))
#: |ΔE_MPT| below which the relative deviation is not defined (θ = 0, m = 0).
MPT_FLOOR = 1e-12
#: Relative deviation from first-order MPT beyond which the scan warns (finite size, lattice artifacts).
MPT_WARN = 0.2
#: What the columns of :meth:`ThetaScan.table` mean (printed under it).
DEFINITIONS = ("⟨ψ̄ψ⟩ {src} = (1/2aN) Σ(−1)ⁿ⟨Zₙ⟩ (docs/conventions.md); Δ⟨ψ̄ψ⟩phys = bulk ∂ℰ/∂m at θ minus at 0, "
               "MPT −Σ(cos θ − 1);\nbulk ΔE/L = [ΔE_N(θ) − ΔE_{{N−2}}(θ)]/(2a) cancels the open-chain boundary "
               "energy; MPT = −mΣ(cos θ − 1), first order in m (deviation O(m) relative).")


def estimates_back(row: dict[str, Any]) -> dict[str, Any]:
    """A scan row read back from JSON: the simulated values as Estimates again."""
    out = dict(row)
    for key in SIMULATED_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = Estimate.from_dict(out[key])
    return out


def unit_of(key: str) -> str:
    """The unit of a scan number: energies (and energy densities) in g², condensates and Σ in g."""
    return "g^2" if "energy" in key else "g"


def is_analytic(key: str) -> bool:
    """Whether a scan number is analytic (mass perturbation theory, the continuum Σ): exact, no truncation."""
    return key.startswith("mpt") or key in ("massless_condensate", "sigma")


@dataclass
class ThetaScan:
    """A θ scan: one row per (lattice, θ), one study per lattice, the analytic values, the continuum limit.

    rows:      ground-state values (floats; ED or DMRG), their MPT values and — when simulated —
               ``energy``/``condensate``/``condensate_subtracted``/``fidelity`` Estimates;
               DMRG rows carry ``truncation`` = {key: |value(χ) − value(χ/2)|}.
    lattices:  per lattice (N, a) its massless lattice Σ.
    backend:   the simulator, or ``exact``/``dmrg`` without simulation.
    params:    mass, coupling, formulation, mass_shift (units of g).
    continuum: the :class:`~qlat.analysis.schwinger_studies.ContinuumResult`, or None.
    """

    rows: list[dict[str, Any]]
    lattices: list[dict[str, Any]]
    backend: str
    ground_state: dict[str, Any]
    params: dict[str, Any]
    simulated: bool
    provenance: dict[str, Any]
    continuum: Any = None
    continuum_method: str | None = None
    analytic: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The ground-state method of the exact columns (ED or DMRG)."""
        return "DMRG" if self.ground_state.get("method") == "dmrg" else "ED"

    # --- physics read off the rows -------------------------------------------------------------
    def deviations(self) -> list[float | None]:
        """Per row, (bulk ΔE/L − ΔE_MPT)/ΔE_MPT (:func:`~qlat.analysis.schwinger_studies.mpt_relative_deviation`);
        None where |ΔE_MPT| <= :data:`MPT_FLOOR` (θ = 0, m = 0)."""
        from qlat.analysis.schwinger_studies import mpt_relative_deviation

        out: list[float | None] = []
        for row in self.rows:
            if abs(row["mpt_delta_energy_density"]) <= MPT_FLOOR:
                out.append(None)
                continue
            out.append(mpt_relative_deviation({"records": [row]})[row["theta"]])
        return out

    def warnings(self) -> list[str]:
        """Why the table should not be read as the continuum: a large deviation from first-order MPT."""
        devs = [abs(d) for d in self.deviations() if d is not None]
        if devs and max(devs) > MPT_WARN:
            return [f"the bulk ΔE/L deviates from first-order mass perturbation theory by up to "
                    f"{100 * max(devs):.0f} %: beyond the O(m) correction, so finite size (small N·a) and lattice "
                    "artifacts dominate here — compare at larger N and smaller a (qlat schwinger scan --continuum)"]
        return []

    # --- output --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The scan as JSON: every physical number an Estimate with its unit and backend (exact, DMRG with its
        truncation as systematic error, analytic, lattice perturbation theory, or simulated)."""
        result: dict[str, Any] = {
            "rows": self.rows, "lattices": self.lattices, "backend": self.backend,
            "ground_state": self.ground_state, "params": self.params, "analytic": self.analytic,
            "provenance": self.provenance,
        }
        if self.continuum is not None:
            result["continuum"] = self.continuum
        return _numbers_as_estimates(result)

    def table(self) -> str:
        """One line per (N, a, θ): the ground-state condensate, the physical condensate shift and the bulk
        vacuum energy beside first-order MPT, their relative deviation and (simulated) the simulator's values."""
        src = self.source
        headers = ["N", "a", "θ", f"⟨ψ̄ψ⟩ {src}", f"Δ⟨ψ̄ψ⟩phys {src}", "Δ⟨ψ̄ψ⟩phys MPT", f"bulk ΔE/L {src}",
                   "ΔE/L MPT", "rel. dev."]
        if self.simulated:
            headers += [f"⟨ψ̄ψ⟩ {self.backend}", "fidelity"]
        lines = []
        for r, dev in zip(self.rows, self.deviations(), strict=True):
            line = [r["n_sites"], r["spacing"], f"{r['theta']:.4f}", f"{r['condensate_design']:.6f}",
                    f"{r['bulk_condensate_physical_shift']:+.6f}", f"{r['mpt_condensate_shift']:+.6f}",
                    f"{r['bulk_delta_energy_density']:.6f}", f"{r['mpt_delta_energy_density']:.6f}",
                    "-" if dev is None else f"{dev:+.3f}"]
            if self.simulated:
                line += [r["condensate"], f"{r['fidelity'].value:.6f}" if r["fidelity"] is not None else "-"]
            lines.append(line)
        return format_table(headers, lines)

    def notes(self) -> str:
        """The definitions of the table's columns and, with a continuum limit, its value against the analytic one."""
        text = DEFINITIONS.format(src=self.source)
        if self.continuum is not None:
            c = self.continuum
            text += (f"\ncontinuum massless condensate ({str(self.continuum_method).upper()}, {c.method}): "
                     f"{c.estimate}  analytic {c.reference:.7f}  z = {c.z_score:+.2f}  "
                     f"deviation {100 * c.relative_deviation:.3f} %")
        return text

    def csv_text(self) -> str:
        """The rows as CSV: every scalar column, empty for a missing value.  An Estimate column ``k`` is its
        value followed by ``k_error`` (statistical) and ``k_systematic``; a ground-state column with a DMRG
        truncation error is followed by ``k_systematic``."""
        first = self.rows[0]
        truncated = {k for r in self.rows for k in (r.get("truncation") or {})}
        columns: list[tuple[str, str, str]] = []  # (header, key, part)
        for k in first:
            if isinstance(first[k], (dict, list)):
                continue
            columns.append((k, k, "value"))
            if any(isinstance(r.get(k), Estimate) for r in self.rows):
                columns += [(f"{k}_error", k, "error"), (f"{k}_systematic", k, "systematic")]
            elif k in truncated and not is_analytic(k):
                columns.append((f"{k}_systematic", k, "truncation"))
        lines = [",".join(c[0] for c in columns)]
        for r in self.rows:
            lines.append(",".join(_cell(r, key, part) for _, key, part in columns))
        return "\n".join(lines) + "\n"

    def to_dataframe(self) -> Any:
        """The CSV columns as a pandas DataFrame (pandas imported here)."""
        import io

        import pandas as pd

        return pd.read_csv(io.StringIO(self.csv_text()))

    def write(self, folder: str | Path, *, json_payload: dict[str, Any] | None = None) -> dict[str, Path]:
        """Write ``scan.json`` (``json_payload`` or :meth:`to_dict`), ``scan.csv`` and ``scan.png`` to ``folder``."""
        from qlat.core.files import atomic_write_bytes
        from qlat.core.jsonio import jsonable

        folder = Path(folder)
        files = {"json": folder / "scan.json", "csv": folder / "scan.csv", "plot": folder / "scan.png"}
        payload = self.to_dict() if json_payload is None else json_payload
        atomic_write_bytes(files["json"], (json.dumps(jsonable(payload), indent=2) + "\n").encode())
        atomic_write_bytes(files["csv"], self.csv_text().encode())
        self.plot(files["plot"])
        return files

    def figure(self) -> Any:
        """The scan's matplotlib Figure (:func:`qlat.analysis.scan_plot.scan_figure`)."""
        from qlat.analysis.scan_plot import scan_figure

        return scan_figure(self)

    def plot(self, path: str | Path) -> None:
        """Write the scan's figure to ``path`` (PNG)."""
        import matplotlib.pyplot as plt

        fig = self.figure()
        try:
            fig.savefig(path, dpi=120)
        finally:
            plt.close(fig)


def _cell(row: dict[str, Any], key: str, part: str) -> str:
    """One CSV cell: the value (an Estimate's value, error or systematic; a DMRG truncation) or empty."""
    v = row.get(key)
    if part == "truncation":
        return repr(float((row.get("truncation") or {}).get(key, 0.0)))
    if v is None:
        return ""
    if isinstance(v, Estimate):
        return repr(float(getattr(v, part)))
    return repr(v)


def _numbers_as_estimates(result: dict[str, Any]) -> dict[str, Any]:
    """Every physical number of the scan JSON as an Estimate (exact ED, analytic, or simulated)."""
    prov = {"model": result["params"], "ground_state": result.get("ground_state", {"method": "ed"})}
    solved = "dmrg" if prov["ground_state"].get("method") == "dmrg" else "exact"

    def wrap(key: str, value: Any, truncation: dict[str, float], trust: tuple[str, ...] | list[str] = ()) -> Any:
        if not isinstance(value, float) or key in SCAN_PARAMETERS:
            return value
        analytic = is_analytic(key)
        first_order = key.startswith("lattice_first_order") or key == "lattice_sigma"
        backend = "analytic" if analytic else ("lattice perturbation theory" if first_order else solved)
        est = Estimate(value, 0.0, name=key, unit=unit_of(key), backend=backend, provenance=prov)
        if key in truncation and not analytic:
            est = est.with_systematic({"truncation": float(truncation[key])})
            for message in trust:  # emitted where the scan point ran
                est = est.with_warning(message, emit=False)
        return est

    def wrap_all(record: dict[str, Any]) -> dict[str, Any]:
        truncation = record.get("truncation") or {}
        trust = record.get("truncation_warnings") or []
        return {k: wrap(k, v, truncation, trust) for k, v in record.items()
                if k not in ("truncation", "truncation_warnings")}

    out = dict(result)
    out["rows"] = [wrap_all(row) for row in result["rows"]]
    out["lattices"] = [wrap_all(lat) for lat in result["lattices"]]
    out["analytic"] = {k: wrap(k, v, {}) for k, v in result["analytic"].items()}
    return out


@dataclass
class ScanPlan:
    """A checked θ scan, ready to run: the lattices (:func:`~qlat.analysis.schwinger_studies.scan_point`'s
    points), the ground-state method and the continuum step (:func:`run_theta_scan`'s ``continuum``)."""

    points: list[dict[str, Any]]
    ground_state: dict[str, Any]
    backend: str
    simulated: bool
    continuum: dict[str, Any] | None


def plan_theta_scan(
    *,
    n_sites: Sequence[int],
    spacing: Sequence[float],
    thetas: Sequence[float] | None = None,
    mass: float,
    coupling: float = 1.0,
    formulation: str = "rotated",
    mass_shift: bool = False,
    ground: str = "ed",
    simulate: dict[str, Any] | None = None,
    bond_dim: int | None = None,
    continuum: bool = False,
    continuum_method: str | None = None,
    continuum_sites: Sequence[int] = (12, 14, 16, 18, 20),
    volumes: Sequence[float] | None = None,
    spacings: Sequence[float] = (0.4, 1 / 3, 0.25, 0.2, 1 / 6),
) -> ScanPlan:
    """Check a θ scan before anything runs (a bad value is one :class:`~qlat.core.errors.ParameterError`
    naming the parameter, and a chain the machine cannot hold is refused) and lay out its lattices.

    ``ground``: ``"ed"`` or ``"dmrg"`` (ground states at ``bond_dim``, default 64, with the χ/2 rerun as
    systematic).  ``simulate``: None (ground states only) or the adiabatic options of
    :func:`~qlat.analysis.schwinger_studies.scan_point` (``backend``, ``shots`` … and ``schedule`` overrides:
    every lattice's schedule is built now, not on a worker).  ``continuum``: also the continuum limit of the
    massless condensate by ``continuum_method`` (default: ``ground``) — ED on chains ``continuum_sites`` at
    the ``volumes`` (default 5 6 7 8), DMRG at ``spacings`` for every volume (default 20 24).
    """
    from qlat.exact.diagonalization import ED_MAX_QUBITS, ED_ROUTINE_MAX_QUBITS
    from qlat.exact.schwinger_mpo import require_chain_memory

    simulated = simulate is not None
    if bond_dim is not None and not simulated:
        require(ground == "dmrg" or continuum_method == "dmrg", "bond_dim",
                "applies to --backend dmrg, tdvp, mps or --continuum-method dmrg (ED is exact)", bond_dim)
        require(4 <= bond_dim <= 4096, "bond_dim",
                "must be an integer in [4, 4096] (the truncation check runs at half of it)", bond_dim)
    chi = bond_dim if bond_dim is not None else DEFAULT_SCAN_BOND_DIM
    method = continuum_method if continuum_method is not None else ground
    angles = list(DEFAULT_THETAS) if thetas is None else [float(t) for t in thetas]
    for t in angles:
        require(math.isfinite(t), "thetas", "must be finite angles in radians", float(t))
    for n in n_sites:
        if ground == "dmrg":
            require(4 <= n <= DMRG_SCAN_MAX_SITES, "n_sites",
                    f"scan with dmrg (and N−2 for bulk differences): 4 <= N <= {DMRG_SCAN_MAX_SITES}", n)
        else:
            require(4 <= n <= ED_ROUTINE_MAX_QUBITS, "n_sites",
                    f"scan compares with ED (and N−2 for bulk differences): 4 <= N <= {ED_ROUTINE_MAX_QUBITS}; "
                    "longer chains with --backend dmrg", n)
    spec: dict[str, Any] | None = None
    if continuum:
        require(method in ("ed", "dmrg"), "continuum_method", "must be ed or dmrg", method)
        if volumes is None:
            volumes = [5.0, 6.0, 7.0, 8.0] if method == "ed" else [20.0, 24.0]
        if method == "dmrg":
            require(len(set(spacings)) >= 4, "spacings",
                    "needs at least 4 distinct spacings (a quadratic fit in a with a residual)", list(spacings))
        for a in spacings:
            require(math.isfinite(a) and 0 < a <= 2, "spacings", "must be in (0, 2]", a)
            if method == "dmrg":
                for vol in volumes:
                    ratio = vol / a
                    require(abs(ratio - round(ratio)) < 1e-9 and round(ratio) % 2 == 0 and round(ratio) >= 6,
                            "spacings",
                            f"L/a must be an even integer >= 6 for every volume (L = {vol:g})", a)
        for n in continuum_sites:
            require(6 <= n <= ED_MAX_QUBITS and n % 2 == 0, "continuum_sites",
                    f"must be even and in [6, {ED_MAX_QUBITS}]", n)
        for vol in volumes:
            require(vol > 0, "volumes", "must be > 0", vol)
        spec = {"method": method, "sites": list(continuum_sites), "volumes": list(volumes),
                "spacings": list(spacings), "bond_dim": chi}
    if ground == "dmrg":
        require_chain_memory(max(n_sites), bond_dim=chi, itemsize=8, what="DMRG ground states")
    if spec is not None and method == "dmrg":
        longest = max(vol / a for vol in spec["volumes"] for a in spec["spacings"])
        require_chain_memory(round(longest), bond_dim=chi, itemsize=8, sites_parameter="volumes",
                             what="the DMRG continuum extrapolation")
    if simulate is not None:
        from qlat.quantum.adiabatic import schedule_for
        from qlat.theories.schwinger_qubit import SchwingerModel

        for n in n_sites:  # the schedule every lattice will run (ramp, T, dt), checked now, not on a worker
            for a in spacing:
                schedule_for(SchwingerModel(n, a, mass, 0.0, coupling=coupling, formulation=formulation,  # type: ignore[arg-type]
                                            mass_shift=mass_shift), backend=simulate.get("backend"),
                             **simulate.get("schedule", {}))
    ground_spec = {"method": "dmrg", "bond_dim": chi} if ground == "dmrg" else {"method": "ed"}
    points = [{"n_sites": n, "spacing": a, "thetas": angles, "mass": mass, "coupling": coupling,
               "formulation": formulation, "mass_shift": mass_shift, "simulate": simulate,
               "ground_state": ground_spec} for n in n_sites for a in spacing]
    backend = str(simulate["backend"]) if simulate is not None else ("dmrg" if ground == "dmrg" else "exact")
    return ScanPlan(points=points, ground_state=ground_spec, backend=backend, simulated=simulated, continuum=spec)


def progress_bar(*, total: int, desc: str, enabled: bool) -> Any:
    """A progress bar on stderr when ``enabled`` (the caller decides: the command line draws it on a terminal
    only, :func:`qlat.cli._common.show_progress`)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stderr, leave=False)


def run_theta_scan(
    points: list[dict[str, Any]],
    *,
    log_path: str | Path,
    client: Any = None,
    backend: str,
    simulated: bool,
    continuum: dict[str, Any] | None = None,
    command: str = "qlat.analysis.scan.run_theta_scan",
    progress: bool = False,
    message: Callable[[str], Any] | None = None,
    notice: Callable[[str], Any] | None = None,
) -> ThetaScan:
    """Run the lattices ``points`` (:func:`~qlat.analysis.schwinger_studies.scan_point`) and the continuum limit.

    ``points``: one dict per lattice (N, a) as :func:`~qlat.analysis.schwinger_studies.scan_point`
    takes it, all with the same mass, coupling, formulation, mass_shift and ground-state method.
    ``log_path``: the resume log (:class:`~qlat.analysis.distributed.ResultLog`); lattices already
    in it are not recomputed.  ``client``: a Dask client (:func:`~qlat.analysis.distributed.dask_client`)
    or None (serial).  ``backend``: the simulator (``simulated``) or the ground-state label.
    ``continuum``: None, or ``{"method": "ed", "sites": […], "volumes": […]}`` /
    ``{"method": "dmrg", "volumes": […], "spacings": […], "bond_dim": χ}``.
    ``progress``: a bar over the lattices on stderr (the caller checks for a terminal); ``message(text)``
    receives the progress lines of the continuum runs, ``notice(text)`` the note of the lattices
    resumed from the log (None: ``message``).
    """
    from qlat.analysis.distributed import ResultLog, run_points
    from qlat.analysis.schwinger_studies import scan_point
    from qlat.core.provenance import provenance
    from qlat.exact import continuum as analytic

    log = ResultLog(Path(log_path), result_spec={"rows": [dict], "study": dict})
    finished = log.load(points)
    notice = message if notice is None else notice
    if finished and notice is not None:
        notice(f"qlat: {len(finished)} of {len(points)} lattices already in {log.path}: not recomputed\n")
    bar = progress_bar(total=len(points), desc="scan (lattices)", enabled=progress)
    bar.update(len(finished))

    def arrived(i: int, res: dict[str, Any]) -> None:
        log.append(i, points[i], res)
        bar.update(1)

    try:  # the bar is cleared before any error is printed: an error line never lands on the bar's line
        results = run_points(scan_point, points, client=client, on_result=arrived, skip=sorted(finished))
    finally:
        bar.close()
    for i, res in finished.items():
        results[i] = res
    first = points[0]
    coupling = first["coupling"]
    ground_spec = first.get("ground_state") or {"method": "ed"}
    scan = ThetaScan(
        rows=[estimates_back(row) for res in results for row in res["rows"]],
        lattices=[res["study"] for res in results],
        backend=backend, ground_state=ground_spec, simulated=simulated,
        params={"mass": first["mass"], "coupling": coupling, "formulation": first["formulation"],
                "mass_shift": first["mass_shift"]},
        analytic={"massless_condensate": analytic.massless_condensate(coupling=coupling),
                  "sigma": analytic.sigma(coupling=coupling),
                  "mpt": "ΔE(θ)/L = −mΣ(cos θ − 1), physical ⟨ψ̄ψ⟩ = −Σ cos θ (first order in m)"},
        provenance=provenance(command=command),
    )
    if continuum is not None:
        scan.continuum_method = continuum["method"]
        scan.continuum = continuum_limit(continuum, coupling=coupling, message=message)
    return scan


def continuum_limit(spec: dict[str, Any], *, coupling: float, message: Callable[[str], Any] | None = None) -> Any:
    """The continuum extrapolation of the massless condensate that ``spec`` names (see :func:`run_theta_scan`)."""
    if spec["method"] == "dmrg":
        from qlat.analysis.dmrg_continuum import continuum_condensate_massless_dmrg

        if message is not None:
            message(f"continuum extrapolation of the massless condensate (DMRG, L = {spec['volumes']}, "
                    f"a = {[round(a, 4) for a in spec['spacings']]}) ...\n")
        return continuum_condensate_massless_dmrg(
            volumes=spec["volumes"], spacings=spec["spacings"], coupling=coupling, bond_dim=spec["bond_dim"],
            progress=None if message is None else (lambda row: message(
                f"  N = {row['n_sites']:4d}  a = {row['spacing']:.4f}  bulk ⟨ψ̄ψ⟩ = {row['bulk']:+.7f}\n")))
    from qlat.analysis.schwinger_studies import continuum_condensate_massless

    if message is not None:
        message(f"continuum extrapolation of the massless condensate (ED, N ≤ {max(spec['sites'])}) ...\n")
    return continuum_condensate_massless(n_sites=spec["sites"], volumes=spec["volumes"], coupling=coupling)


__all__ = ["ThetaScan", "run_theta_scan", "continuum_limit", "estimates_back", "unit_of"]


def stored_scan_seed(folder: Any, *, command: str = "qlat schwinger scan") -> int | None:
    """The shot seed of the scan recorded in ``folder`` (its manifest), to resume it with the same seed;
    None when the folder holds no such scan."""
    from qlat.core.outdir import stored_params

    stored = stored_params(folder, command=command) or {}
    try:
        seed = stored["points"][0]["simulate"]["seed"]
    except (KeyError, IndexError, TypeError):
        return None
    return seed if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else None

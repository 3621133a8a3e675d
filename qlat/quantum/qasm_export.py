r"""OpenQASM 3 exports of the adiabatic circuits at canonical parameter points.

The files in the top-level ``circuits/`` directory are the adiabatic state-preparation circuits
of arXiv:2001.00485 (bare vacuum, then Trotter steps of the ramped Schwinger Hamiltonian of
docs/conventions.md) at a few canonical points, written with :func:`qiskit.qasm3.dumps` so that they can
be run on any OpenQASM 3 stack without qlat.  ``circuits/manifest.json`` lists, per file, the
model parameters, the schedule, the Trotter order and layout, gate counts, depth and the sha256
of the file, and the qlat version that wrote it.

Canonical points (:data:`CANONICAL_POINTS`): rotated formulation, a = 0.5, m = 0.1 (units of g);
N = 4, 8, 12 at θ = 0 and θ = π/2 with second-order steps on all-to-all connectivity; at N = 8,
θ = π/2 also first order, and second order on a line (swap network).

Schedule (:data:`EXPORT_SCHEDULE`): T = 20/g, dt = 0.5/g (40 Trotter steps), m₀ = 1, sin² ramp.
That is 30× fewer steps than qlat's default (T = 60, dt = 0.05), so every file stays well under
1 MB (largest: N = 12 all-to-all, ~150 kB), and still reaches a fidelity ≈ 0.997 with the exact
ground state at N = 8, θ ∈ {0, π/2} (the manifest records the fidelity of every exported circuit,
computed with qlat's statevector simulator of the identical product formula).  A user who wants
another schedule calls :func:`export_circuits` with ``schedule=...``.

Reproducibility: the circuits are lowered to the fixed gate set :data:`EXPORT_BASIS` (optimization
level 0, no layout), the manifest is written with sorted keys and holds no timestamp, so running
the export twice gives identical bytes; ``tests/quantum/test_circuits_export.py`` checks the
committed files against a fresh export.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qlat._version import __version__
from qlat.core.errors import CorruptFileError, require
from qlat.theories.schwinger_qubit import Formulation, SchwingerModel

#: Gates the exported circuits may use: ``stdgates.inc`` gates plus ``sxdg``/``rzz``/``rxx``/``ryy``,
#: which the exporter defines in the file in terms of standard gates.
EXPORT_BASIS: tuple[str, ...] = (
    "x", "h", "s", "sdg", "sx", "sxdg", "rx", "ry", "rz", "cx", "swap", "rzz", "rxx", "ryy",
)

MANIFEST_NAME = "manifest.json"

#: The manifest records the fidelity with the exact ground state up to this many sites
#: (rounded to 6 decimals so that it is reproducible byte for byte).
FIDELITY_MAX_SITES = 14
README_NAME = "README.md"


@dataclass(frozen=True)
class ExportSchedule:
    """The schedule of the exported circuits (see the module docstring)."""

    total_time: float = 20.0
    dt: float = 0.5
    initial_mass: float = 1.0
    ramp: str = "sin2"

    def build(self):
        from qlat.quantum.adiabatic import AdiabaticSchedule

        return AdiabaticSchedule(self.total_time, self.dt, initial_mass=self.initial_mass, ramp=self.ramp)


EXPORT_SCHEDULE = ExportSchedule()


@dataclass(frozen=True)
class CanonicalPoint:
    """One exported circuit: model parameters, Trotter order and layout."""

    n_sites: int
    theta: float
    order: int = 2
    layout: str = "all-to-all"
    spacing: float = 0.5
    mass: float = 0.1
    formulation: Formulation = "rotated"

    def model(self) -> SchwingerModel:
        return SchwingerModel(self.n_sites, self.spacing, self.mass, theta=self.theta,
                              formulation=self.formulation)

    @property
    def filename(self) -> str:
        theta = {0.0: "0", math.pi / 2: "pi2", math.pi: "pi"}.get(self.theta, f"{self.theta:.6g}")
        layout = "alltoall" if self.layout == "all-to-all" else self.layout
        return (f"schwinger_{self.formulation}_n{self.n_sites:02d}_a{self.spacing:g}_m{self.mass:g}"
                f"_theta{theta}_order{self.order}_{layout}.qasm")


CANONICAL_POINTS: tuple[CanonicalPoint, ...] = (
    *(CanonicalPoint(n, th) for n in (4, 8, 12) for th in (0.0, math.pi / 2)),
    CanonicalPoint(8, math.pi / 2, order=1),
    CanonicalPoint(8, math.pi / 2, layout="line"),
)


def lower_for_export(circuit):
    """``circuit`` unrolled to :data:`EXPORT_BASIS` (level 0: no layout, no optimization)."""
    from qiskit import transpile

    return transpile(circuit, basis_gates=list(EXPORT_BASIS), optimization_level=0, seed_transpiler=0)


def circuit_qasm(point: CanonicalPoint, schedule: Any = None) -> tuple[str, dict[str, Any]]:
    """OpenQASM 3 text of the adiabatic circuit at ``point`` and its manifest entry (no hash)."""
    from qiskit import qasm3

    from qlat.quantum.adiabatic_run import circuit_summary, schedule_description
    from qlat.quantum.trotter import adiabatic_circuit

    sched = EXPORT_SCHEDULE.build() if schedule is None else schedule
    model = point.model()
    circuit = adiabatic_circuit(model, sched, order=point.order, layout=point.layout, measure=False)
    lowered = lower_for_export(circuit)
    text = qasm3.dumps(lowered)
    summary = circuit_summary(lowered, sched.n_steps)
    entry = {
        "model": model.params(),
        "order": point.order,
        "layout": point.layout,
        "schedule": schedule_description(sched),
        "n_qubits": summary["n_qubits"],
        "n_steps": summary["n_steps"],
        "depth": summary["depth"],
        "cnot_count": summary["two_qubit_cnot_cost"],
        "gate_counts": summary["gate_counts"],
    }
    if model.n_sites <= FIDELITY_MAX_SITES:
        from qlat.quantum.adiabatic_run import ground_state_fidelity
        from qlat.quantum.statevector import evolve_statevector

        state = evolve_statevector(model, sched, order=point.order)
        entry["fidelity_exact_ground_state"] = round(ground_state_fidelity(model, state), 6)
    return text, entry


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _readme(points: Sequence[CanonicalPoint], schedule_desc: dict[str, Any]) -> str:
    lines = [
        "# Adiabatic Schwinger-model circuits (OpenQASM 3)",
        "",
        "Written by `qlat circuits export --out circuits` (`qlat/quantum/qasm_export.py`); do not edit",
        "by hand — `tests/quantum/test_circuits_export.py` checks these bytes against a fresh export.",
        "",
        "Each file prepares the vacuum of the staggered lattice Schwinger model (rotated formulation,",
        "arXiv:2001.00485; Hamiltonian in docs/conventions.md, qubit n = site n, little-endian as in Qiskit)",
        "from the bare vacuum by Trotterized adiabatic evolution. No measurements are included: append",
        "the basis rotation of the observable you measure (Z...Z for the condensate and the diagonal",
        "energy, X...X and Y...Y for the hopping energy).",
        "",
        f"Schedule of every file: T = {schedule_desc.get('total_time')}, dt = {schedule_desc.get('dt')} "
        f"({schedule_desc.get('n_steps')} steps), m0 = {schedule_desc.get('initial_mass')}, "
        f"ramp = {schedule_desc.get('ramp')} (units of 1/g, g = 1).",
        "This is shorter than the library default so that each file stays well under 1 MB.",
        "",
        "`manifest.json` lists per file the model parameters, order, layout, gate counts (CNOT cost:",
        "rzz = 2, swap = 3), depth, sha256 and, up to N = 14, the fidelity |<E0|psi>|^2 of the prepared",
        "state with the exact ground state. OpenQASM 3 has no global phase: the files define the",
        "state up to the phase exp(-i * integral of the constant term), which no measurement sees.",
        "",
        "| file | N | θ | order | layout |",
        "|---|---|---|---|---|",
    ]
    for p in points:
        lines.append(f"| `{p.filename}` | {p.n_sites} | {p.theta:.6g} | {p.order} | {p.layout} |")
    return "\n".join(lines) + "\n"


def export_circuits(
    directory: str | Path,
    *,
    points: Sequence[CanonicalPoint] = CANONICAL_POINTS,
    schedule: Any = None,
) -> dict[str, Any]:
    """Write one ``.qasm`` file per point, ``manifest.json`` and ``README.md`` into ``directory``.

    Returns the manifest.  Existing files of the same names are overwritten; other files are left
    alone.  Output is byte-for-byte reproducible (module docstring).
    """
    from qlat.quantum.adiabatic_run import schedule_description

    require(len(points) >= 1, "points", "must name at least one canonical point", len(points))
    names = [p.filename for p in points]
    require(len(set(names)) == len(names), "points", "must not repeat a point", names)
    sched = EXPORT_SCHEDULE.build() if schedule is None else schedule
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for point in points:
        text, entry = circuit_qasm(point, sched)
        data = text.encode("utf-8")
        (out_dir / point.filename).write_bytes(data)
        entries.append({"file": point.filename, "bytes": len(data), "sha256": sha256_bytes(data), **entry})
    schedule_desc = schedule_description(sched)
    manifest = {
        "format": "OpenQASM 3 (qiskit.qasm3.dumps)",
        "generator": "qlat circuits export",
        "qlat_version": __version__,
        "description": "Adiabatic preparation of the lattice Schwinger vacuum (arXiv:2001.00485); "
                       "see README.md in this directory.",
        "export_basis": list(EXPORT_BASIS),
        "schedule": schedule_desc,
        "circuits": entries,
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / README_NAME).write_text(_readme(points, schedule_desc), encoding="utf-8")
    return manifest


def verify_manifest(directory: str | Path) -> list[str]:
    """Check every file listed in ``directory/manifest.json`` against its sha256 and size.

    Returns the list of file names checked; raises :class:`CorruptFileError` naming the first
    missing or altered file.
    """
    out_dir = Path(directory)
    path = out_dir / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorruptFileError(f"{path}: cannot read the manifest ({exc})") from None
    checked = []
    for entry in manifest.get("circuits", []):
        file = out_dir / entry["file"]
        try:
            data = file.read_bytes()
        except OSError:
            raise CorruptFileError(f"{file}: listed in the manifest but missing") from None
        if len(data) != entry["bytes"] or sha256_bytes(data) != entry["sha256"]:
            raise CorruptFileError(f"{file}: sha256/size differ from the manifest (file altered)")
        checked.append(entry["file"])
    return checked

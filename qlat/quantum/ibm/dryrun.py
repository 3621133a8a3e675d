r"""The ``--dry-run`` report: what would be submitted, before anything is.

For the compiled circuits of :func:`qlat.quantum.ibm.compile.compile_adiabatic` it gives the
two-qubit gate count (total and per Trotter step), the depth, the estimated success probability
Π(1 − ε) over all gates and readouts (from the device's error rates; an optimistic bound that
ignores idling and crosstalk), the number of circuits and shots, and an estimate of the QPU time

.. math::  t \approx n_\text{circuits}\; n_\text{shots}\; f_\text{ZNE}\,(t_\text{circuit} + t_\text{rep}),

with f_ZNE the number of noise factors (1 without ZNE) and t_rep the device's repetition delay
(250 µs if the device does not say).  Every candidate layout is listed, with the line reference
3N(N−1)/2 + 2(N−1) CNOTs per first-order step of a swap network (arXiv:1711.04789).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Repetition delay assumed when a device does not report one (seconds).
DEFAULT_REP_DELAY_S = 250e-6


def line_reference_cnots(n: int) -> int:
    """CNOTs of one first-order Trotter step as a swap network on a line: 3N(N−1)/2 + 2(N−1)."""
    return 3 * n * (n - 1) // 2 + 2 * (n - 1)


@dataclass(frozen=True)
class DryRunReport:
    """What a submission would do (module docstring); ``str()`` is the human-readable report."""

    backend: str
    device_qubits: int
    n_sites: int
    n_steps: int
    kind: str
    primitive: str
    mode: str
    mitigation: str
    optimization_level: int
    chosen: dict[str, Any]
    candidates: dict[str, dict[str, Any]]
    n_circuits: int
    shots: int
    estimated_qpu_seconds: float | None
    line_reference_cnots_per_step: int
    notes: list[str] = field(default_factory=list)
    preparation: str = "adiabatic"

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend, "device_qubits": self.device_qubits, "n_sites": self.n_sites,
            "n_steps": self.n_steps, "kind": self.kind, "primitive": self.primitive, "mode": self.mode,
            "mitigation": self.mitigation, "optimization_level": self.optimization_level, "chosen": self.chosen,
            "candidates": self.candidates, "n_circuits": self.n_circuits, "shots": self.shots,
            "estimated_qpu_seconds": self.estimated_qpu_seconds,
            "line_reference_cnots_per_step": self.line_reference_cnots_per_step, "notes": list(self.notes),
            "preparation": self.preparation,
        }

    def __str__(self) -> str:
        c = self.chosen
        steps = "Trotter steps" if self.preparation == "adiabatic" else "ansatz operators"
        qubits = c["physical_qubits"]
        shown = str(qubits) if len(qubits) <= 24 else f"[{', '.join(map(str, qubits[:12]))}, ... ({len(qubits)} qubits)]"
        lines = [
            f"dry run on {self.backend} ({self.device_qubits} qubits): N = {self.n_sites}, {self.n_steps} {steps}, "
            f"{self.kind} ({self.primitive}), mode {self.mode}, mitigation {self.mitigation}",
            f"  layout {c['layout']} on qubits {shown}",
            f"  two-qubit gates {c['two_qubit_gates']} per circuit ({c['two_qubit_gates_per_step']:.1f} per "
            f"{'step' if self.preparation == 'adiabatic' else 'operator'}; line reference "
            f"{self.line_reference_cnots_per_step} per first-order Trotter step), depth {c['depth']}",
            f"  estimated success probability {c['estimated_success_probability']:.3g}",
            f"  {self.n_circuits} circuit(s) x {self.shots} shots"
            + ("" if self.estimated_qpu_seconds is None else f", about {self.estimated_qpu_seconds:.1f} s of QPU time"),
        ]
        for name, cand in self.candidates.items():
            lines.append(f"  candidate {name:<8s} 2q {cand['two_qubit_gates']:>6d}  depth {cand['depth']:>6d}  "
                         f"ESP {cand['estimated_success_probability']:.3g}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def dry_run_report(compiled: Any, device: Any, *, backend: str, shots: int, primitive: str, mode: str,
                   mitigation: Any, preparation: str = "adiabatic") -> DryRunReport:
    """The :class:`DryRunReport` of ``compiled`` on ``device``."""
    from qlat.quantum.ibm.mitigation import ZNE_NOISE_FACTORS

    chosen = compiled.chosen.summary(compiled.n_steps)
    rep = getattr(device, "default_rep_delay", None)
    rep_delay = float(rep) if isinstance(rep, (int, float)) and rep > 0 else DEFAULT_REP_DELAY_S
    factor = len(ZNE_NOISE_FACTORS) if "zne" in mitigation else 1
    duration = compiled.chosen.duration_s
    n_circuits = len(compiled.circuits) + len(compiled.calibration_circuits)
    qpu = None if duration is None else n_circuits * shots * factor * (duration + rep_delay)
    notes = []
    if compiled.n_qubits > 4 and chosen["estimated_success_probability"] < 0.01:
        notes.append("estimated success probability below 1 %: expect results dominated by noise; "
                     + ("use fewer Trotter steps (--budget) or mitigation" if preparation == "adiabatic" else
                        "use mitigation (odr rescales by a calibration circuit of the same depth)"))
    if primitive == "v2" and getattr(device, "name", "").startswith("fake_") and mitigation.names:
        notes.append("legacy V2 primitives ignore mitigation options in local testing mode")
    return DryRunReport(
        backend=backend, device_qubits=int(device.num_qubits), n_sites=int(compiled.n_qubits),
        n_steps=int(compiled.n_steps), kind=compiled.kind, primitive=primitive, mode=mode,
        mitigation=mitigation.label, optimization_level=int(compiled.optimization_level), chosen=chosen,
        candidates=compiled.candidates, n_circuits=n_circuits, shots=int(shots), estimated_qpu_seconds=qpu,
        line_reference_cnots_per_step=line_reference_cnots(int(compiled.n_qubits)), notes=notes,
        preparation=preparation,
    )

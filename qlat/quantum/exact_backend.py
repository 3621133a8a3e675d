"""Exact diagonalization as a backend (``"ed"``): ground-state Estimates of the Schwinger observables.

The reference every simulated or hardware number is compared with: the ground state of the
zero-charge sector (the sector the adiabatic evolution from the bare vacuum stays in), from
:func:`qlat.exact.diagonalization.diagonalize`, and ⟨O⟩ for each qubit observable — exact
numbers, error 0, ``backend="exact"``.  ``gap`` (E₁ − E₀ in the same sector) is offered as an
observable of this backend.  Keys follow :func:`qlat.core.backend.component_key`
(``electric_field[3]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qlat.core.errors import require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.core.registry import BACKENDS
from qlat.exact.ground_state import EDSolver
from qlat.theories.schwinger_qubit import SchwingerModel

#: Scalar observables reported by default.
SCALAR_OBSERVABLES: tuple[str, ...] = (
    "energy", "energy_density", "condensate", "condensate_subtracted", "total_charge",
)

#: What ``qlat schwinger exact`` reports: the scalars, the electric-field profile and the gap.
DEFAULT_OBSERVABLES: tuple[str, ...] = SCALAR_OBSERVABLES + ("electric_field", "gap")


def exact_estimates(
    model: SchwingerModel,
    *,
    observables: Sequence[str] = DEFAULT_OBSERVABLES,
) -> dict[str, Estimate]:
    """ED ground-state values of ``observables`` as exact Estimates, ``{key: Estimate}``.

    A scalar observable gives one key, a profile (``electric_field``, ``charge_density``) one key
    per component (``electric_field[0]`` …); ``gap`` is E₁ − E₀ in the zero-charge sector.
    """
    from qlat.exact.diagonalization import ED_MAX_QUBITS, diagonalize_sector, sector_expectations
    from qlat.theories.schwinger_observables import qubit_observable

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    require(model.n_qubits <= ED_MAX_QUBITS, "n_sites", f"exact diagonalization is limited to N <= {ED_MAX_QUBITS}",
            model.n_sites)
    names = list(observables)
    qobs = [qubit_observable(name, model) for name in names if name != "gap"]  # errors before the work
    spectrum = diagonalize_sector(model, k=2, sector="physical")  # vectors on the sector basis only
    values = sector_expectations(spectrum, {key: op for o in qobs for key, op in zip(o.keys, o.terms)})
    prov = provenance(model=model.params(), sector="physical")
    out: dict[str, Estimate] = {}
    for name in names:
        if name == "gap":
            gap = float(spectrum.energies[1] - spectrum.energies[0])
            out["gap"] = Estimate(gap, 0.0, name="gap", unit="g", backend="exact", provenance=prov)
            continue
        obs = qobs.pop(0)
        for key in obs.keys:
            out[key] = Estimate(values[key], 0.0, name=key, unit=obs.unit, backend="exact", provenance=prov)
    return out


@BACKENDS.register("ed")
class ExactDiagonalization:
    """Ground state of the zero-charge sector by sparse exact diagonalization (N ≤ 24)."""

    name = "ed"
    label = "exact"
    #: the ground-state plug-in (:mod:`qlat.exact.ground_state`): θ scans solve with it
    ground_state = EDSolver
    description = "exact diagonalization of the zero-charge sector (ground state, gap); N <= 24"
    accepts: tuple[str, ...] = ("SchwingerModel",)

    def supports(self, target: Any) -> bool:
        return isinstance(target, SchwingerModel)

    def observables(self, target: Any) -> list[str]:
        from qlat.theories.schwinger_observables import qubit_observable_names

        return sorted(qubit_observable_names(target) + ["gap"])

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, Estimate]:
        require(not options, "options", "exact diagonalization takes no options", sorted(options))
        return exact_estimates(target, observables=observables)

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        return SchwingerModel(6, 0.5, 0.1, theta=0.4), {}

    def __repr__(self) -> str:
        return "ExactDiagonalization()"

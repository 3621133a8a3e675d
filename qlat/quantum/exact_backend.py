"""Exact diagonalization as a backend: ground-state Estimates of the Schwinger observables.

The reference every simulated or hardware number is compared with: the ground state of the
zero-charge sector (the sector the adiabatic evolution from the bare vacuum stays in), from
:func:`qlat.exact.diagonalization.diagonalize`, and ⟨O⟩ for each qubit observable — exact
numbers, error 0, ``backend="exact"``.
"""

from __future__ import annotations

from typing import Any, Sequence

from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.theories.schwinger_qubit import SchwingerModel

#: Scalar observables reported by default.
SCALAR_OBSERVABLES: tuple[str, ...] = (
    "energy", "energy_density", "condensate", "condensate_subtracted", "total_charge",
)


def exact_estimates(
    model: SchwingerModel,
    *,
    observables: Sequence[str] = SCALAR_OBSERVABLES + ("electric_field",),
) -> dict[str, Any]:
    """ED ground-state values of ``observables`` (and the gap E₁ − E₀) as exact Estimates.

    A scalar observable maps to one Estimate; a profile (``electric_field``,
    ``charge_density``) to a list of Estimates, one per component.
    """
    from qlat.exact.diagonalization import diagonalize, expectation
    from qlat.quantum.observables import qubit_observable

    spectrum = diagonalize(model, k=2, sector="physical")
    prov = provenance(model=model.params(), sector="physical")
    out: dict[str, Any] = {}
    for name in observables:
        obs = qubit_observable(name, model)
        values = [
            Estimate(expectation(spectrum.ground_state, op), 0.0,
                     name=name if obs.is_scalar else f"{name}[{label}]", unit=obs.unit,
                     backend="exact", provenance=prov)
            for label, op in zip(obs.labels, obs.operators)
        ]
        out[name] = values[0] if obs.is_scalar else values
    out["gap"] = Estimate(spectrum.gap, 0.0, name="gap", unit="g", backend="exact", provenance=prov)
    return out

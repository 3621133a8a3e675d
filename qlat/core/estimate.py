"""The :class:`Estimate`: every number qlat gives a user is ``value ± error`` with provenance.

An estimate carries its one-standard-deviation error, the integrated autocorrelation time that
went into it (Monte Carlo) or the shot count (quantum sampling), the backend that produced it and
a free-form provenance mapping (parameters, seeds, qlat version).  It prints in the compact
lattice notation ``-0.1599(12)`` and round-trips through JSON.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping

from qlat.core.errors import ParameterError


def format_value_error(value: float, error: float, *, digits: int = 2) -> str:
    """Format ``value`` with ``error`` in parenthesis notation, e.g. ``-0.15993(12)``.

    The error is shown with ``digits`` significant digits; an exact value (error 0) is shown with
    up to 10 significant digits; a non-finite error is written out.
    """
    if not math.isfinite(value):
        return str(value)
    if error == 0.0:
        return f"{value:.10g}"
    if not math.isfinite(error) or error < 0:
        return f"{value:.6g} ± {error}"
    exponent = math.floor(math.log10(error))
    decimals = digits - 1 - exponent
    if decimals <= 0:
        scale = 10 ** (-decimals)
        return f"{round(value / scale) * scale:.0f}({round(error / scale) * scale:.0f})"
    err_digits = round(error * 10**decimals)
    if err_digits >= 10**digits:  # rounding carried over, e.g. 0.0996 -> 0.100
        decimals -= 1
        err_digits = round(error * 10**decimals)
    return f"{value:.{decimals}f}({err_digits})"


@dataclass(frozen=True)
class Estimate:
    """``value ± error`` of one observable from one backend.

    Attributes
    ----------
    value, error:
        Central value and one-standard-deviation error (0 for exact results).
    name:
        Observable name, e.g. ``"condensate"``.
    unit:
        Unit convention, e.g. ``"g"`` (Schwinger model in units of the coupling) or ``"lattice"``.
    tau_int, tau_int_error:
        Integrated autocorrelation time (Monte Carlo, in units of the measurement interval) and its
        error; ``None`` where it does not apply.
    n_samples:
        Number of configurations (Monte Carlo) or shots (quantum sampling) behind the value;
        ``None`` for exact results.
    backend:
        What produced the number: ``"exact"``, ``"statevector"``, ``"aer-shots"``, ``"hmc"`` ...
    provenance:
        Parameters, seeds, versions — anything needed to reproduce the number.
    """

    value: float
    error: float = 0.0
    name: str = ""
    unit: str = ""
    tau_int: float | None = None
    tau_int_error: float | None = None
    n_samples: int | None = None
    backend: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "error", float(self.error))
        if self.error < 0 or math.isnan(self.error):
            raise ParameterError("error", "must be a non-negative number", self.error)

    @property
    def exact(self) -> bool:
        """True for a result without statistical error (exact diagonalization, statevector)."""
        return self.error == 0.0

    def z_score(self, other: "Estimate | float", *, other_error: float = 0.0) -> float:
        """Deviation from ``other`` in units of the combined error, (a − b)/√(σa² + σb²).

        Returns ``inf`` (or 0 when equal) if both errors vanish.
        """
        if isinstance(other, Estimate):
            b, sb = other.value, other.error
        else:
            b, sb = float(other), float(other_error)
        sigma = math.hypot(self.error, sb)
        diff = self.value - b
        if sigma == 0.0:
            return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
        return diff / sigma

    def with_provenance(self, **items: Any) -> "Estimate":
        """A copy with ``items`` added to the provenance."""
        return replace(self, provenance={**self.provenance, **items})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``value`` and ``error`` always present."""
        out = asdict(self)
        out["provenance"] = dict(self.provenance)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Estimate":
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ParameterError("data", f"unknown Estimate fields {sorted(unknown)}")
        return cls(**data)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> "Estimate":
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        return format_value_error(self.value, self.error)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

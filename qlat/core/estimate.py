"""The :class:`Estimate`: every number qlat gives a user is ``value ± error`` with provenance.

An estimate carries its one-standard-deviation statistical error, an optional systematic error
(Trotter step, finite adiabatic time, MPS truncation, extrapolation model …, with its sources in
``provenance["systematic_sources"]``), the integrated autocorrelation time that went into it
(Monte Carlo) or the shot count (quantum sampling), the backend that produced it and a free-form
provenance mapping (parameters, seeds, qlat version).  It prints in the compact lattice notation
``-0.1599(12)`` (``-0.1599(12)(30)`` with a systematic error) and round-trips through JSON.
z-scores combine both errors in quadrature.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from qlat.core.errors import ParameterError, require


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
    if value != 0.0 and error < 1e-13 * abs(value):  # below double-precision round-off: no digits to show
        return f"{value:.13g}(0)"
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


def format_value_errors(value: float, errors: tuple[float, ...], *, digits: int = 2) -> str:
    """``value(e1)(e2)…`` with every error in units of the last digit shown, e.g. ``-0.1599(12)(30)``.

    The last digit is set by the largest error shown with ``digits`` significant
    digits; a non-finite error falls back to ``value ± e1 ± e2``.
    """
    positive = [e for e in errors if e > 0]
    if not math.isfinite(value) or not positive or not all(math.isfinite(e) and e >= 0 for e in errors):
        return f"{value:.6g} " + " ".join(f"± {e:.2g}" for e in errors)
    decimals = digits - 1 - math.floor(math.log10(max(positive)))
    if decimals <= 0:
        return format_value_error(value, math.hypot(*errors), digits=digits)
    return f"{value:.{decimals}f}" + "".join(f"({round(e * 10**decimals)})" for e in errors)


@dataclass(frozen=True)
class Estimate:
    """``value ± error`` of one observable from one backend.

    Attributes
    ----------
    value, error:
        Central value and one-standard-deviation statistical error (0 for exact results).
    systematic:
        Systematic error (one standard deviation, 0 when none is known or none exists); its
        sources, each with its size, are in ``provenance["systematic_sources"]``.
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
    history:
        The statistical fluctuations behind ``error`` as a pyerrors ``Obs`` (a Monte Carlo
        estimate's per-configuration history), or None; not serialized, not compared.  It makes
        arithmetic keep correlations (:mod:`qlat.core.estimate_algebra`): ``P - P`` has error 0,
        ``a - b`` of two observables of one chain gets the Γ-method error of the difference.

    Arithmetic (``+ - * / **``, ``-a``, ``abs``, ``a.sqrt()``, ``a.log()`` … and so
    ``numpy.log(a)``) propagates statistical and systematic errors separately, with units;
    ``float(a)`` is the value; ``f"{a:.3f}"`` prints ``value ± error``; :meth:`to_pyerrors` /
    :meth:`from_pyerrors` convert both ways.
    """

    value: float
    error: float = 0.0
    systematic: float = 0.0
    name: str = ""
    unit: str = ""
    tau_int: float | None = None
    tau_int_error: float | None = None
    n_samples: int | None = None
    backend: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)
    history: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "error", float(self.error))
        object.__setattr__(self, "systematic", float(self.systematic))
        if self.error < 0 or math.isnan(self.error):
            raise ParameterError("error", "must be a non-negative number", self.error)
        if self.systematic < 0 or math.isnan(self.systematic):
            raise ParameterError("systematic", "must be a non-negative number", self.systematic)

    @property
    def exact(self) -> bool:
        """True for a result with neither statistical nor systematic error (exact diagonalization)."""
        return self.error == 0.0 and self.systematic == 0.0

    @property
    def total_error(self) -> float:
        """√(error² + systematic²): what z-scores and cross-checks use."""
        return math.hypot(self.error, self.systematic)

    def with_systematic(self, sources: Mapping[str, float]) -> "Estimate":
        """A copy whose systematic error is the quadrature sum of ``sources`` (name → size, ≥ 0),
        recorded in ``provenance["systematic_sources"]`` (merged with any already there)."""
        merged = dict(self.provenance.get("systematic_sources", {}))
        for key, size in sources.items():
            size = abs(float(size))
            if math.isnan(size):
                raise ParameterError("systematic", f"source '{key}' is NaN")
            merged[key] = size
        total = math.sqrt(sum(v * v for v in merged.values()))
        return replace(self, systematic=total, provenance={**self.provenance, "systematic_sources": merged})

    def z_score(self, other: "Estimate | float", *, other_error: float = 0.0) -> float:
        """Deviation from ``other`` in units of the combined error, (a − b)/√(σa² + σb²).

        σ includes the systematic errors of both sides.  Returns ``inf`` (or 0 when equal) if
        both errors vanish.
        """
        if isinstance(other, Estimate):
            b, sb = other.value, other.total_error
        else:
            b, sb = float(other), float(other_error)
        sigma = math.hypot(self.total_error, sb)
        diff = self.value - b
        if sigma == 0.0:
            return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
        return diff / sigma

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every reason this error bar cannot be fully trusted, in order, without repeats.

        Collected from ``provenance["warnings"]`` (a list, written by :meth:`with_warning`) and
        any provenance key starting with ``"warning"`` (``"warning"``, ``"warning_systematic"`` …,
        written by older code paths).  An estimate with warnings is *unwarned* in no calibration
        count (:mod:`qlat.analysis.calibration`) and cross-check tables mark its cell with ``!``.
        """
        found: list[str] = []
        listed = self.provenance.get("warnings", ())
        items = [listed] if isinstance(listed, str) else list(listed or ())
        items += [v for k, v in self.provenance.items() if k != "warnings" and k.startswith("warning")]
        for item in items:
            text = str(item)
            if text and text not in found:
                found.append(text)
        return tuple(found)

    def with_warning(self, message: str, *, emit: bool = True) -> "Estimate":
        """A copy with ``message`` added to ``provenance["warnings"]``; ``emit`` also issues a
        :class:`~qlat.core.errors.QlatWarning` (stderr on the command line) prefixed by the name."""
        require(isinstance(message, str) and bool(message), "message", "must be a non-empty string", message)
        listed = self.provenance.get("warnings", ())
        current = [listed] if isinstance(listed, str) else list(listed or ())
        if message not in current:
            current.append(message)
        if emit:
            from qlat.core.errors import warn

            warn(f"{self.name}: {message}" if self.name else message, stacklevel=3)
        return replace(self, provenance={**self.provenance, "warnings": current})

    def with_provenance(self, **items: Any) -> "Estimate":
        """A copy with ``items`` added to the provenance."""
        return replace(self, provenance={**self.provenance, **items})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``value`` and ``error`` always present."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "history"}
        out["provenance"] = dict(self.provenance)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Estimate":
        from qlat.core.jsonio import finite_or_special

        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ParameterError("data", f"unknown Estimate fields {sorted(unknown)}")
        numbers = ("value", "error", "systematic", "tau_int", "tau_int_error")
        return cls(**{k: finite_or_special(v) if k in numbers else v for k, v in data.items()})

    def to_json(self, **kwargs: Any) -> str:
        """Strict JSON (:func:`qlat.core.jsonio.dumps`: a non-finite error is written ``"inf"``)."""
        from qlat.core.jsonio import dumps

        return dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> "Estimate":
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        if self.systematic > 0.0:
            return format_value_errors(self.value, (self.error, self.systematic))
        return format_value_error(self.value, self.error)

    def __format__(self, spec: str) -> str:
        from qlat.core.estimate_algebra import format_estimate

        return format_estimate(self, spec)

    # --- comparison and conversion ------------------------------------------------------------

    def compatible_with(self, other: "Estimate | float", *, z: float = 2.0) -> bool:
        """|z-score| ≤ ``z`` (statistical and systematic errors of both sides combined)."""
        return abs(self.z_score(other)) <= z

    def __float__(self) -> float:
        return self.value

    def to_pyerrors(self) -> Any:
        """A pyerrors ``Obs``: the Monte Carlo history (or one Gaussian source of width
        ``error``) plus one covariance source per systematic source."""
        from qlat.core.estimate_algebra import to_obs

        return to_obs(self)

    @classmethod
    def from_pyerrors(cls, obs: Any, *, name: str = "", unit: str = "", backend: str = "pyerrors",
                      S: float = 2.0) -> "Estimate":
        """An Estimate from a pyerrors ``Obs`` (Γ-method with window parameter ``S``); sources named
        ``qlat:sys:…`` (from :meth:`to_pyerrors`) come back as the systematic error."""
        from qlat.core.estimate_algebra import from_obs

        return from_obs(obs, cls=cls, name=name, unit=unit, backend=backend, S=S)

    # --- arithmetic (qlat.core.estimate_algebra) ------------------------------------------------

    def _binary(self, op: str, other: Any, *, reflected: bool = False) -> "Estimate":
        from qlat.core.estimate_algebra import binary

        return binary(op, other, self) if reflected else binary(op, self, other)

    def __add__(self, other: Any) -> "Estimate":
        return self._binary("+", other)

    def __radd__(self, other: Any) -> "Estimate":
        return self._binary("+", other, reflected=True)

    def __sub__(self, other: Any) -> "Estimate":
        return self._binary("-", other)

    def __rsub__(self, other: Any) -> "Estimate":
        return self._binary("-", other, reflected=True)

    def __mul__(self, other: Any) -> "Estimate":
        return self._binary("*", other)

    def __rmul__(self, other: Any) -> "Estimate":
        return self._binary("*", other, reflected=True)

    def __truediv__(self, other: Any) -> "Estimate":
        return self._binary("/", other)

    def __rtruediv__(self, other: Any) -> "Estimate":
        return self._binary("/", other, reflected=True)

    def __pow__(self, other: Any) -> "Estimate":
        return self._binary("**", other)

    def __rpow__(self, other: Any) -> "Estimate":
        return self._binary("**", other, reflected=True)

    def _unary(self, fn: str) -> "Estimate":
        from qlat.core.estimate_algebra import unary

        return unary(fn, self)

    def __neg__(self) -> "Estimate":
        return self._unary("neg")

    def __pos__(self) -> "Estimate":
        return self

    def __abs__(self) -> "Estimate":
        return self._unary("abs")

    def sqrt(self) -> "Estimate":
        return self._unary("sqrt")

    def exp(self) -> "Estimate":
        return self._unary("exp")

    def log(self) -> "Estimate":
        return self._unary("log")

    def sin(self) -> "Estimate":
        return self._unary("sin")

    def cos(self) -> "Estimate":
        return self._unary("cos")

    def tan(self) -> "Estimate":
        return self._unary("tan")

    def arcsin(self) -> "Estimate":
        return self._unary("arcsin")

    def arccos(self) -> "Estimate":
        return self._unary("arccos")

    def arctan(self) -> "Estimate":
        return self._unary("arctan")

    def sinh(self) -> "Estimate":
        return self._unary("sinh")

    def cosh(self) -> "Estimate":
        return self._unary("cosh")

    def tanh(self) -> "Estimate":
        return self._unary("tanh")

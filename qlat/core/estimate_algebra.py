r"""Arithmetic on :class:`~qlat.core.estimate.Estimate`: error propagation that keeps correlations.

Every estimate is turned into a pyerrors ``Obs`` (Joswig, Kuberski, Kuhlmann, Neuendorf,
Comput. Phys. Commun. 288 (2023) 108750) and the arithmetic is pyerrors' automatic
differentiation, so a derived quantity f(a, b, …) gets the linear propagation

.. math::
    \sigma_f^2 = \sum_{\alpha} \Big(\sum_i \frac{\partial f}{\partial a_i}\, \delta a_i^{(\alpha)}\Big)^2

over every independent source α of fluctuation, and correlations are kept by *name*:

- a Monte Carlo estimate carries its history (:attr:`Estimate.history`: the per-configuration
  fluctuations of its chains, set by :mod:`qlat.analysis.statistics`); two estimates from one
  ensemble share it, so ``P - P`` is exactly 0 and ``P - Q`` gets the Γ-method error of the
  difference (Wolff, hep-lat/0306017, section 3.2);
- an estimate without history becomes one Gaussian source ``qlat:stat:<uid>`` of width
  ``error`` (pyerrors ``cov_Obs``); the uid is kept by every copy (``with_provenance`` …), so
  ``a - a`` is 0 as well, while two separately made estimates are independent;
- each systematic source (``provenance["systematic_sources"]``) becomes its own source
  ``qlat:sys:<source>:<uid>``; after the arithmetic the contributions whose names start with
  ``qlat:sys:`` form the result's ``systematic`` (per source, in quadrature), all others its
  statistical ``error`` — statistical and systematic errors are propagated but kept apart.

Units: ``+``/``-`` need equal units (a plain number takes the other side's unit); ``*``, ``/`` and
powers combine them (``g`` × ``g`` = ``g^2``); transcendental functions give unit ``1``.
"""

from __future__ import annotations

import math
import re
import uuid
import warnings
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError

#: An Estimate (``qlat.core.estimate``, which imports this module: the type is not imported back).
Estimate = Any

STAT_PREFIX = "qlat:stat:"
SYS_PREFIX = "qlat:sys:"


def pyerrors() -> Any:
    """pyerrors, imported lazily (about 1 s) and without its scipy deprecation warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyerrors as pe
    return pe


# --- units -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"^([A-Za-z_][A-Za-z_0-9]*)(?:\^\(?(-?\d+(?:/\d+)?)\)?)?$")


def parse_unit(unit: str) -> dict[str, Fraction] | None:
    """``"g^2*lattice"`` → {g: 2, lattice: 1}; ``""``/``"1"`` → {}; None when not of that form."""
    text = unit.replace("·", "*").replace(" ", "")
    if text in ("", "1"):
        return {}
    out: dict[str, Fraction] = {}
    for sign, part in re.findall(r"([*/]?)([^*/]+)", text):
        m = _TOKEN.match(part)
        if not m:
            return None
        exp = Fraction(m.group(2) or 1) * (-1 if sign == "/" else 1)
        out[m.group(1)] = out.get(m.group(1), Fraction(0)) + exp
    return {k: v for k, v in out.items() if v != 0}


def format_unit(parts: Mapping[str, Fraction]) -> str:
    if not parts:
        return "1"
    def one(base: str, exp: Fraction) -> str:
        if exp == 1:
            return base
        text = str(exp)
        return f"{base}^{text}" if "/" not in text else f"{base}^({text})"
    return "*".join(one(b, e) for b, e in sorted(parts.items()))


def _unit_power(unit: str, power: float) -> str:
    parts = parse_unit(unit)
    if parts is None:
        return f"({unit})^{power:g}"
    frac = Fraction(power).limit_denominator(12)
    if float(frac) != float(power):
        return format_unit(parts) if not parts else f"({unit})^{power:g}"
    return format_unit({b: e * frac for b, e in parts.items()})


def _unit_product(a: str, b: str, sign: int) -> str:
    pa, pb = parse_unit(a), parse_unit(b)
    if pa is None or pb is None:
        return f"{a}{'*' if sign > 0 else '/'}{b}"
    out = dict(pa)
    for base, exp in pb.items():
        out[base] = out.get(base, Fraction(0)) + sign * exp
    return format_unit({k: v for k, v in out.items() if v != 0})


def _same_unit(a: str, b: str) -> bool:
    if a == b:
        return True
    pa, pb = parse_unit(a), parse_unit(b)
    return pa is not None and pa == pb


# --- Estimate <-> Obs --------------------------------------------------------------------------

def _uid(est: Estimate) -> str:
    """The estimate's identity, kept by every copy: stored on its history Obs."""
    return str(history_of(est).qlat_uid)


class DeferredHistory:
    """A Monte Carlo history not yet turned into a pyerrors Obs (importing pyerrors costs about a
    second, which a command that only prints its estimates should not pay): per-chain series,
    replica names ``ensemble|r<c>`` and configuration numbers.

    ``error``/``S``: the estimate's own Γ-method error and window parameter.  pyerrors' Γ-method
    differs from qlat's in details of the automatic window (a few per cent in the error), so the
    fluctuations are scaled about the mean until pyerrors reproduces ``error`` exactly: a function
    of one estimate then has the error of linear propagation (β(1 − P) has error β·σ_P), and the
    autocorrelation shape, hence every correlation with other observables of the ensemble, is kept.
    """

    __slots__ = ("samples", "names", "idl", "error", "S")

    def __init__(self, samples: list[Any], names: list[str], idl: list[range], *, error: float | None = None,
                 S: float = 2.0) -> None:
        self.samples, self.names, self.idl, self.error, self.S = samples, names, idl, error, S

    def build(self) -> Any:
        pe = pyerrors()
        obs = pe.Obs(self.samples, self.names, idl=self.idl)
        if self.error is None or not math.isfinite(self.error) or self.error <= 0:
            return obs
        obs.gamma_method(S=self.S)
        if not obs.dvalue > 0:
            return obs
        factor = self.error / float(obs.dvalue)
        mean = float(obs.value)
        scaled = [mean + (np.asarray(x, dtype=np.float64) - mean) * factor for x in self.samples]
        return pe.Obs(scaled, self.names, idl=self.idl)


def history_of(est: Estimate) -> Any:
    """The statistical part of ``est`` as an Obs: its Monte Carlo history, or (made once and
    cached on the estimate) one Gaussian source of width ``error``."""
    if isinstance(est.history, DeferredHistory):
        object.__setattr__(est, "history", est.history.build())  # cached: value, error, equality unchanged
    if est.history is None:
        pe = pyerrors()
        uid = uuid.uuid4().hex[:16]
        obs = pe.cov_Obs(est.value, est.error**2, f"{STAT_PREFIX}{uid}")
        obs.qlat_uid = uid
        obs.qlat_sys = frozenset()
        object.__setattr__(est, "history", obs)  # a cache: value, error and equality are unchanged
    elif not hasattr(est.history, "qlat_uid"):
        est.history.qlat_uid = uuid.uuid4().hex[:16]
        est.history.qlat_sys = frozenset()
    return est.history


def systematic_sources(est: Estimate) -> dict[str, float]:
    """``{source: size}``; a systematic without named sources is one source ``"systematic"``."""
    sources = {str(k): abs(float(v)) for k, v in dict(est.provenance.get("systematic_sources", {})).items()}
    if not sources and est.systematic > 0:
        sources = {"systematic": est.systematic}
    return sources


def to_obs(est: Estimate) -> Any:
    """A pyerrors Obs carrying the statistical history and every systematic source of ``est``."""
    pe = pyerrors()
    hist = history_of(est)
    uid = _uid(est)
    present: frozenset[str] = getattr(hist, "qlat_sys", frozenset())
    obs = hist
    for source, size in systematic_sources(est).items():
        if source in present or size == 0.0:
            continue
        obs = obs + pe.cov_Obs(0.0, size**2, f"{SYS_PREFIX}{source.replace('|', '/')}:{uid}")
    return obs


def from_obs(obs: Any, *, cls: type, name: str = "", unit: str = "", backend: str = "", S: float = 2.0,
             provenance: Mapping[str, Any] | None = None) -> Estimate:
    """An Estimate from a pyerrors Obs: contributions named ``qlat:sys:<source>:…`` are the
    systematic error (per source), everything else (Monte Carlo ensembles, other covariances) the
    statistical error; τ_int and the sample count when one Monte Carlo ensemble is behind it."""
    pe = pyerrors()
    if not isinstance(obs, pe.Obs):
        return cls(float(obs), 0.0, name=name, unit=unit, backend=backend, provenance=dict(provenance or {}))
    obs.gamma_method(S=S)
    stat2 = 0.0
    sys2: dict[str, float] = {}
    for e_name, dvalue in obs.e_dvalue.items():
        d2 = float(dvalue) ** 2
        if e_name.startswith(SYS_PREFIX):
            source = e_name[len(SYS_PREFIX):].rsplit(":", 1)[0]
            sys2[source] = sys2.get(source, 0.0) + d2
        else:
            stat2 += d2
    mc = list(obs.mc_names)
    tau = tau_err = None
    n_samples = None
    if len(mc) == 1:
        tau, tau_err = float(obs.e_tauint[mc[0]]), float(obs.e_dtauint[mc[0]])
        n_samples = int(sum(obs.shape[r] for r in obs.names if r.split("|")[0] == mc[0]))
    prov = dict(provenance or {})
    sources = {k: math.sqrt(v) for k, v in sys2.items() if v > 0}
    if sources:
        prov["systematic_sources"] = sources
    obs.qlat_uid = uuid.uuid4().hex[:16]
    obs.qlat_sys = frozenset(sources) | frozenset(k for k in sys2)
    return cls(float(obs.value), math.sqrt(stat2), systematic=math.sqrt(sum(sys2.values())), name=name,
                    unit=unit, tau_int=tau, tau_int_error=tau_err, n_samples=n_samples, backend=backend,
                    provenance=prov, history=obs)


# --- arithmetic --------------------------------------------------------------------------------

def _is_estimate(x: Any) -> bool:
    return hasattr(x, "total_error") and hasattr(x, "provenance") and hasattr(x, "history")


def _label(x: Any) -> str:
    if _is_estimate(x):
        return x.name or str(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def _backend(*args: Any) -> str:
    names = {a.backend for a in args if _is_estimate(a) and a.backend}
    return names.pop() if len(names) == 1 else ("derived" if names else "")


def _operand(x: Any) -> Any:
    if _is_estimate(x):
        return to_obs(x)
    if isinstance(x, bool) or not isinstance(x, (int, float)) and not hasattr(x, "__float__"):
        raise TypeError(f"cannot combine an Estimate with {type(x).__name__}")
    return float(x)


def _unit_of(x: Any) -> str | None:
    return x.unit if _is_estimate(x) else None


def binary(op: str, a: Any, b: Any) -> Estimate:
    """``a op b`` for op in + - * / ** with at least one Estimate operand."""
    ua, ub = _unit_of(a), _unit_of(b)
    if op in "+-":
        if ua is not None and ub is not None and not _same_unit(ua, ub):
            raise ParameterError("unit", f"cannot {'add' if op == '+' else 'subtract'} '{ub}' and '{ua}'",
                                 f"{_label(a)} {op} {_label(b)}")
        unit = ua if ua is not None else ub or ""
    elif op in "*/":
        unit = _unit_product(ua or "1", ub or "1", 1 if op == "*" else -1)
        if ua is None and ub is not None and op == "*":
            unit = ub
        if ub is None and ua is not None:
            unit = ua
    else:  # power
        if ub is not None:
            unit = "1"
        else:
            unit = _unit_power(ua or "1", float(b))
    x, y = _operand(a), _operand(b)
    funcs: dict[str, Callable[[Any, Any], Any]] = {
        "+": lambda p, q: p + q, "-": lambda p, q: p - q, "*": lambda p, q: p * q,
        "/": lambda p, q: p / q, "**": lambda p, q: p**q,
    }
    result = funcs[op](x, y)
    cls = type(a) if _is_estimate(a) else type(b)
    return from_obs(result, cls=cls, unit=unit, backend=_backend(a, b),
                    provenance={"derived": f"({_label(a)}) {op} ({_label(b)})"})


#: Functions an Estimate offers as methods (so ``numpy.log(est)`` works too) and their unit rule.
FUNCTIONS = ("exp", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
             "arcsinh", "arccosh", "arctanh")


def unary(fn: str, a: Estimate) -> Estimate:
    """``fn(a)`` for fn in :data:`FUNCTIONS`, ``sqrt``, ``neg``, ``abs``."""
    x = to_obs(a)
    cls = type(a)
    if fn == "neg":
        return from_obs(-x, cls=cls, unit=a.unit, backend=a.backend, provenance={"derived": f"-({_label(a)})"})
    if fn == "abs":
        return from_obs(x if a.value >= 0 else -x, cls=cls, unit=a.unit, backend=a.backend,
                        provenance={"derived": f"|{_label(a)}|"})
    if fn == "sqrt":
        return from_obs(x.sqrt(), cls=cls, unit=_unit_power(a.unit or "1", 0.5), backend=a.backend,
                        provenance={"derived": f"sqrt({_label(a)})"})
    if fn not in FUNCTIONS:
        raise ParameterError("function", f"must be one of {', '.join(FUNCTIONS)}, sqrt", fn)
    return from_obs(getattr(x, fn)(), cls=cls, unit="1", backend=a.backend, provenance={"derived": f"{fn}({_label(a)})"})


def derived(func: Callable[..., Any], *args: Estimate, name: str = "", unit: str = "") -> Estimate:
    """f(a, b, …) for any function written with ``autograd.numpy`` (pyerrors' derivative)."""
    pe = pyerrors()
    obs = [to_obs(a) for a in args]
    result = pe.derived_observable(lambda x, **kw: func(*x), obs)
    return from_obs(result, cls=type(args[0]), name=name, unit=unit, backend=_backend(*args),
                    provenance={"derived": f"{getattr(func, '__name__', 'f')}({', '.join(_label(a) for a in args)})"})


# --- formatting --------------------------------------------------------------------------------

_SPEC = re.compile(r"^(?P<align>(?:.?[<>=^])?)(?P<sign>[+\- ]?)(?P<z>z?)(?P<alt>#?)(?P<zero>0?)(?P<width>\d*)"
                   r"(?P<grouping>[,_]?)(?P<precision>(?:\.\d+)?)(?P<type>[bcdeEfFgGnosxX%]?)$")


def format_estimate(est: Estimate, spec: str) -> str:
    """``format(est, spec)``: an alignment-only spec pads ``str(est)``; a numeric spec (precision or
    type e/f/g/%) formats value and errors: ``f"{a:.3f}"`` → ``-0.160 ± 0.001`` (``± 0.002 syst``)."""
    m = _SPEC.match(spec)
    if not spec or m is None:
        return format(str(est), spec)
    numeric = bool(m.group("precision")) or m.group("type") in tuple("eEfFgGn%")
    if not numeric:
        return format(str(est), spec)
    number = "".join(m.group(k) for k in ("sign", "z", "alt", "grouping", "precision", "type"))
    error_spec = "".join(m.group(k) for k in ("alt", "grouping", "precision", "type"))
    text = f"{est.value:{number}} ± {est.error:{error_spec}}"
    if est.systematic > 0:
        text += f" ± {est.systematic:{error_spec}} syst"
    width = m.group("width")
    return format(text, f"{m.group('align') or '>'}{width}") if width else text

r"""Adiabatic schedules for preparing the Schwinger-model vacuum with a θ term.

Chakraborty, Honda, Izubuchi, Kikuchi, Tomiya, arXiv:2001.00485, prepare the interacting vacuum
by starting from the *bare vacuum* (the ground state at w = 0, odd sites occupied; see
:func:`qlat.theories.schwinger_qubit.bare_vacuum_bits`) and slowly switching on the hopping and the
θ term, with J = g²a/2 held fixed:

.. math::
    w(t) = s(t)\,w, \qquad m(t) = \bigl(1 - s(t)\bigr)\,m_0 + s(t)\,m, \qquad
    \theta(t) = s(t)\,\theta, \qquad 0 \le t \le T,

with the *linear* ramp s(t) = t/T of the paper.  Smoother ramps whose derivatives vanish at
both ends reduce the non-adiabatic leakage at a given T (the boundary terms of the adiabatic
expansion are set by the derivatives of s at t = 0 and t = T; with the first k derivatives
zero the leaked amplitude falls like T^{−(k+1)} instead of 1/T):

- ``"linear"``:       s = u,                  u = t/T   (arXiv:2001.00485)
- ``"smoothstep"``:   s = 3u² − 2u³            (s' = 0 at both ends)
- ``"sin2"``:         s = sin²(πu/2)           (s' = 0 at both ends)
- ``"smootherstep"``: s = 10u³ − 15u⁴ + 6u⁵     (s' = s'' = 0 at both ends)

Why m₀ = 0.5.  At w = 0 the Hamiltonian is diagonal; the bare vacuum has no electric field and
the lowest mass energy, so it is the unique ground state of the zero-charge sector for every
m₀ ≥ 0, separated from the first excitation (one pair, one unit of flux) by 2m₀ + J.  A small
m₀ closes that gap at the start of the path, a large m₀ lengthens the path and lowers the gap
in its middle.  At N = 8, a = 0.5, m = 0.1 (a scan of m₀ ∈ {0.25, 0.5, 0.75, 1, 2}, T ∈ [10, 60],
all ramps) m₀ = 0.5 gave the highest fidelity per unit T at θ = π/2 and equal-best at θ = 0, π/4;
the minimum gap along the path is then the gap of the target model, not of the start.

The couplings at time t are turned into Pauli coefficients by
:func:`qlat.theories.schwinger_qubit.schwinger_terms` (:meth:`AdiabaticSchedule.terms_at`).
Because the coefficients are linear in w, in m cos θ and m sin θ (rotated) or in w, m, ϑ and ϑ²
with ϑ = θ/2π (electric), the path is also available as a fixed set of coefficient
*components* with scalar weights (:meth:`AdiabaticSchedule.terms_basis`); the Trotter circuits
and the fast simulator are built from that decomposition, which also lets θ be a circuit
:class:`~qiskit.circuit.Parameter`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms, schwinger_terms

__all__ = [
    "RAMPS",
    "AdiabaticSchedule",
    "TermsBasis",
    "backend_default_schedule",
    "default_schedule",
    "schedule_for",
    "combine_terms",
]

#: Ramp shapes s(u), u = t/T ∈ [0, 1].
RAMPS: tuple[str, ...] = ("linear", "smoothstep", "sin2", "smootherstep")

#: Default initial mass m₀ (units of g); see the module docstring.
DEFAULT_INITIAL_MASS = 0.5


def _ramp_value(ramp: str, u: float) -> float:
    if ramp == "linear":
        return u
    if ramp == "smoothstep":
        return u * u * (3.0 - 2.0 * u)
    if ramp == "smootherstep":
        return u * u * u * (10.0 + u * (6.0 * u - 15.0))
    return math.sin(0.5 * math.pi * u) ** 2


def _cos(x: Any) -> Any:
    return math.cos(x) if isinstance(x, (int, float, np.floating, np.integer)) else x.cos()


def _sin(x: Any) -> Any:
    return math.sin(x) if isinstance(x, (int, float, np.floating, np.integer)) else x.sin()


def combine_terms(components: Sequence[SchwingerTerms], weights: Sequence[float]) -> SchwingerTerms:
    """Σ_k weights[k]·components[k], coefficient by coefficient (numeric weights only)."""
    require(len(components) == len(weights) and len(components) > 0, "weights",
            "must have one weight per component", len(weights))
    hopping = sum(float(g) * c.hopping for g, c in zip(weights, components))
    z = sum(float(g) * c.z for g, c in zip(weights, components))
    zz = sum(float(g) * c.zz for g, c in zip(weights, components))
    constant = float(sum(float(g) * c.constant for g, c in zip(weights, components)))
    return SchwingerTerms(hopping=np.asarray(hopping, dtype=float), z=np.asarray(z, dtype=float),
                          zz=np.asarray(zz, dtype=float), constant=constant)


@dataclass(frozen=True)
class TermsBasis:
    r"""A time-dependent Hamiltonian as fixed components with scalar weights.

    .. math:: H(t) = \sum_k g_k(t)\, H_k

    components: the H_k as :class:`SchwingerTerms`; labels: their names; static[k] is True when
    g_k(t) ≡ 1 (the part that does not change along the path, e.g. the electric energy);
    ``weights(t, theta=None)`` returns (g_0(t), …).  ``theta`` replaces the model's θ and may be
    a Qiskit ``Parameter``/``ParameterExpression``, in which case the weights are expressions.
    """

    components: tuple[SchwingerTerms, ...]
    labels: tuple[str, ...]
    static: tuple[bool, ...]
    weight_function: Callable[[float, Any], tuple] = field(repr=False)

    @property
    def n_qubits(self) -> int:
        return self.components[0].n_qubits

    def weights(self, t: float, *, theta: Any = None) -> tuple:
        """(g_0(t), g_1(t), …); expressions when ``theta`` is a circuit parameter."""
        return tuple(self.weight_function(t, theta))

    def terms_at(self, t: float) -> SchwingerTerms:
        """Σ_k g_k(t) H_k as :class:`SchwingerTerms` (equals the schedule's ``terms_at``)."""
        return combine_terms(self.components, self.weights(t))


#: Most Trotter steps a schedule may have (a typo like dt = 1e-9 must not hang the machine).
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class AdiabaticSchedule:
    r"""A ramp from the bare vacuum (w = 0, m = m₀, θ = 0) to the target model in time T.

    Parameters
    ----------
    total_time:   T > 0 (units of 1/g).
    dt:           Trotter step, 0 < dt ≤ T, and dt must divide T (to 1e-9 relative);
                  ``n_steps = round(T/dt)``.
    initial_mass: m₀ ≥ 0, the mass at t = 0 (default 0.5, see the module docstring).
    ramp:         ``"linear"`` (arXiv:2001.00485), ``"smoothstep"``, ``"sin2"`` or ``"smootherstep"``.

    Couplings at time t (J fixed):  w(t) = s w,  m(t) = (1 − s) m₀ + s m,  θ(t) = s θ
    with s = s(t/T) the ramp; the staggered mass offset of ``mass_shift`` is ramped as s·δ, so
    that H(0) (and its bare-vacuum ground state) does not depend on the shift.
    """

    total_time: float
    dt: float
    initial_mass: float = DEFAULT_INITIAL_MASS
    ramp: str = "linear"

    def __post_init__(self) -> None:
        T, dt = self.total_time, self.dt
        require(isinstance(T, (int, float, np.floating, np.integer)) and math.isfinite(T) and T > 0,
                "total_time", "must be a finite number > 0", T)
        require(isinstance(dt, (int, float, np.floating, np.integer)) and math.isfinite(dt) and 0 < dt <= T,
                "dt", f"must satisfy 0 < dt <= total_time = {T}", dt)
        n = round(T / dt)
        require(n <= MAX_STEPS, "dt", f"gives {n:.3g} Trotter steps (total_time/dt); at most {MAX_STEPS:,}", dt)
        require(abs(n * dt - T) <= 1e-9 * T, "dt",
                f"must divide total_time = {T} (T/dt = {T / dt} is not an integer)", dt)
        require(math.isfinite(self.initial_mass) and self.initial_mass >= 0, "initial_mass",
                "must be a finite number >= 0 (the bare vacuum is the w = 0 ground state only for m0 >= 0)",
                self.initial_mass)
        if self.ramp not in RAMPS:
            raise ParameterError("ramp", f"must be one of {', '.join(RAMPS)}", self.ramp)

    @property
    def n_steps(self) -> int:
        """Number of Trotter steps, round(T/dt)."""
        return int(round(self.total_time / self.dt))

    def ramp_value(self, t: float) -> float:
        """s(t) ∈ [0, 1]; ``t`` must lie in [0, T]."""
        T = self.total_time
        require(math.isfinite(t) and -1e-12 * T <= t <= T * (1 + 1e-12), "t",
                f"must lie in [0, total_time = {T}]", t)
        u = min(max(t / T, 0.0), 1.0)
        return _ramp_value(self.ramp, u)

    def couplings(self, model: SchwingerModel, t: float) -> dict:
        """{"w", "J", "mass", "theta", "mass_offset"} at time t (see the class docstring)."""
        s = self.ramp_value(t)
        return {
            "w": s * model.w,
            "J": model.J,
            "mass": (1.0 - s) * self.initial_mass + s * model.mass,
            "theta": s * model.theta,
            "mass_offset": s * model.mass_offset,
        }

    def terms_at(self, model: SchwingerModel, t: float) -> SchwingerTerms:
        """Pauli coefficients of H(t), from :func:`schwinger_terms` with the couplings at t."""
        return schwinger_terms(model.n_sites, formulation=model.formulation, **self.couplings(model, t))

    def times(self) -> np.ndarray:
        """The n_steps + 1 times t_k = k·dt, k = 0..n_steps."""
        return np.linspace(0.0, self.total_time, self.n_steps + 1)

    def terms_basis(self, model: SchwingerModel) -> TermsBasis:
        r"""The path as components with scalar weights, H(t) = Σ_k g_k(t) H_k.

        rotated:  H = H_J + w(t)·H_w + [m(t)cos θ(t) − δ(t)]·H_c + m(t) sin θ(t)·H_s
        electric: H = H_J + ϑ(t)·H_ϑ + ϑ(t)²·H_ϑ² + w(t)·H_w + [m(t) − δ(t)]·H_m,  ϑ = θ/2π
        with δ(t) = s·δ the ramped mass-shift offset.

        Each H_k is obtained from :func:`schwinger_terms` at unit couplings (differences of
        two calls isolate the sin θ and the ϑ, ϑ² parts exactly).
        """
        n, J, form = model.n_sites, model.J, model.formulation
        w, m, theta, m0 = model.w, model.mass, model.theta, self.initial_mass
        delta = model.mass_offset

        def st(**kw: float) -> SchwingerTerms:
            args = {"w": 0.0, "J": 0.0, "mass": 0.0, "theta": 0.0}
            args.update(kw)
            return schwinger_terms(n, formulation=form, **args)

        h_J = st(J=J)
        h_w = st(w=1.0)
        ramp = self.ramp_value

        if form == "rotated":
            h_c = st(mass=1.0)
            h_s = combine_terms([st(mass=1.0, theta=math.pi / 2), st(mass=1.0, theta=-math.pi / 2)], [0.5, -0.5])

            def rotated_weights(t: float, th: Any) -> tuple:
                s = ramp(t)
                mt = (1.0 - s) * m0 + s * m
                ang = s * (theta if th is None else th)
                return (1.0, s * w, mt * _cos(ang) - s * delta, mt * _sin(ang))

            return TermsBasis((h_J, h_w, h_c, h_s), ("electric", "hopping", "mass_cos", "mass_sin"),
                              (True, False, False, False), rotated_weights)

        plus, minus = st(J=J, theta=2 * math.pi), st(J=J, theta=-2 * math.pi)  # ϑ = ±1
        h_lin = combine_terms([plus, minus], [0.5, -0.5])
        h_quad = combine_terms([plus, minus, h_J], [0.5, 0.5, -1.0])
        h_m = st(mass=1.0)

        def weights(t: float, th: Any) -> tuple:
            s = ramp(t)
            vt = s * (theta if th is None else th) / (2 * math.pi)
            return (1.0, vt, vt * vt, s * w, (1.0 - s) * m0 + s * m - s * delta)

        return TermsBasis((h_J, h_lin, h_quad, h_w, h_m), ("electric", "theta", "theta2", "hopping", "mass"),
                          (True, False, False, False, False), weights)


def default_schedule(model: SchwingerModel, *, dt: float | None = None) -> AdiabaticSchedule:
    r"""The schedule qlat uses when none is given: T = 60/g, dt = 0.05/g, m₀ = 0.5, ``"smootherstep"``.

    ``dt``: another time step on the same path (``None``: 0.05).  The ``tdvp`` backend uses
    dt = 0.5 (:attr:`~qlat.quantum.simulators.AdiabaticSimulator.default_dt`): it has no Trotter
    splitting, only the exponential midpoint rule in time, whose error at dt = 0.5 is ~1e-5 in
    the energy at N = 16 (``benchmarks/results/tdvp_adiabatic.json``) and is measured by its 2dt
    rerun; the adiabatic error, set by T and the ramp, is the same as here.

    Chosen so that the adiabatic *and* the Trotter error of an observable stay well below 1e-3
    at N = 8, a = 0.5, m = 0.1, θ ∈ {0, π/4, π/2} (both formulations): fidelity with the exact
    ground state ≥ 0.99999 and the condensate within 2e-4 of exact diagonalization
    (``tests/quantum/test_adiabatic.py``).  Why so demanding: an observable's error is *linear*
    in the leaked amplitude, 2√(1−F)|⟨e|O|g⟩|, so F = 0.99998 can still mean 1e-3 in the
    condensate; and the second-order Trotter bias of the condensate at dt = 0.1 is ≈ 5e-4 here
    (4× less at dt = 0.05).  The quintic ramp reaches this at T = 60; with the linear ramp of
    arXiv:2001.00485 the condensate is still off by 1e-3–6e-3 at T = 50 (its leakage falls
    only like 1/T).
    The cost scales with T/dt = 1200 steps; for hardware runs choose a much shorter schedule.
    Near a narrow avoided crossing (θ → π at m ≳ 0.33 in the rotated formulation,
    arXiv:2411.01079) no practical schedule is adiabatic: :func:`qlat.quantum.adiabatic_run.run_adiabatic`
    checks the gap along the path (:func:`qlat.quantum.diagnostics.landau_zener`) and warns.
    """
    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    return AdiabaticSchedule(total_time=60.0, dt=0.05 if dt is None else dt, initial_mass=DEFAULT_INITIAL_MASS,
                             ramp="smootherstep")


def backend_default_schedule(model: SchwingerModel, backend: str | None) -> AdiabaticSchedule:
    """:func:`default_schedule` at the time step of the simulator ``backend`` (its ``default_dt``;
    an unknown name or a device: the default step)."""
    from qlat.core.backend import get_backend

    dt = None
    if backend:
        try:
            dt = getattr(get_backend(backend), "default_dt", None)
        except ParameterError:  # an unknown backend is reported where it is used
            pass
    return default_schedule(model, dt=dt)


def schedule_for(model: SchwingerModel, *, backend: str | None = None, total_time: float | None = None,
                 dt: float | None = None, ramp: str | None = None,
                 initial_mass: float | None = None) -> AdiabaticSchedule:
    """:func:`backend_default_schedule` of ``backend`` with the parts given replaced (None: the
    default's).  A ``total_time`` T given without ``dt`` shortens the default step so that it
    divides T: dt = T / ⌈T/dt₀⌉ (a T shorter than the default step: one step, dt = T)."""
    sched = backend_default_schedule(model, backend)
    changes: dict[str, Any] = {}
    if total_time is not None:
        changes["total_time"] = total_time
        if dt is None and math.isfinite(total_time) and total_time > 0:
            changes["dt"] = total_time / max(1, math.ceil(total_time / sched.dt - 1e-9))
    if dt is not None:
        changes["dt"] = dt
    if ramp is not None:
        changes["ramp"] = ramp
    if initial_mass is not None:
        changes["initial_mass"] = initial_mass
    return dataclasses.replace(sched, **changes) if changes else sched

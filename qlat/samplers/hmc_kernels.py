r"""Fused, compiled (numba) molecular-dynamics trajectories for HMC on two-dimensional lattices.

One call does a whole HMC update of every chain — momenta (Box–Muller from uniforms drawn by
the sampler's torch generator), all force evaluations, kicks and drifts, H = ½Σp² + S at both
ends, the Metropolis test and the canonical representative — instead of ~190 separate torch operations of
~13 µs overhead each (which dominate at L = 16 and a few chains).  Each chain's fields stay in
cache for the whole trajectory.  The integrator is given as a schedule of kicks p ← p − c·ε·F(q)
and drifts q ← q + c·ε·p (:func:`integrator_schedule`), the same sequence as
:mod:`qlat.samplers.integrators` (merged kicks), so both paths agree to rounding.

Kernels (selected by the name a theory gives in its ``hmc_kernel()`` hook):

- ``"u1-wilson-2d"``: S = −β Σ_x cos θ_01(x), θ_01(x) = θ_0(x) + θ_1(x+0̂) − θ_0(x+1̂) − θ_1(x),
  F_0(x) = β[sin θ_01(x) − sin θ_01(x−1̂)], F_1(x) = β[sin θ_01(x−0̂) − sin θ_01(x)]
  (:mod:`qlat.theories.u1`);
- ``"phi4-2d"``: S = Σ_x [(4 + m²)φ² + λφ⁴ − 2φ_x Σ_μ φ_{x+μ̂}],
  F = 2(4 + m²)φ − 2Σ_μ(φ_{x+μ̂} + φ_{x−μ̂}) + 4λφ³ (:mod:`qlat.theories.phi4`).

sin and cos are evaluated by :func:`_sin`/:func:`_cos`: Cody–Waite reduction by π/2 and the
fdlibm minimax polynomials (≤ 1–2 ulp for the plaquette angles here), written out because
LLVM can vectorize polynomials but not calls to libm, and without SVML numba's ``math.sin`` is a
scalar call — the sin/cos of the plaquettes are the bound of a U(1) trajectory.  Any accurate
sine gives an exact HMC: the molecular dynamics only has to be reversible and area-preserving,
and H at both ends is this module's action, which equals the theory's to ~1e-15 relative.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["KERNELS", "fused_hmc_step", "integrator_schedule", "standard_normal_from_uniforms"]

#: Kernel names a theory may return from ``hmc_kernel()``.
KERNELS: tuple[str, ...] = ("u1-wilson-2d", "phi4-2d")

_KICK, _DRIFT = 0, 1

# Cody–Waite split of π/2 and the fdlibm kernel polynomials (__kernel_sin, __kernel_cos).
_TWO_OVER_PI = 0.63661977236758134308
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_3 = 2.02226624871116645580e-21
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


@nb.njit(cache=True, nogil=True, inline="always")
def _reduce(x):  # pragma: no cover - compiled
    k = math.floor(x * _TWO_OVER_PI + 0.5)
    r = ((x - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    return r, np.int64(k)


@nb.njit(cache=True, nogil=True, inline="always")
def _sin_poly(r):  # pragma: no cover - compiled
    z = r * r
    return r + r * z * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))


@nb.njit(cache=True, nogil=True, inline="always")
def _cos_poly(r):  # pragma: no cover - compiled
    z = r * r
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + z * z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6))))))


@nb.njit(cache=True, nogil=True, inline="always")
def _sin_quadrant(x, shift):  # pragma: no cover - compiled
    """sin(x + shift·π/2) for shift 0 (sine) or 1 (cosine): the quadrant k of x selects ±sin r or ±cos r."""
    r, k = _reduce(x)
    k = k + shift
    s = _sin_poly(r)  # both polynomials, then a select: branch-free, so LLVM vectorizes the loops
    c = _cos_poly(r)
    v = c if k & 1 else s
    return -v if k & 2 else v


@nb.njit(cache=True, nogil=True, inline="always")
def _sin(x):  # pragma: no cover - compiled
    return _sin_quadrant(x, 0)


@nb.njit(cache=True, nogil=True, inline="always")
def _cos(x):  # pragma: no cover - compiled
    return _sin_quadrant(x, 1)


def integrator_schedule(name: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(kinds, coefficients): the kicks (kind 0, p −= c ε F) and drifts (kind 1, q += c ε p) in order.

    The sequences of :func:`qlat.samplers.integrators.leapfrog` / ``omelyan`` with their merged
    kicks (n + 1 and 2n + 1 force evaluations).
    """
    from qlat.samplers.integrators import OMELYAN_LAMBDA

    ops: list[tuple[int, float]] = []
    if name == "leapfrog":
        ops.append((_KICK, 0.5))
        for i in range(n_steps):
            ops += [(_DRIFT, 1.0), (_KICK, 1.0 if i < n_steps - 1 else 0.5)]
    elif name == "omelyan":
        lam = OMELYAN_LAMBDA
        ops.append((_KICK, lam))
        for i in range(n_steps):
            ops += [(_DRIFT, 0.5), (_KICK, 1.0 - 2.0 * lam), (_DRIFT, 0.5),
                    (_KICK, 2.0 * lam if i < n_steps - 1 else lam)]
    else:
        raise ValueError(f"unknown integrator {name!r}")
    return np.array([k for k, _ in ops], dtype=np.int64), np.array([c for _, c in ops], dtype=np.float64)


# --------------------------------------------------------------------------- U(1), Wilson, 2D
@nb.njit(cache=True, nogil=True, inline="always")
def _u1_sines(q, s, beta):  # pragma: no cover - compiled
    """s(x) = β sin θ_01(x) for one chain; q has shape (2, L0, L1)."""
    n0, n1 = s.shape
    for x0 in range(n0):
        u0 = x0 + 1 if x0 + 1 < n0 else 0
        for x1 in range(n1 - 1):
            s[x0, x1] = beta * _sin(((q[1, u0, x1] + q[0, x0, x1]) - q[0, x0, x1 + 1]) - q[1, x0, x1])
        x1 = n1 - 1
        s[x0, x1] = beta * _sin(((q[1, u0, x1] + q[0, x0, x1]) - q[0, x0, 0]) - q[1, x0, x1])


@nb.njit(cache=True, nogil=True, inline="always")
def _u1_action(q, beta):  # pragma: no cover - compiled
    n0, n1 = q.shape[1], q.shape[2]
    total = 0.0
    for x0 in range(n0):
        u0 = x0 + 1 if x0 + 1 < n0 else 0
        row = 0.0
        for x1 in range(n1 - 1):
            row += _cos(((q[1, u0, x1] + q[0, x0, x1]) - q[0, x0, x1 + 1]) - q[1, x0, x1])
        x1 = n1 - 1
        row += _cos(((q[1, u0, x1] + q[0, x0, x1]) - q[0, x0, 0]) - q[1, x0, x1])
        total += row
    return -beta * total


@nb.njit(cache=True, nogil=True, inline="always")
def _accept(dh, u):  # pragma: no cover - compiled
    if dh != dh:  # a diverged trajectory (NaN) is rejected
        dh = math.inf
    return dh, math.log(u) < -dh


@nb.njit(cache=True, nogil=True, inline="always")
def _wrap(a):  # pragma: no cover - compiled
    # arg e^{iα} in (−π, π], the formula of qlat.theories.u1.wrap_angle
    return a - 2.0 * math.pi * math.ceil((a - math.pi) / (2.0 * math.pi))


@nb.njit(cache=True, nogil=True)
def _u1_step(q, p, u_acc, beta, eps, kinds, coeffs, dh_out, acc_out):  # pragma: no cover - compiled
    chains, _, n0, n1 = q.shape
    s = np.empty((n0, n1))
    q0 = np.empty((2, n0, n1))
    for c in range(chains):
        qc = q[c]
        pc = p[c]
        q0[:] = qc
        h0 = 0.5 * np.sum(pc * pc) + _u1_action(qc, beta)
        for t in range(kinds.size):
            a = coeffs[t] * eps
            if kinds[t] == _DRIFT:
                for mu in range(2):
                    for x0 in range(n0):
                        for x1 in range(n1):
                            qc[mu, x0, x1] += a * pc[mu, x0, x1]
                continue
            _u1_sines(qc, s, beta)
            for x0 in range(n0):
                d0 = x0 - 1 if x0 > 0 else n0 - 1
                # F_0(x) = s(x) − s(x − 1̂),  F_1(x) = s(x − 0̂) − s(x)
                pc[0, x0, 0] -= a * (s[x0, 0] - s[x0, n1 - 1])
                for x1 in range(1, n1):
                    pc[0, x0, x1] -= a * (s[x0, x1] - s[x0, x1 - 1])
                for x1 in range(n1):
                    pc[1, x0, x1] -= a * (s[d0, x1] - s[x0, x1])
        h1 = 0.5 * np.sum(pc * pc) + _u1_action(qc, beta)
        dh, accepted = _accept(h1 - h0, u_acc[c])
        dh_out[c] = dh
        acc_out[c] = accepted
        if not accepted:
            qc[:] = q0
        for mu in range(2):  # canonical representative, as U1Theory.canonicalize
            for x0 in range(n0):
                for x1 in range(n1):
                    qc[mu, x0, x1] = _wrap(qc[mu, x0, x1])


# --------------------------------------------------------------------------- φ⁴, 2D
@nb.njit(cache=True, nogil=True, inline="always")
def _phi4_action(f, mass_term, lam):  # pragma: no cover - compiled
    n0, n1 = f.shape
    total = 0.0
    for x0 in range(n0):
        u0 = x0 + 1 if x0 + 1 < n0 else 0
        row = 0.0
        for x1 in range(n1):
            u1 = x1 + 1 if x1 + 1 < n1 else 0
            v = f[x0, x1]
            v2 = v * v
            row += (mass_term * v2 + lam * v2 * v2) - 2.0 * (v * (f[x0, u1] + f[u0, x1]))
        total += row
    return total


@nb.njit(cache=True, nogil=True, inline="always")
def _phi4_kick_site(row, up, down, prow, x1, right, left, mass_term, lam, a):  # pragma: no cover - compiled
    v = row[x1]
    nb_sum = ((up[x1] + row[right]) + down[x1]) + row[left]
    prow[x1] -= a * (-2.0 * nb_sum + 2.0 * mass_term * v + 4.0 * lam * (v * v * v))


@nb.njit(cache=True, nogil=True)
def _phi4_step(q, p, u_acc, mass_term, lam, eps, kinds, coeffs, dh_out, acc_out):  # pragma: no cover - compiled
    chains, n0, n1 = q.shape
    q0 = np.empty((n0, n1))
    for c in range(chains):
        qc = q[c]
        pc = p[c]
        q0[:] = qc
        h0 = 0.5 * np.sum(pc * pc) + _phi4_action(qc, mass_term, lam)
        for t in range(kinds.size):
            a = coeffs[t] * eps
            if kinds[t] == _DRIFT:
                for x0 in range(n0):
                    for x1 in range(n1):
                        qc[x0, x1] += a * pc[x0, x1]
                continue
            # F = 2(2d + m²)φ − 2 Σ_μ (φ_{x+μ̂} + φ_{x−μ̂}) + 4λφ³; q is fixed during a kick
            for x0 in range(n0):
                row = qc[x0]
                up = qc[x0 + 1 if x0 + 1 < n0 else 0]
                down = qc[x0 - 1 if x0 > 0 else n0 - 1]
                prow = pc[x0]
                _phi4_kick_site(row, up, down, prow, 0, 1, n1 - 1, mass_term, lam, a)
                for x1 in range(1, n1 - 1):  # interior: no wrap-around, vectorized
                    _phi4_kick_site(row, up, down, prow, x1, x1 + 1, x1 - 1, mass_term, lam, a)
                if n1 > 1:
                    _phi4_kick_site(row, up, down, prow, n1 - 1, 0, n1 - 2, mass_term, lam, a)
        h1 = 0.5 * np.sum(pc * pc) + _phi4_action(qc, mass_term, lam)
        dh, accepted = _accept(h1 - h0, u_acc[c])
        dh_out[c] = dh
        acc_out[c] = accepted
        if not accepted:
            qc[:] = q0


@nb.njit(cache=True, nogil=True)
def _box_muller(u, out):  # pragma: no cover - compiled
    """out[k] = √(−2 log(1 − u_k)) cos 2πu_{h+k}, out[h+k] = (same r) sin 2πu_{h+k}, h = len(u)/2."""
    half = u.size // 2
    n = out.size
    for k in range(half):
        r = math.sqrt(-2.0 * math.log1p(-u[k]))
        angle = 2.0 * math.pi * u[half + k]
        out[k] = r * _cos(angle)
        if half + k < n:
            out[half + k] = r * _sin(angle)


def standard_normal_from_uniforms(uniforms: np.ndarray, n: int) -> np.ndarray:
    """n standard normals by Box–Muller from 2⌈n/2⌉ uniforms, in the layout of
    :func:`qlat.samplers.hmc.standard_normal` (cosines first, then sines)."""
    out = np.empty(n)
    _box_muller(np.ascontiguousarray(uniforms, dtype=np.float64), out)
    return out


def fused_hmc_step(kernel: str, params: tuple[float, ...], fields: np.ndarray, momentum_uniforms: np.ndarray,
                   accept_uniforms: np.ndarray, *, step_size: float, schedule: tuple[np.ndarray, np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One HMC update of every chain: (new fields, accepted, ΔH); ``fields`` is not modified.

    Momenta by Box–Muller from ``momentum_uniforms`` (2⌈n/2⌉ values), the trajectory of
    ``schedule`` (:func:`integrator_schedule`) with step ``step_size``, ΔH = H_end − H_start
    (NaN → +inf), accepted where log u < −ΔH with u from ``accept_uniforms`` (one per chain),
    rejected chains back at their start; U(1) links mapped into (−π, π].  ``kernel``/``params``
    are a theory's ``hmc_kernel()`` answer, e.g. ``("u1-wilson-2d", (β,))``.
    """
    kinds, coeffs = schedule
    q = np.array(fields, dtype=np.float64, order="C")
    p = standard_normal_from_uniforms(momentum_uniforms, q.size).reshape(q.shape)
    u_acc = np.ascontiguousarray(accept_uniforms, dtype=np.float64)
    dh = np.empty(q.shape[0])
    accepted = np.empty(q.shape[0], dtype=np.bool_)
    if kernel == "u1-wilson-2d":
        (beta,) = params
        _u1_step(q, p, u_acc, float(beta), float(step_size), kinds, coeffs, dh, accepted)
    elif kernel == "phi4-2d":
        m2, lam = params
        _phi4_step(q, p, u_acc, 4.0 + float(m2), float(lam), float(step_size), kinds, coeffs, dh, accepted)
    else:
        raise ValueError(f"unknown HMC kernel {kernel!r}; known: {', '.join(KERNELS)}")
    return q, accepted, dh

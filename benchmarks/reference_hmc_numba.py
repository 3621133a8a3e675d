"""A plain numba HMC for 2D U(1) (Wilson) and φ⁴: the independent reference of benchmarks/bench_hmc.py.

Written the way one writes an HMC in numba without tuning: every chain, every trajectory and
every leapfrog step in one compiled loop nest, libm ``math.sin``/``math.cos``, numba's own
``np.random`` for momenta and the Metropolis test, the force recomputed from the plaquettes
(or neighbours) at each kick.  Same algorithm as qlat's HMC: p ~ N(0, 1), leapfrog
P(ε/2) [Q(ε) P(ε)]… Q(ε) P(ε/2), accept with min(1, e^{−ΔH}).

U(1): S = −β Σ_x cos θ_01(x), θ_01 = θ_0(x) + θ_1(x+0̂) − θ_0(x+1̂) − θ_1(x);
φ⁴:  S = Σ_x [(4 + m²)φ² + λφ⁴ − 2φ_x Σ_μ φ_{x+μ̂}]  (conventions of qlat.theories).

:func:`u1_delta_h` / :func:`phi4_delta_h` integrate one trajectory from given (q, p) and return
ΔH per chain, so the benchmark checks that this reference and qlat compute the same thing.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _u1_plaq(q, x0, x1):
    n0, n1 = q.shape[1], q.shape[2]
    return q[0, x0, x1] + q[1, (x0 + 1) % n0, x1] - q[0, x0, (x1 + 1) % n1] - q[1, x0, x1]


@nb.njit(cache=True)
def _u1_action(q, beta):
    total = 0.0
    for x0 in range(q.shape[1]):
        for x1 in range(q.shape[2]):
            total += math.cos(_u1_plaq(q, x0, x1))
    return -beta * total


@nb.njit(cache=True)
def _u1_kick(q, p, beta, a, s):
    n0, n1 = q.shape[1], q.shape[2]
    for x0 in range(n0):
        for x1 in range(n1):
            s[x0, x1] = beta * math.sin(_u1_plaq(q, x0, x1))
    for x0 in range(n0):
        for x1 in range(n1):
            p[0, x0, x1] -= a * (s[x0, x1] - s[x0, (x1 - 1) % n1])
            p[1, x0, x1] -= a * (s[(x0 - 1) % n0, x1] - s[x0, x1])


@nb.njit(cache=True)
def _u1_leapfrog(q, p, beta, eps, n_steps, s):
    _u1_kick(q, p, beta, 0.5 * eps, s)
    for i in range(n_steps):
        q += eps * p
        _u1_kick(q, p, beta, eps if i < n_steps - 1 else 0.5 * eps, s)


@nb.njit(cache=True)
def u1_hmc(q, beta, eps, n_steps, n_traj, seed):
    """``n_traj`` HMC trajectories of every chain of q (chains, 2, L0, L1), in place; acceptance rate."""
    np.random.seed(seed)
    s = np.empty(q.shape[2:])
    accepted = 0
    for _ in range(n_traj):
        for c in range(q.shape[0]):
            q0 = q[c].copy()
            p = np.random.standard_normal(q[c].shape)
            h0 = 0.5 * np.sum(p * p) + _u1_action(q[c], beta)
            _u1_leapfrog(q[c], p, beta, eps, n_steps, s)
            h1 = 0.5 * np.sum(p * p) + _u1_action(q[c], beta)
            if np.random.random() < math.exp(min(0.0, h0 - h1)):
                accepted += 1
            else:
                q[c] = q0
    return accepted / (n_traj * q.shape[0])


@nb.njit(cache=True)
def u1_delta_h(q, p, beta, eps, n_steps):
    """ΔH of one leapfrog trajectory from (q, p) for every chain (inputs not modified)."""
    out = np.empty(q.shape[0])
    s = np.empty(q.shape[2:])
    for c in range(q.shape[0]):
        qc = q[c].copy()
        pc = p[c].copy()
        h0 = 0.5 * np.sum(pc * pc) + _u1_action(qc, beta)
        _u1_leapfrog(qc, pc, beta, eps, n_steps, s)
        out[c] = 0.5 * np.sum(pc * pc) + _u1_action(qc, beta) - h0
    return out


@nb.njit(cache=True)
def _phi4_action(f, m2, lam):
    n0, n1 = f.shape
    total = 0.0
    for x0 in range(n0):
        for x1 in range(n1):
            v = f[x0, x1]
            total += (4.0 + m2) * v * v + lam * v ** 4 - 2.0 * v * (f[(x0 + 1) % n0, x1] + f[x0, (x1 + 1) % n1])
    return total


@nb.njit(cache=True)
def _phi4_kick(f, p, m2, lam, a):
    n0, n1 = f.shape
    for x0 in range(n0):
        for x1 in range(n1):
            v = f[x0, x1]
            nb_sum = f[(x0 + 1) % n0, x1] + f[(x0 - 1) % n0, x1] + f[x0, (x1 + 1) % n1] + f[x0, (x1 - 1) % n1]
            p[x0, x1] -= a * (2.0 * (4.0 + m2) * v - 2.0 * nb_sum + 4.0 * lam * v ** 3)


@nb.njit(cache=True)
def _phi4_leapfrog(f, p, m2, lam, eps, n_steps):
    _phi4_kick(f, p, m2, lam, 0.5 * eps)
    for i in range(n_steps):
        f += eps * p
        _phi4_kick(f, p, m2, lam, eps if i < n_steps - 1 else 0.5 * eps)


@nb.njit(cache=True)
def phi4_hmc(q, m2, lam, eps, n_steps, n_traj, seed):
    """``n_traj`` HMC trajectories of every chain of q (chains, L0, L1), in place; acceptance rate."""
    np.random.seed(seed)
    accepted = 0
    for _ in range(n_traj):
        for c in range(q.shape[0]):
            q0 = q[c].copy()
            p = np.random.standard_normal(q[c].shape)
            h0 = 0.5 * np.sum(p * p) + _phi4_action(q[c], m2, lam)
            _phi4_leapfrog(q[c], p, m2, lam, eps, n_steps)
            h1 = 0.5 * np.sum(p * p) + _phi4_action(q[c], m2, lam)
            if np.random.random() < math.exp(min(0.0, h0 - h1)):
                accepted += 1
            else:
                q[c] = q0
    return accepted / (n_traj * q.shape[0])


@nb.njit(cache=True)
def phi4_delta_h(q, p, m2, lam, eps, n_steps):
    """ΔH of one leapfrog trajectory from (q, p) for every chain (inputs not modified)."""
    out = np.empty(q.shape[0])
    for c in range(q.shape[0]):
        qc = q[c].copy()
        pc = p[c].copy()
        h0 = 0.5 * np.sum(pc * pc) + _phi4_action(qc, m2, lam)
        _phi4_leapfrog(qc, pc, m2, lam, eps, n_steps)
        out[c] = 0.5 * np.sum(pc * pc) + _phi4_action(qc, m2, lam) - h0
    return out

r"""Symplectic, time-reversible integrators of Hamilton's equations for HMC.

H(q, p) = ½ Σ p² + S(q), so q̇ = p and ṗ = −F(q) with F = ∂S/∂q.  Both integrators below are
symmetric compositions of the exact flows of the kinetic and potential parts, hence symplectic
and reversible (flip p, integrate again, flip p: back to the start), with energy violation
ΔH = O(ε²) per trajectory of fixed length (ε the step size):

- ``leapfrog`` (velocity Verlet): P(ε/2) Q(ε) P(ε/2), one force evaluation per step.
- ``omelyan`` (second-order minimum norm, "2MN"; Omelyan, Mryglod, Folk, Comput. Phys. Commun.
  151 (2003) 272; Takaishi & de Forcrand hep-lat/0505020):
  P(λε) Q(ε/2) P((1−2λ)ε) Q(ε/2) P(λε) with λ = 0.1931833275037836, two force evaluations per
  step and a ~10× smaller error coefficient.

Adjacent momentum kicks of consecutive steps are merged, so leapfrog uses n + 1 force calls
and Omelyan 2n + 1 for n steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qlat.core.errors import require

if TYPE_CHECKING:
    import torch

Force = Callable[["torch.Tensor"], "torch.Tensor"]

OMELYAN_LAMBDA = 0.1931833275037836
INTEGRATORS: tuple[str, ...] = ("leapfrog", "omelyan")


def leapfrog(q: "torch.Tensor", p: "torch.Tensor", force: Force, step_size: float, n_steps: int) -> tuple["torch.Tensor", "torch.Tensor"]:
    """n leapfrog steps of size ε; returns new (q, p) (inputs are not modified)."""
    _check(step_size, n_steps)
    eps = float(step_size)
    q = q.clone()
    p = p - 0.5 * eps * force(q)
    for i in range(n_steps):
        q.add_(p, alpha=eps)
        kick = eps if i < n_steps - 1 else 0.5 * eps
        p.sub_(force(q), alpha=kick)
    return q, p


def omelyan(q: "torch.Tensor", p: "torch.Tensor", force: Force, step_size: float, n_steps: int) -> tuple["torch.Tensor", "torch.Tensor"]:
    """n Omelyan 2MN steps of size ε; returns new (q, p) (inputs are not modified)."""
    _check(step_size, n_steps)
    eps = float(step_size)
    lam = OMELYAN_LAMBDA
    q = q.clone()
    p = p - lam * eps * force(q)
    for i in range(n_steps):
        q.add_(p, alpha=0.5 * eps)
        p.sub_(force(q), alpha=(1.0 - 2.0 * lam) * eps)
        q.add_(p, alpha=0.5 * eps)
        kick = 2.0 * lam * eps if i < n_steps - 1 else lam * eps
        p.sub_(force(q), alpha=kick)
    return q, p


def get_integrator(name: str) -> Callable[..., tuple["torch.Tensor", "torch.Tensor"]]:
    """The integrator called ``name`` (``"leapfrog"`` or ``"omelyan"``)."""
    require(name in INTEGRATORS, "integrator", f"must be one of {', '.join(INTEGRATORS)}", name)
    return leapfrog if name == "leapfrog" else omelyan


def _check(step_size: float, n_steps: int) -> None:
    require(isinstance(n_steps, int) and not isinstance(n_steps, bool) and n_steps >= 1, "n_steps", "must be an integer >= 1", n_steps)
    require(float(step_size) > 0, "step_size", "must be > 0", step_size)

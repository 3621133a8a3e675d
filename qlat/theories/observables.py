r"""Classical realizations of the common observables (:mod:`qlat.core.observable_catalogue`).

Every realization is a callable ``fields -> torch.Tensor`` with the batch axis first: one
*per-configuration* quantity whose ensemble average (with the Γ-method of
:mod:`qlat.analysis.statistics`) is the observable.  Quantities that are nonlinear functions of
ensemble averages are :class:`DerivedRealization` objects: calling them gives the per-config
*primaries* (shape ``(batch, k)``), and :meth:`DerivedRealization.derive` maps the ensemble means
of the primaries (floats, numpy arrays or pyerrors ``Obs`` — only arithmetic is used) to the value.

U(1) (:class:`~qlat.theories.u1.U1Theory`):

- ``plaquette``: (1/(V n_planes)) Σ_P cos θ_P, shape ``(batch,)``.
- ``topological_charge``: Q, shape ``(batch,)`` (2D).
- ``q2``: Q², shape ``(batch,)``.
- ``chi_t``: Q²/V, shape ``(batch,)``.
- ``wilson_loop``: Re W(R, T), shape ``(batch, R_max, T_max)``, entry ``[:, R−1, T−1]``.

φ⁴ (:class:`~qlat.theories.phi4.Phi4Theory`):

- ``magnetization``: m = M/V with M = Σ_x φ_x, shape ``(batch,)``.
- ``chi2``: :class:`DerivedRealization` with primaries ``(M, M²)`` per config and
  ``derive(means) = (⟨M²⟩ − ⟨M⟩²)/V`` (arXiv:2101.08176 eq. (24): χ₂ = Σ_x G_c(x)).
- ``two_point``: C(x) = (1/V) Σ_y φ_y φ_{y+x} per config, shape ``(batch, *lattice.shape)``.
  Its ensemble mean is the *full* correlator; the connected one is G_c(x) = ⟨C(x)⟩ − ⟨m⟩²
  (the subtraction vanishes in the symmetric phase, and in any finite volume by φ → −φ
  symmetry once the chain tunnels; subtract ⟨m⟩² from ``magnetization`` otherwise).
  :func:`zero_momentum_correlator` and :func:`effective_mass` give C(t) and m_eff(t).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qlat.core import observable_catalogue as obs
from qlat.core.errors import require
from qlat.theories.phi4 import Phi4Theory
from qlat.theories.u1 import U1Theory

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class DerivedRealization:
    """A per-configuration vector of primaries plus the function of their means that is the value.

    ``realization(fields)`` returns the primaries, shape ``(batch, k)``, named ``primary_names``;
    ``realization.derive(means)`` gives the observable from the k ensemble means (any objects that
    support + − × / and ``**``, e.g. pyerrors ``Obs``, so errors propagate).
    """

    primaries: Callable[["torch.Tensor"], "torch.Tensor"]
    derive: Callable[[Sequence[Any]], Any]
    primary_names: tuple[str, ...]
    description: str = ""

    def __call__(self, fields: "torch.Tensor") -> "torch.Tensor":
        return self.primaries(fields)


# ---------------------------------------------------------------------------------- U(1)
def _q2(theory: U1Theory) -> Callable[["torch.Tensor"], "torch.Tensor"]:
    def q2(fields: "torch.Tensor") -> "torch.Tensor":
        q = theory.topological_charge(fields)
        return q * q

    return q2


def _chi_t(theory: U1Theory) -> Callable[["torch.Tensor"], "torch.Tensor"]:
    volume = theory.lattice.volume

    def chi_t(fields: "torch.Tensor") -> "torch.Tensor":
        q = theory.topological_charge(fields)
        return q * q / volume

    return chi_t


obs.PLAQUETTE.register(U1Theory, lambda theory: theory.mean_plaquette)
obs.TOPOLOGICAL_CHARGE.register(U1Theory, lambda theory: theory.topological_charge)
obs.Q2.register(U1Theory, _q2)
obs.TOPOLOGICAL_SUSCEPTIBILITY.register(U1Theory, _chi_t, unit="lattice")  # ⟨Q²⟩/V, lattice units
obs.WILSON_LOOP.register(U1Theory, lambda theory: theory.wilson_loops)


# ---------------------------------------------------------------------------------- φ⁴
def magnetization(fields: "torch.Tensor") -> "torch.Tensor":
    """m = (1/V) Σ_x φ_x per configuration."""
    return fields.reshape(fields.shape[0], -1).mean(1)


def two_point(fields: "torch.Tensor") -> "torch.Tensor":
    """C(x) = (1/V) Σ_y φ_y φ_{y+x} per configuration (all separations x, by FFT).

    Shape ``(batch, *lattice.shape)``; C(0) = (1/V) Σ_y φ_y².
    """
    import torch

    dims = tuple(range(1, fields.dim()))
    f = torch.fft.fftn(fields, dim=dims)
    volume = 1
    for s in fields.shape[1:]:
        volume *= s
    return torch.fft.ifftn(f.conj() * f, dim=dims).real / volume


def zero_momentum_correlator(fields: "torch.Tensor", *, time_axis: int = 0) -> "torch.Tensor":
    """C(t) = Σ_{x⃗} C(x⃗, t): the two-point function projected to zero spatial momentum.

    Shape ``(batch, L_t)`` with t along lattice axis ``time_axis``.  This is the tutorial's
    G_c(t) = Σ_{x⃗} G_c(x⃗, t) (arXiv:2101.08176 eq. (25)) before the ⟨m⟩² subtraction.
    """
    c = two_point(fields)
    ndim = fields.dim() - 1
    require(0 <= time_axis < ndim, "time_axis", f"must be in 0..{ndim - 1}", time_axis)
    others = tuple(1 + a for a in range(ndim) if a != time_axis)
    return c.sum(dim=others) if others else c


def effective_mass(correlator: "np.ndarray | Sequence[float]") -> "np.ndarray":
    """m_eff(t) = arccosh[(C(t−1) + C(t+1)) / (2C(t))] for t = 1..L_t−2 (periodic-time cosh form).

    Entries where the argument is below 1 (noise) are NaN.
    """
    import numpy as np

    c = np.asarray(correlator, dtype=float)
    require(c.ndim == 1 and c.size >= 3, "correlator", "must be a 1-D array with >= 3 entries", c.shape)
    ratio = (c[:-2] + c[2:]) / (2.0 * c[1:-1])
    with np.errstate(invalid="ignore"):
        return np.where(ratio >= 1.0, np.arccosh(np.maximum(ratio, 1.0)), np.nan)


def _chi2(theory: Phi4Theory) -> DerivedRealization:
    volume = theory.lattice.volume

    def primaries(fields: "torch.Tensor") -> "torch.Tensor":
        import torch

        big_m = fields.reshape(fields.shape[0], -1).sum(1)
        return torch.stack([big_m, big_m * big_m], dim=1)

    def derive(means: Sequence[Any]) -> Any:
        return (means[1] - means[0] ** 2) / volume

    return DerivedRealization(
        primaries=primaries,
        derive=derive,
        primary_names=("M", "M^2"),
        description="chi2 = (<M^2> - <M>^2)/V with M = sum_x phi_x",
    )


obs.MAGNETIZATION.register(Phi4Theory, lambda theory: magnetization)
obs.SUSCEPTIBILITY_CHI2.register(Phi4Theory, _chi2)
obs.TWO_POINT.register(Phi4Theory, lambda theory: two_point)

r"""The Euclidean lattice Schwinger model: 2D U(1) gauge field with N_f Wilson fermions.

Fields are link angles θ_μ(x) as in :mod:`qlat.theories.u1`, shape ``(batch, 2, L₀, L₁)``,
axis 0 Euclidean time (antiperiodic fermions), axis 1 space.  Integrating out N_f degenerate
Wilson fermions (:mod:`qlat.theories.wilson_dirac`) gives the weight |det D|^{N_f} (times the
sign of det D for N_f = 1), i.e. the effective action

.. math::
    S_{\rm eff}[θ] = −β \sum_x \cos θ_{01}(x) − N_f \log|\det D[θ]|,
    \qquad β = 1/(g^2 a^2),

and, for N_f = 1, the sign s[θ] = sign det D, reweighted as ⟨O⟩ = ⟨O s⟩_{|det|}/⟨s⟩_{|det|}.
N_f = 2: det D†D = (det D)² ≥ 0, no sign problem.  :meth:`SchwingerTheory.action` and
:meth:`SchwingerTheory.force` evaluate S_eff exactly (dense LU, small lattices):

.. math:: ∂S_{\rm eff}/∂θ_l = ∂S_g/∂θ_l − N_f \operatorname{Re}\operatorname{Tr}(D^{-1} ∂D/∂θ_l).

The pseudofermion sampler (:mod:`qlat.samplers.pseudofermion`) instead uses
:meth:`gauge_action`, :meth:`gauge_force`, :meth:`dirac` and :meth:`pseudofermion_force`
(the :class:`PseudofermionAction` protocol).

Bare mass m₀ (``--mass``) or hopping parameter κ = 1/(2m₀ + 4) (``--kappa``).  For one flavour
the bare mass may be negative, down to the critical line m_c(β) (Christian et al.,
Nucl. Phys. B 739 (2006) 60: m_c = −0.3204, −0.1968, −0.1351, −0.1033, −0.0840, −0.0719 at
β = 1…6; the one-flavour transition line starts at κ = 0.380665 at β = 0, arXiv:1403.0642); at
or beyond it det D changes sign often and a warning says the error bars become large.

Observables (registered below): ``plaquette``, ``topological_charge``, ``q2``, ``chi_t``
(from the gauge field, as for U(1)), ``psibarpsi`` = Re Tr D⁻¹/V per flavour (exact trace; the
free value is (1/V)Σ_p 2M/(M² + Σ sin²p), :mod:`qlat.exact.wilson_free`) and ``sign`` = sign det D.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from qlat.core import observable_catalogue as obs
from qlat.core.errors import ParameterError, require
from qlat.core.lattice import Lattice
from qlat.core.observable_registry import OBSERVABLES, Observable, define
from qlat.core.options import Option
from qlat.core.registry import THEORIES
from qlat.theories.base import check_field_shape
from qlat.theories.u1 import U1Theory, wrap_angle
from qlat.theories.wilson_dirac import (
    DENSE_MAX_DIM,
    WilsonOperator,
    kappa_from_mass,
    mass_from_kappa,
    wilson_pattern,
)

if TYPE_CHECKING:
    import torch

#: Critical bare masses m_c(β) of 2D Wilson fermions (Christian et al. 2006), β = 1..6.
CRITICAL_MASS_TABLE: tuple[tuple[float, float], ...] = (
    (1.0, -0.3204), (2.0, -0.1968), (3.0, -0.1351), (4.0, -0.1033), (5.0, -0.0840), (6.0, -0.0719),
)
#: Largest 2V for which ``psibarpsi`` is the exact trace (L <= 16); the stochastic estimator beyond.
EXACT_TRACE_MAX_DIM = 512
#: Z₂ noise vectors per configuration of the stochastic ``psibarpsi``.
STOCHASTIC_NOISE = 16
#: κ on the one-flavour transition line at β = 0 (arXiv:1403.0642).
KAPPA_C_STRONG_COUPLING = 0.380665


class SignProblemWarning(UserWarning):
    """N_f = 1 at or beyond the critical line: det D changes sign, the average sign is small."""


def critical_mass(beta: float) -> float:
    """m_c(β): linear interpolation of :data:`CRITICAL_MASS_TABLE` (β = 0 from κ_c = 0.380665),
    and m_c ≈ m_c(6)·6/β beyond β = 6 (the table falls like 1/β).  An approximate line, used for the warning."""
    require(math.isfinite(beta) and beta > 0, "beta", "must be a finite number > 0", beta)
    pts = [(0.0, mass_from_kappa(KAPPA_C_STRONG_COUPLING)), *CRITICAL_MASS_TABLE]
    if beta >= pts[-1][0]:
        return pts[-1][1] * pts[-1][0] / beta
    xs, ys = zip(*pts)
    return float(np.interp(beta, xs, ys))


def critical_kappa(beta: float) -> float:
    """κ_c(β) = 1/(2m_c(β) + 4)."""
    return kappa_from_mass(critical_mass(beta))


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


@runtime_checkable
class PseudofermionAction(Protocol):
    """What a pseudofermion HMC asks of a theory: S = S_g + φ†(D†D)⁻¹φ with its force."""

    nf: int
    field_shape: tuple[int, ...]

    def gauge_action(self, fields: "torch.Tensor") -> "torch.Tensor": ...

    def gauge_force(self, fields: "torch.Tensor") -> "torch.Tensor": ...

    def dirac(self, fields: "torch.Tensor") -> WilsonOperator: ...

    def pseudofermion_force(self, op: WilsonOperator, x: np.ndarray) -> "torch.Tensor": ...


@runtime_checkable
class ExactDeterminantAction(Protocol):
    """A theory whose weight is e^{−S_g}|det D|^{N_f} with a dense determinant available."""

    nf: int

    def effective_action_force_sign(self, fields: "torch.Tensor", *, need_force: bool = True) -> tuple[Any, Any, Any]: ...


@THEORIES.register("schwinger")
class SchwingerTheory:
    """2D U(1) with N_f ∈ {1, 2} degenerate Wilson fermions (module docstring).

    Parameters
    ----------
    lattice: a 2D :class:`~qlat.core.lattice.Lattice` with even extents >= 4.
    beta: β = 1/(g²a²) > 0.
    mass: bare mass m₀ > −2 (give ``mass`` or ``kappa``, not both).
    kappa: hopping parameter κ = 1/(2m₀ + 4) > 0.
    nf: number of flavours, 1 or 2.

    Raises
    ------
    ParameterError
        naming ``beta``, ``mass``, ``kappa``, ``nf`` or ``L`` for a value out of range.
    """

    name = "schwinger"
    OPTIONS: tuple[Option, ...] = (
        Option("--beta", "beta", float, "gauge coupling β = 1/(g²a²) (> 0)", required=True),
        Option("--mass", "mass", float, "schwinger: bare Wilson mass m₀ (> −2); or give --kappa"),
        Option("--kappa", "kappa", float, "schwinger: hopping parameter κ = 1/(2m₀+4) (> 0); or give --mass"),
        Option("--nf", "nf", int, "schwinger: number of Wilson flavours", default=2, choices=(1, 2)),
    )
    DEFAULT_OBSERVABLES: tuple[str, ...] = ("plaquette", "q2", "chi_t", "psibarpsi")

    def __init__(self, lattice: Lattice, *, beta: float, mass: float | None = None, kappa: float | None = None,
                 nf: int = 2) -> None:
        require(isinstance(lattice, Lattice), "lattice", "must be a qlat Lattice", type(lattice).__name__)
        require(lattice.ndim == 2, "ndim", "the Schwinger model is two-dimensional (--ndim 2)", lattice.ndim)
        require(all(s % 2 == 0 and s >= 4 for s in lattice.shape), "L",
                "must be even and >= 4 (Wilson hops need x+μ ≠ x−μ; even extents keep the checkerboard "
                "updates of the pure-gauge samplers and the time reflection consistent)", lattice.shape)
        require(_finite(beta) and float(beta) > 0, "beta", "must be a finite number > 0", beta)
        require(isinstance(nf, (int, np.integer)) and not isinstance(nf, bool) and int(nf) in (1, 2),
                "nf", "must be 1 or 2", nf)
        if (mass is None) == (kappa is None):
            raise ParameterError("mass", "give exactly one of the bare mass m₀ (--mass) and κ (--kappa)",
                                 {"mass": mass, "kappa": kappa})
        if kappa is not None:
            require(_finite(kappa) and float(kappa) > 0, "kappa", "must be a finite number > 0", kappa)
            mass = mass_from_kappa(float(kappa))
        require(mass is not None and _finite(mass) and float(mass) > -2.0, "mass",
                "must be a finite number > -2 (κ > 0)", mass)
        assert mass is not None
        self.lattice = lattice
        self.beta = float(beta)
        self.mass = float(mass)
        self.nf = int(nf)
        self.field_shape: tuple[int, ...] = (2, *lattice.shape)
        self.gauge = U1Theory(lattice, beta=self.beta)
        if self.nf == 1 and self.mass <= critical_mass(self.beta):
            warnings.warn(
                f"Nf = 1 at m0 = {self.mass:g} (kappa = {self.kappa:.5f}) is at or beyond the critical line "
                f"kappa_c({self.beta:g}) ~ {critical_kappa(self.beta):.5f}: det D changes sign, the average "
                "sign is small and the reweighted error bars become large (see the 'sign' observable)",
                SignProblemWarning, stacklevel=2)

    # ------------------------------------------------------------------ construction
    @property
    def kappa(self) -> float:
        return kappa_from_mass(self.mass)

    @classmethod
    def example(cls) -> "SchwingerTheory":
        """4×4 at β = 1, m₀ = 0.2, two flavours (conformance suite, docs)."""
        return cls(Lattice((4, 4)), beta=1.0, mass=0.2, nf=2)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "SchwingerTheory":
        """Inverse of :meth:`params`."""
        for key in ("beta", "mass", "nf"):
            require(key in params, key, "missing from schwinger parameters")
        return cls(Lattice(tuple(params["shape"])), beta=float(params["beta"]), mass=float(params["mass"]),
                   nf=int(params["nf"]))

    @classmethod
    def from_options(cls, *, L: int, ndim: int = 2, beta: float, mass: float | None = None,
                     kappa: float | None = None, nf: int = 2) -> "SchwingerTheory":
        """``qlat sample schwinger --L L --beta β (--mass m₀ | --kappa κ) --nf 1|2``."""
        require(ndim == 2, "ndim", "the Schwinger model is two-dimensional", ndim)
        require(isinstance(L, int) and L >= 4 and L % 2 == 0, "L", "must be an even integer >= 4", L)
        return cls(Lattice((L, L)), beta=beta, mass=mass, kappa=kappa, nf=nf)

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.lattice.shape), "beta": self.beta, "mass": self.mass,
                "nf": self.nf}

    def default_observables(self) -> list[str]:
        names = list(self.DEFAULT_OBSERVABLES)
        return names + ["sign"] if self.nf == 1 else names

    # ------------------------------------------------------------------ gauge part
    def gauge_action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S_g = −β Σ_x cos θ_{01}(x)."""
        return self.gauge.action(fields)

    def gauge_force(self, fields: "torch.Tensor") -> "torch.Tensor":
        return self.gauge.force(fields)

    # ------------------------------------------------------------------ fermions
    def dirac(self, fields: "torch.Tensor") -> WilsonOperator:
        """The Wilson operator D[θ] of every configuration (sparse; dense on request)."""
        self._check(fields)
        L0, L1 = self.lattice.shape
        return WilsonOperator(fields, mass=self.mass, shape=(L0, L1))

    def pseudofermion_force(self, op: WilsonOperator, x: np.ndarray) -> "torch.Tensor":
        r"""∂/∂θ of S_pf = φ†(D†D)⁻¹φ at X = (D†D)⁻¹φ: −2 Re(Y† ∂D X), Y = DX."""
        import torch

        y = op.apply(x)
        grad = -2.0 * op.bilinear_link_gradient(y, x)
        return torch.from_numpy(grad.reshape(-1, *self.field_shape))

    def effective_action_force_sign(self, fields: "torch.Tensor", *, need_force: bool = True
                                    ) -> tuple["torch.Tensor", "torch.Tensor | None", "torch.Tensor"]:
        """(S_eff, ∂S_eff/∂θ or None, sign det D) from one dense LU per configuration."""
        import torch

        op = self.dirac(fields)
        require(op.dim <= DENSE_MAX_DIM, "L", f"the exact determinant needs 2V <= {DENSE_MAX_DIM} "
                "(use the pseudofermion sampler pf-hmc for larger lattices)", self.lattice.shape)
        s_g = self.gauge_action(fields)
        if need_force:
            logdet, sign, inv = op.log_abs_det_and_inverse()
            grad = torch.from_numpy(op.trace_link_gradient(inv).reshape(-1, *self.field_shape))
            force = self.gauge_force(fields) - self.nf * grad
        else:
            logdet, sign = op.log_abs_det()
            force = None
        action = s_g - self.nf * torch.from_numpy(logdet)
        return action, force, torch.from_numpy(sign)

    def action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S_eff = S_g − N_f log|det D| (exact, dense; small lattices).

        With ``fields.requires_grad`` the determinant is taken by ``torch.linalg.slogdet`` of a
        matrix built with torch operations, so autograd differentiates it (the analytic
        :meth:`force` is checked against that); otherwise by batched LAPACK in numpy.
        """
        if fields.requires_grad:
            return self.gauge_action(fields) - self.nf * self._torch_log_abs_det(fields)
        return self.effective_action_force_sign(fields, need_force=False)[0]

    def _torch_log_abs_det(self, fields: "torch.Tensor") -> "torch.Tensor":
        """log|det D| per configuration with torch operations (differentiable in the link angles)."""
        import torch

        self._check(fields)
        L0, L1 = self.lattice.shape
        p = wilson_pattern((L0, L1))
        require(p.dim <= DENSE_MAX_DIM, "L", f"the exact determinant needs 2V <= {DENSE_MAX_DIM}", self.lattice.shape)
        angle = fields.reshape(fields.shape[0], -1)[:, torch.from_numpy(p.link)] * torch.from_numpy(p.sign)
        coef = torch.from_numpy(p.coef)
        values = coef * torch.complex(torch.cos(angle), torch.sin(angle))
        diagonal = torch.from_numpy(p.diagonal)
        values = torch.where(diagonal, torch.full_like(values, self.mass + 2.0), values)
        d = torch.zeros((fields.shape[0], p.dim, p.dim), dtype=torch.complex128)
        d = d.index_put((torch.arange(fields.shape[0])[:, None], torch.from_numpy(p.rows)[None, :],
                         torch.from_numpy(p.cols)[None, :]), values)
        return torch.linalg.slogdet(d)[1]

    def force(self, fields: "torch.Tensor") -> "torch.Tensor":
        """∂S_eff/∂θ = ∂S_g/∂θ − N_f Re Tr(D⁻¹∂D/∂θ) (exact, dense)."""
        force = self.effective_action_force_sign(fields, need_force=True)[1]
        assert force is not None
        return force

    def log_prob(self, fields: "torch.Tensor") -> "torch.Tensor":
        return -self.action(fields)

    def determinant_sign(self, fields: "torch.Tensor") -> "torch.Tensor":
        """sign det D per configuration (+1 always for N_f = 2 weights; reweighting factor for N_f = 1)."""
        return self.effective_action_force_sign(fields, need_force=False)[2]

    # ------------------------------------------------------------------ observables
    def mean_plaquette(self, fields: "torch.Tensor") -> "torch.Tensor":
        return self.gauge.mean_plaquette(fields)

    def topological_charge(self, fields: "torch.Tensor") -> "torch.Tensor":
        return self.gauge.topological_charge(fields)

    def condensate(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Re Tr D⁻¹/V per configuration and flavour: exact (sparse LU with all unit vectors) for
        2V <= :data:`EXACT_TRACE_MAX_DIM`, else :meth:`stochastic_condensate` with
        :data:`STOCHASTIC_NOISE` Z₂ vectors (its noise is part of the per-configuration fluctuation
        that the Γ-method sees)."""
        import torch

        if 2 * self.lattice.volume <= EXACT_TRACE_MAX_DIM:
            return torch.from_numpy(self.dirac(fields).trace_inverse() / self.lattice.volume)
        return self.stochastic_condensate(fields, n_noise=STOCHASTIC_NOISE)[0]

    def stochastic_condensate(self, fields: "torch.Tensor", *, n_noise: int = 16, seed: int | None = None,
                              noise: str = "z2") -> tuple["torch.Tensor", "torch.Tensor"]:
        """Tr D⁻¹/V from ``n_noise`` Z₂/Z₄ noise vectors: (estimate, noise error) per configuration.

        Every configuration gets its own noise (seeded by a hash of its link angles, and ``seed``),
        so the noise is independent across an ensemble and reproducible.
        """
        import hashlib

        import torch

        arr = np.ascontiguousarray(fields.detach().cpu().numpy())
        gens = [np.random.default_rng([int.from_bytes(hashlib.blake2b(c.tobytes(), digest_size=8).digest(), "little"),
                                       0 if seed is None else int(seed)]) for c in arr]
        est, err = self.dirac(fields).stochastic_trace_inverse(n_noise=n_noise, generator=gens, noise=noise)
        v = self.lattice.volume
        return torch.from_numpy(est / v), torch.from_numpy(err / v)

    # ------------------------------------------------------------------ starts
    def cold_start(self, batch: int) -> "torch.Tensor":
        return self.gauge.cold_start(batch)

    def hot_start(self, batch: int, *, generator: "torch.Generator") -> "torch.Tensor":
        return self.gauge.hot_start(batch, generator=generator)

    def canonicalize(self, fields: "torch.Tensor") -> "torch.Tensor":
        return wrap_angle(fields)

    def _check(self, fields: "torch.Tensor") -> None:
        check_field_shape(fields, self.field_shape)

    def __repr__(self) -> str:
        return (f"SchwingerTheory(Lattice({self.lattice.shape}), beta={self.beta}, mass={self.mass}, "
                f"nf={self.nf})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SchwingerTheory) and other.params() == self.params()

    def __hash__(self) -> int:
        return hash((self.name, self.lattice.shape, self.beta, self.mass, self.nf))


# ---------------------------------------------------------------------------------- observables
def _get_or_define(name: str, *, unit: str, description: str) -> Observable:
    return OBSERVABLES.get(name) if name in OBSERVABLES else define(name, unit=unit, description=description)


PSIBARPSI = _get_or_define(
    "psibarpsi", unit="lattice",
    description="Wilson-fermion condensate per flavour ⟨Re Tr D⁻¹⟩/V (spin trace included; free field "
    "(1/V)Σ_p 2M(p)/(M(p)² + Σ_μ sin²p_μ)).")
SIGN = _get_or_define(
    "sign", unit="1",
    description="sign det D of the Wilson operator (one flavour): the reweighting factor of an "
    "ensemble sampled with |det D|; its mean is the average sign.")


def _q2(theory: SchwingerTheory):
    def q2(fields: "torch.Tensor") -> "torch.Tensor":
        q = theory.topological_charge(fields)
        return q * q

    return q2


def _chi_t(theory: SchwingerTheory):
    volume = theory.lattice.volume

    def chi_t(fields: "torch.Tensor") -> "torch.Tensor":
        q = theory.topological_charge(fields)
        return q * q / volume

    return chi_t


obs.PLAQUETTE.register(SchwingerTheory, lambda theory: theory.mean_plaquette)
obs.TOPOLOGICAL_CHARGE.register(SchwingerTheory, lambda theory: theory.topological_charge)
obs.Q2.register(SchwingerTheory, _q2)
obs.TOPOLOGICAL_SUSCEPTIBILITY.register(SchwingerTheory, _chi_t)
PSIBARPSI.register(SchwingerTheory, lambda theory: theory.condensate)
SIGN.register(SchwingerTheory, lambda theory: theory.determinant_sign)

r"""The qubit Schwinger model's observables, declared once, in the model layer (issue 22).

Every observable of :class:`~qlat.theories.schwinger_qubit.SchwingerModel` is a
:class:`QubitObservable`: one Hermitian :class:`~qlat.theories.pauli_sum.PauliSum` per component
(little-endian, site n = qubit n), its result keys and its unit.  That declaration is all a backend
needs: ED evaluates the Pauli sums in the charge sector, the statevector and Aer simulators and
the devices measure them (``.operators`` are the Qiskit ``SparsePauliOp`` forms, built on first
use), the MPS backends (DMRG, TDVP) contract them on the MPS
(:func:`qlat.exact.mps_observables.mps_pauli_expectations`).  A new observable registered on
``SchwingerModel`` (``OBSERVABLE.register(SchwingerModel, factory)``) appears in every backend at
once.  Conventions (docs/conventions.md): χ†_n χ_n = (1 + Z_n)/2, so

- site condensate c_n = (−1)^n Z_n/(2a) (:func:`site_condensate_terms`, the one place this formula
  is written), condensate S = (1/N) Σ_n c_n = (1/(2aN)) Σ_n (−1)^n Z_n (arXiv:2001.00485),
- charge         Q_n = (Z_n + (−1)^n)/2,  total charge Σ_n Q_n = ½ Σ_n Z_n (N even),
- electric field L_n = Σ_{i≤n} Q_i (+ θ/2π in the electric formulation), n = 0..N−2,
- energy         H = ``model.terms()`` (with its constant), energy density H/(N a); these two
  declare ``hamiltonian_factor`` so that a backend holding ⟨H⟩ already (DMRG) need not re-measure.

Condensate in the rotated frame.  In the rotated formulation the chiral rotation has moved θ into
the fermion bilinears, so S is the condensate *of the rotated fields*.  The physical θ-dependent
condensate is, by Hellmann–Feynman, ∂E₀/∂m / (N a) = ⟨∂H/∂m⟩/(N a) = cos θ ⟨S⟩ + sin θ ⟨P⟩ with
the staggered hopping piece P = −(1/(4aN)) Σ_n (−1)^n (X_nX_{n+1} + Y_nY_{n+1}); in the electric
formulation ∂H/∂m/(Na) = S.  :func:`physical_condensate_terms` is ∂H/∂m/(N a) for either.

Subtracted condensate.  The free (J = 0) staggered chain has a condensate that diverges like
−(m/π) ln(4/(ma)) as a → 0; ``condensate_subtracted`` is S minus its exact ground-state value in
the free chain of the same N, m, a, θ and formulation (:func:`free_condensate`); the
infinite-volume value of the same quantity is :func:`free_condensate_infinite_volume`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from qlat.core.errors import ParameterError, require, require_finite, require_positive
from qlat.core.observable_catalogue import (
    CHARGE_DENSITY,
    CHIRAL_CONDENSATE,
    CHIRAL_CONDENSATE_SUBTRACTED,
    CONDENSATE_PROFILE,
    ELECTRIC_FIELD,
    ENERGY,
    ENERGY_DENSITY,
    TOTAL_CHARGE,
)
from qlat.core.observable_registry import OBSERVABLES, Observable
from qlat.theories.pauli_sum import PauliSum
from qlat.theories.schwinger_qubit import SchwingerModel, mass_derivative_terms, schwinger_terms

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

__all__ = [
    "QubitObservable",
    "charge_terms",
    "condensate_terms",
    "electric_field_terms",
    "free_condensate",
    "free_condensate_infinite_volume",
    "physical_condensate_terms",
    "qubit_observable",
    "qubit_observable_names",
    "site_condensate_terms",
    "site_condensate_values",
    "staggered_weights",
]


@dataclass(frozen=True)
class QubitObservable:
    """The qubit realization of an observable on one model: a sum of Pauli strings per component.

    Attributes
    ----------
    name:      the observable's name (as in :data:`qlat.core.observable_registry.OBSERVABLES`).
    terms:     one Hermitian :class:`~qlat.theories.pauli_sum.PauliSum` per component (a scalar
               observable has one); :attr:`operators` are the same as Qiskit ``SparsePauliOp``.
    labels:    component labels, e.g. ``("L_0", ..., "L_{N-2}")``.
    unit:      unit convention (``"g"``, ``"g^2"``, ``"1"``), as in the Observable definition.
    profile:   a profile (one component per site or link) is keyed ``name[i]`` even when it has a
               single component (N = 2 has one link); a scalar is keyed ``name``.
    hamiltonian_factor: ``f`` when the (single) component is f·H of the model (energy: 1, energy
               density: 1/(Na)), so that a backend that has ⟨H⟩ (and its moments) uses them; None
               otherwise.  The terms are authoritative either way.
    """

    name: str
    terms: tuple[PauliSum, ...]
    labels: tuple[str, ...]
    unit: str
    profile: bool = False
    hamiltonian_factor: float | None = None

    def __post_init__(self) -> None:
        require(len(self.terms) >= 1, "terms", "must hold at least one PauliSum", len(self.terms))
        require(all(isinstance(t, PauliSum) for t in self.terms), "terms", "must be PauliSum objects",
                sorted({type(t).__name__ for t in self.terms}))
        require(
            len(self.labels) == len(self.terms),
            "labels",
            f"must have one label per operator ({len(self.terms)})",
            len(self.labels),
        )
        n_qubits = {op.num_qubits for op in self.terms}
        require(len(n_qubits) == 1, "terms", "must all act on the same number of qubits", sorted(n_qubits))
        require(self.hamiltonian_factor is None or len(self.terms) == 1, "hamiltonian_factor",
                "is for a single-component observable", len(self.terms))

    @cached_property
    def operators(self) -> tuple[SparsePauliOp, ...]:
        """The components as Qiskit ``SparsePauliOp`` (built once, on first use; imports Qiskit)."""
        return tuple(t.to_sparse_pauli_op() for t in self.terms)

    @property
    def num_qubits(self) -> int:
        return int(self.terms[0].num_qubits)

    @property
    def keys(self) -> list[str]:
        """Result keys (:func:`qlat.core.backend.component_key`): ``name``, or ``name[i]`` per component."""
        from qlat.core.backend import component_key

        if self.is_scalar:
            return [self.name]
        return [component_key(self.name, i) for i in range(len(self.terms))]

    @property
    def keyed_terms(self) -> dict[str, PauliSum]:
        """``{key: PauliSum}`` of every component."""
        return dict(zip(self.keys, self.terms))

    @property
    def is_scalar(self) -> bool:
        """Whether the observable is one number (not a profile)."""
        return not self.profile and len(self.terms) == 1

    @property
    def is_diagonal(self) -> bool:
        """Whether every Pauli term of every component is made of I and Z only."""
        return all(t.is_diagonal for t in self.terms)

    def expectation(self, state: np.ndarray) -> np.ndarray:
        """Exact ⟨state|O_k|state⟩ of every component k (real; the operators are Hermitian).

        ``state`` is a normalized statevector of length 2^N in Qiskit's little-endian order.
        """
        psi = np.asarray(state, dtype=complex).reshape(-1)
        require(psi.shape[0] == 2**self.num_qubits, "state", f"must have length 2^{self.num_qubits}", psi.shape[0])
        return np.array([float(np.real(np.vdot(psi, op.to_matrix(sparse=True) @ psi))) for op in self.operators])


# --- the formulas, each once --------------------------------------------------------------------


def staggered_weights(n_sites: int, spacing: float) -> np.ndarray:
    r"""w_n = (−1)^n/(2a): the site condensate is c_n = w_n Z_n (the one home of this formula).

    Its mean over the chain, (1/N) Σ_n w_n ⟨Z_n⟩, is the condensate S of docs/conventions.md
    (arXiv:2001.00485).
    """
    return (-1.0) ** np.arange(int(n_sites)) / (2.0 * float(spacing))


def site_condensate_values(z: np.ndarray, spacing: float) -> np.ndarray:
    """c_n = (−1)^n ⟨Z_n⟩/(2a) from the site expectations ⟨Z_n⟩ (profile; its mean is S)."""
    z = np.asarray(z, dtype=float)
    return staggered_weights(z.size, spacing) * z


def site_condensate_terms(model: SchwingerModel) -> tuple[PauliSum, ...]:
    """c_n = (−1)^n Z_n/(2a) for n = 0..N−1 (:func:`staggered_weights`)."""
    n = model.n_sites
    weights = staggered_weights(n, model.spacing)
    return tuple(PauliSum.from_sparse_list([("Z", [k], weights[k])], num_qubits=n) for k in range(n))


def condensate_terms(model: SchwingerModel) -> PauliSum:
    """S = (1/N) Σ_n c_n = (1/(2aN)) Σ_n (−1)^n Z_n (docs/conventions.md; arXiv:2001.00485)."""
    total = site_condensate_terms(model)[0]
    for term in site_condensate_terms(model)[1:]:
        total = total + term
    return total / model.n_sites


def physical_condensate_terms(model: SchwingerModel) -> PauliSum:
    r"""∂H/∂m / (N a): the condensate whose ground-state value is ∂E₀/∂m/(Na) (Hellmann–Feynman).

    Rotated formulation: cos θ·S + sin θ·P with P = −(1/(4aN)) Σ_n (−1)^n (X_nX_{n+1} + Y_nY_{n+1});
    electric formulation: S.  See :func:`qlat.theories.schwinger_qubit.mass_derivative_terms`.
    """
    return (mass_derivative_terms(model).to_pauli_sum() / model.volume).simplify(atol=1e-14)


def charge_terms(model: SchwingerModel) -> tuple[PauliSum, ...]:
    """Q_n = (Z_n + (−1)^n)/2 for n = 0..N−1."""
    n = model.n_sites
    return tuple(
        PauliSum.from_sparse_list([("", [], 0.5 * (-1) ** k), ("Z", [k], 0.5)], num_qubits=n)
        for k in range(n)
    )


def electric_field_terms(model: SchwingerModel) -> tuple[PauliSum, ...]:
    """L_n + ϑ = Σ_{i≤n} Q_i + ϑ for n = 0..N−2 (ϑ = θ/2π electric, else 0)."""
    n = model.n_sites
    vartheta = model.theta / (2.0 * math.pi) if model.formulation == "electric" else 0.0
    charges = charge_terms(model)
    running = PauliSum.from_sparse_list([("", [], vartheta)], num_qubits=n)
    ops = []
    for link in range(n - 1):
        running = running + charges[link]
        ops.append(running.simplify(atol=0.0))
    return tuple(ops)


def _total_charge_terms(model: SchwingerModel) -> PauliSum:
    """Σ_n Q_n = ½ Σ_n Z_n (the constants cancel for N even)."""
    total = PauliSum.from_sparse_list([], num_qubits=model.n_sites)
    for q in charge_terms(model):
        total = total + q
    return total.simplify(atol=1e-15)


# --- free (J = 0) condensate ---------------------------------------------------------------


def free_condensate(model: SchwingerModel) -> float:
    r"""Exact ground-state value of S in the free chain (J = 0) with the model's N, a, m, θ, shift.

    With J = 0 the qubit Hamiltonian is H = Σ h_n (XX+YY)_{n,n+1} + Σ μ_n Z_n.  In the hole modes b_n
    of a Jordan–Wigner transform with b†b = (1 − Z)/2, XX + YY = 2(b†_n b_{n+1} + h.c.) and
    Z_n = 1 − 2 b†_n b_n, so H = b† M b + Σ μ_n with the N×N single-particle matrix
    M_{n,n+1} = M_{n+1,n} = 2h_n, M_{nn} = −2μ_n.  The staggered mass anticommutes with the
    bipartite hopping, so the spectrum of M is ± symmetric and the ground state fills its N/2
    lowest modes φ_k (half filling, the zero-charge sector): ⟨Z_n⟩ = 1 − 2 Σ_{k<N/2} |φ_k(n)|², and
    S = (1/N) Σ_n c_n (:func:`site_condensate_values`).
    """
    n = model.n_sites
    terms = schwinger_terms(
        n, w=model.w, J=0.0, mass=model.mass, theta=model.theta, formulation=model.formulation,
        mass_offset=model.mass_offset,
    )
    mat = np.diag(-2.0 * terms.z) + np.diag(2.0 * terms.hopping, 1) + np.diag(2.0 * terms.hopping, -1)
    _, vecs = np.linalg.eigh(mat)
    filled = np.sum(np.abs(vecs[:, : n // 2]) ** 2, axis=1)
    return float(np.mean(site_condensate_values(1.0 - 2.0 * filled, model.spacing)))


def free_condensate_infinite_volume(m: float, a: float, theta: float = 0.0) -> float:
    r"""Infinite-volume condensate ⟨S⟩ of the free staggered chain in the rotated formulation.

    .. math::
        \langle\bar\psi\psi\rangle_\text{free} = -\frac{m\cos\theta}{\pi}
            \frac{K(k^2)}{\sqrt{1 + (ma\cos\theta)^2}}, \qquad
        k^2 = \frac{1 - (ma\sin\theta)^2}{1 + (ma\cos\theta)^2},

    with K(k²) = ∫₀^{π/2} dφ (1 − k² sin²φ)^{−1/2} (docs/references.md).  It follows from the band
    ε(q)² = a^{-2}[1 + (ma cos θ)²](1 − k² sin²(q/2)) of the two-site cell with hoppings
    w ∓ (m/2) sin θ and staggered mass m cos θ, and ⟨S⟩ = (1/(Na)) ∂E₀/∂(m cos θ) at fixed
    hoppings.  scipy's ``ellipk`` takes the parameter k² (not k); we evaluate K(k²) as
    ``ellipkm1(1 − k²)`` with 1 − k² = (ma)²/(1 + (ma cos θ)²), which stays accurate as a → 0
    and for k² < 0.  For the electric formulation (θ not in the free Hamiltonian) use θ = 0.
    It diverges like −(m/π) ln(4/(ma)) as a → 0.
    """
    from scipy.special import ellipkm1

    m = require_finite(m, "m")
    a = require_positive(a, "a")
    theta = require_finite(theta, "theta")
    mc = m * math.cos(theta)
    if mc == 0.0:
        return 0.0  # chirally symmetric free chain (the prefactor vanishes, K stays finite or ~ln)
    # 1 − k² = (ma)²/(1 + (ma cos θ)²) exactly; K(k²) = ellipkm1(1 − k²) keeps full precision
    # as k² → 1 (a → 0), where forming k² first would cancel digits.
    one_minus_k2 = (m * a) ** 2 / (1.0 + (mc * a) ** 2)
    return float(-(mc / math.pi) * ellipkm1(one_minus_k2) / math.sqrt(1.0 + (mc * a) ** 2))


# --- realizations --------------------------------------------------------------------------


def _scalar(obs: Observable, op: PauliSum, label: str, *, hamiltonian_factor: float | None = None) -> QubitObservable:
    return QubitObservable(name=obs.name, terms=(op,), labels=(label,), unit=obs.unit,
                           hamiltonian_factor=hamiltonian_factor)


def _profile(obs: Observable, ops: tuple[PauliSum, ...], symbol: str) -> QubitObservable:
    labels = tuple(f"{symbol}_{k}" for k in range(len(ops)))
    return QubitObservable(name=obs.name, terms=ops, labels=labels, unit=obs.unit, profile=True)


def _hamiltonian(model: SchwingerModel) -> PauliSum:
    return model.terms().to_pauli_sum().simplify(atol=0.0)


def _energy(model: SchwingerModel) -> QubitObservable:
    return _scalar(ENERGY, _hamiltonian(model), "E", hamiltonian_factor=1.0)


def _energy_density(model: SchwingerModel) -> QubitObservable:
    return _scalar(ENERGY_DENSITY, _hamiltonian(model) / model.volume, "E/(Na)",
                   hamiltonian_factor=1.0 / model.volume)


def _condensate(model: SchwingerModel) -> QubitObservable:
    return _scalar(CHIRAL_CONDENSATE, condensate_terms(model), "psibar_psi")


def _condensate_subtracted(model: SchwingerModel) -> QubitObservable:
    shift = PauliSum.from_sparse_list([("", [], free_condensate(model))], num_qubits=model.n_sites)
    op = (condensate_terms(model) - shift).simplify(atol=0.0)
    return _scalar(CHIRAL_CONDENSATE_SUBTRACTED, op, "psibar_psi - free")


ENERGY.register(SchwingerModel, _energy)
ENERGY_DENSITY.register(SchwingerModel, _energy_density)
CHIRAL_CONDENSATE.register(SchwingerModel, _condensate)
CHIRAL_CONDENSATE_SUBTRACTED.register(SchwingerModel, _condensate_subtracted)
CONDENSATE_PROFILE.register(SchwingerModel, lambda model: _profile(CONDENSATE_PROFILE, site_condensate_terms(model),
                                                                   "c"))
ELECTRIC_FIELD.register(SchwingerModel, lambda model: _profile(ELECTRIC_FIELD, electric_field_terms(model), "L"))
CHARGE_DENSITY.register(SchwingerModel, lambda model: _profile(CHARGE_DENSITY, charge_terms(model), "Q"))
TOTAL_CHARGE.register(SchwingerModel, lambda model: _scalar(TOTAL_CHARGE, _total_charge_terms(model), "Q"))


def qubit_observable(name: str, model: SchwingerModel) -> QubitObservable:
    """The qubit realization of the observable called ``name`` on ``model``.

    Raises :class:`~qlat.core.errors.ParameterError` for an unknown name and
    :class:`~qlat.core.errors.NoRealizationError` for an observable with no qubit realization
    (e.g. ``"plaquette"``).
    """
    realization = OBSERVABLES.get(name).realize(model)
    if not isinstance(realization, QubitObservable):
        raise ParameterError("name", "must name an observable with a qubit realization", name)
    return realization


def qubit_observable_names(model: SchwingerModel) -> list[str]:
    """Every observable with a qubit realization on ``model`` (registered now, plug-ins included), sorted."""
    return sorted(o.name for o in OBSERVABLES.supported_on(model))

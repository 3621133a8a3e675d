r"""Qubit realizations of the common observables on the Schwinger model.

Importing this module registers, on :class:`~qlat.theories.schwinger_qubit.SchwingerModel`, the
realizations of the observables defined in :mod:`qlat.core.observables`; each realization is a
:class:`QubitObservable` (one :class:`~qlat.theories.pauli_sum.PauliSum` per component,
little-endian as in Qiskit, site n = qubit n; ``.operators`` converts them to Qiskit
``SparsePauliOp`` on first use, so exact diagonalization never imports Qiskit).  Conventions (docs/conventions.md): χ†_n χ_n = (1 + Z_n)/2, so

- charge         Q_n = (Z_n + (−1)^n)/2,  total charge Σ_n Q_n = ½ Σ_n Z_n (N even),
- electric field L_n = Σ_{i≤n} Q_i (+ θ/2π in the electric formulation), n = 0..N−2,
- condensate     S = (1/(2aN)) Σ_n (−1)^n Z_n   (docs/conventions.md, arXiv:2001.00485),
- energy         H = ``model.hamiltonian()`` (with its constant), energy density H/(N a).

Condensate in the rotated frame.  The operator S is docs/conventions.md's definition in both formulations.
In the rotated formulation the chiral rotation has moved θ into the fermion bilinears, so S is
the condensate *of the rotated fields*.  The physical θ-dependent condensate is, by
Hellmann–Feynman, ∂E₀/∂m / (N a) = ⟨∂H/∂m⟩/(N a) = cos θ ⟨S⟩ + sin θ ⟨P⟩ with the staggered
hopping piece P = −(1/(4aN)) Σ_n (−1)^n (X_nX_{n+1} + Y_nY_{n+1}); in the electric
formulation ∂H/∂m/(Na) = S.  :func:`physical_condensate_operator` returns ∂H/∂m/(N a) for
either formulation.

Subtracted condensate.  The free (J = 0) staggered chain has a condensate that diverges like
−(m/π) ln(4/(ma)) as a → 0; ``condensate_subtracted`` is S minus its exact ground-state value
in the free chain of the same N, m, a, θ and formulation (:func:`free_condensate`).  The
infinite-volume value of the same quantity is :func:`free_condensate_infinite_volume`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.observable import OBSERVABLES, Observable
from qlat.core.observables import (
    CHARGE_DENSITY,
    CHIRAL_CONDENSATE,
    CHIRAL_CONDENSATE_SUBTRACTED,
    ELECTRIC_FIELD,
    ENERGY,
    ENERGY_DENSITY,
    TOTAL_CHARGE,
)
from qlat.theories.pauli_sum import PauliSum
from qlat.theories.schwinger_qubit import SchwingerModel, free_condensate

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

__all__ = [
    "QubitObservable",
    "charge_operators",
    "charge_terms",
    "condensate_operator",
    "condensate_terms",
    "electric_field_operators",
    "electric_field_terms",
    "free_condensate",
    "free_condensate_infinite_volume",
    "physical_condensate_operator",
    "physical_condensate_terms",
    "qubit_observable",
]


@dataclass(frozen=True)
class QubitObservable:
    """The qubit realization of an observable on one model.

    Attributes
    ----------
    name:      the observable's name (as in :data:`qlat.core.observable.OBSERVABLES`).
    terms:     one Hermitian :class:`~qlat.theories.pauli_sum.PauliSum` per component (a scalar
               observable has one); :attr:`operators` are the same as Qiskit ``SparsePauliOp``.
    labels:    component labels, e.g. ``("L_0", ..., "L_{N-2}")``.
    unit:      unit convention (``"g"``, ``"g^2"``, ``"1"``), as in the Observable definition.
    profile:   a profile (one component per site or link) is keyed ``name[i]`` even when it has a
               single component (N = 2 has one link); a scalar is keyed ``name``.
    """

    name: str
    terms: tuple[PauliSum, ...]
    labels: tuple[str, ...]
    unit: str
    profile: bool = False

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
    def is_scalar(self) -> bool:
        """Whether the observable is one number (not a profile)."""
        return not self.profile and len(self.terms) == 1

    @property
    def is_diagonal(self) -> bool:
        """Whether every Pauli term of every component is made of I and Z only."""
        return all(t.is_diagonal for t in self.terms)

    def measurement_bases(self) -> list[str]:
        """The per-qubit measurement bases (Qiskit label order) that estimate every component.

        The union, in first-seen order, of :func:`qlat.quantum.measurement.measurement_bases`
        over the components; a diagonal observable needs the single basis ``"Z"*N``.
        """
        from qlat.quantum.measurement import measurement_bases

        bases: list[str] = []
        for op in self.operators:
            for basis in measurement_bases(op):
                if basis not in bases:
                    bases.append(basis)
        return bases

    def expectation(self, state: np.ndarray) -> np.ndarray:
        """Exact ⟨state|O_k|state⟩ of every component k (real; the operators are Hermitian).

        ``state`` is a normalized statevector of length 2^N in Qiskit's little-endian order.
        """
        psi = np.asarray(state, dtype=complex).reshape(-1)
        require(psi.shape[0] == 2**self.num_qubits, "state", f"must have length 2^{self.num_qubits}", psi.shape[0])
        return np.array([float(np.real(np.vdot(psi, op.to_matrix(sparse=True) @ psi))) for op in self.operators])


# --- operators -----------------------------------------------------------------------------
# Each observable is built once as a PauliSum (``*_terms``); the public ``*_operator(s)``
# functions return the same operators as Qiskit SparsePauliOp for circuits and tests.


def condensate_terms(model: SchwingerModel) -> PauliSum:
    """S = (1/(2aN)) Σ_n (−1)^n Z_n (docs/conventions.md; arXiv:2001.00485)."""
    n = model.n_sites
    scale = 1.0 / (2.0 * model.spacing * n)
    return PauliSum.from_sparse_list([("Z", [k], scale * (-1) ** k) for k in range(n)], num_qubits=n)


def physical_condensate_terms(model: SchwingerModel) -> PauliSum:
    r"""∂H/∂m / (N a): the condensate whose ground-state value is ∂E₀/∂m/(Na) (Hellmann–Feynman).

    Rotated formulation: cos θ·S + sin θ·P with P = −(1/(4aN)) Σ_n (−1)^n (X_nX_{n+1} + Y_nY_{n+1});
    electric formulation: S.  See :func:`qlat.theories.schwinger_qubit.mass_derivative_terms`.
    """
    from qlat.theories.schwinger_qubit import mass_derivative_terms

    return (mass_derivative_terms(model).to_pauli_sum() / model.volume).simplify(atol=1e-14)


def charge_terms(model: SchwingerModel) -> tuple[PauliSum, ...]:
    """Q_n = (Z_n + (−1)^n)/2 for n = 0..N−1."""
    n = model.n_sites
    return tuple(
        PauliSum.from_sparse_list([("", [], 0.5 * (-1) ** k), ("Z", [k], 0.5)], num_qubits=n)
        for k in range(n)
    )


def electric_field_terms(model: SchwingerModel) -> tuple[PauliSum, ...]:
    """L_n + ϑ = ½ Σ_{i≤n} Z_i + Σ_{i≤n} (−1)^i/2 + ϑ for n = 0..N−2 (ϑ = θ/2π electric, else 0)."""
    n = model.n_sites
    vartheta = model.theta / (2.0 * math.pi) if model.formulation == "electric" else 0.0
    ops = []
    for link in range(n - 1):
        const = 0.5 * sum((-1) ** i for i in range(link + 1)) + vartheta
        terms: list[tuple[str, list[int], float]] = [("", [], const)] + [("Z", [i], 0.5) for i in range(link + 1)]
        ops.append(PauliSum.from_sparse_list(terms, num_qubits=n))
    return tuple(ops)


def condensate_operator(model: SchwingerModel) -> SparsePauliOp:
    """:func:`condensate_terms` as a Qiskit ``SparsePauliOp``."""
    return condensate_terms(model).to_sparse_pauli_op()


def physical_condensate_operator(model: SchwingerModel) -> SparsePauliOp:
    """:func:`physical_condensate_terms` as a Qiskit ``SparsePauliOp``."""
    return physical_condensate_terms(model).to_sparse_pauli_op()


def charge_operators(model: SchwingerModel) -> tuple[SparsePauliOp, ...]:
    """:func:`charge_terms` as Qiskit ``SparsePauliOp``."""
    return tuple(t.to_sparse_pauli_op() for t in charge_terms(model))


def electric_field_operators(model: SchwingerModel) -> tuple[SparsePauliOp, ...]:
    """:func:`electric_field_terms` as Qiskit ``SparsePauliOp``."""
    return tuple(t.to_sparse_pauli_op() for t in electric_field_terms(model))


# --- free (J = 0) condensate ---------------------------------------------------------------


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

    require(math.isfinite(m), "m", "must be a finite number", m)
    require(math.isfinite(a) and a > 0, "a", "must be > 0", a)
    require(math.isfinite(theta), "theta", "must be a finite number (radians)", theta)
    mc = m * math.cos(theta)
    if mc == 0.0:
        return 0.0  # chirally symmetric free chain (the prefactor vanishes, K stays finite or ~ln)
    # 1 − k² = (ma)²/(1 + (ma cos θ)²) exactly; K(k²) = ellipkm1(1 − k²) keeps full precision
    # as k² → 1 (a → 0), where forming k² first would cancel digits.
    one_minus_k2 = (m * a) ** 2 / (1.0 + (mc * a) ** 2)
    return float(-(mc / math.pi) * ellipkm1(one_minus_k2) / math.sqrt(1.0 + (mc * a) ** 2))


# --- realizations --------------------------------------------------------------------------


def _scalar(obs: Observable, op: PauliSum, label: str) -> QubitObservable:
    return QubitObservable(name=obs.name, terms=(op,), labels=(label,), unit=obs.unit)


def _hamiltonian(model: SchwingerModel) -> PauliSum:
    return model.terms().to_pauli_sum().simplify(atol=0.0)


def _energy(model: SchwingerModel) -> QubitObservable:
    return _scalar(ENERGY, _hamiltonian(model), "E")


def _energy_density(model: SchwingerModel) -> QubitObservable:
    return _scalar(ENERGY_DENSITY, _hamiltonian(model) / model.volume, "E/(Na)")


def _condensate(model: SchwingerModel) -> QubitObservable:
    return _scalar(CHIRAL_CONDENSATE, condensate_terms(model), "psibar_psi")


def _condensate_subtracted(model: SchwingerModel) -> QubitObservable:
    n = model.n_sites
    shift = PauliSum.from_sparse_list([("", [], free_condensate(model))], num_qubits=n)
    op = (condensate_terms(model) - shift).simplify(atol=0.0)
    return _scalar(CHIRAL_CONDENSATE_SUBTRACTED, op, "psibar_psi - free")


def _electric_field(model: SchwingerModel) -> QubitObservable:
    ops = electric_field_terms(model)
    labels = tuple(f"L_{k}" for k in range(len(ops)))
    return QubitObservable(name=ELECTRIC_FIELD.name, terms=ops, labels=labels, unit=ELECTRIC_FIELD.unit,
                           profile=True)


def _charge_density(model: SchwingerModel) -> QubitObservable:
    ops = charge_terms(model)
    labels = tuple(f"Q_{k}" for k in range(len(ops)))
    return QubitObservable(name=CHARGE_DENSITY.name, terms=ops, labels=labels, unit=CHARGE_DENSITY.unit,
                           profile=True)


def _total_charge(model: SchwingerModel) -> QubitObservable:
    n = model.n_sites
    op = PauliSum.from_sparse_list([("Z", [k], 0.5) for k in range(n)], num_qubits=n)
    return _scalar(TOTAL_CHARGE, op, "Q")


ENERGY.register(SchwingerModel, _energy)
ENERGY_DENSITY.register(SchwingerModel, _energy_density)
CHIRAL_CONDENSATE.register(SchwingerModel, _condensate)
CHIRAL_CONDENSATE_SUBTRACTED.register(SchwingerModel, _condensate_subtracted)
ELECTRIC_FIELD.register(SchwingerModel, _electric_field)
CHARGE_DENSITY.register(SchwingerModel, _charge_density)
TOTAL_CHARGE.register(SchwingerModel, _total_charge)


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

r"""The lattice Schwinger model with a θ term on qubits (staggered fermions, open chain).

Conventions (docs/conventions.md; Chakraborty et al. arXiv:2001.00485; Honda et al. arXiv:2105.03276):
N sites n = 0..N−1, lattice spacing a, coupling g, fermion mass m, vacuum angle θ;
w = 1/(2a), J = g²a/2.  The gauge field is eliminated by Gauss's law with no background
charge at the left end, and Jordan–Wigner with χ†_n χ_n = (1 + Z_n)/2 (qubit |0⟩ = occupied).
The local charge is Q_n = (Z_n + (−1)^n)/2 and the link field L_n = Σ_{i≤n} Q_i.

*rotated* formulation (θ moved into the mass by a chiral rotation, arXiv:2001.00485):

.. math::
    H = J \sum_{n=0}^{N-2} L_n^2
      + \tfrac12 \sum_{n=0}^{N-2} \bigl(w - (-1)^n \tfrac{m}{2}\sin\theta\bigr)(X_nX_{n+1} + Y_nY_{n+1})
      + \tfrac{m\cos\theta}{2} \sum_{n=0}^{N-1} (-1)^n Z_n

*electric* formulation (θ as a background field, arXiv:2105.03276):

.. math::
    H = J \sum_{n=0}^{N-2} \bigl(L_n + \tfrac{\theta}{2\pi}\bigr)^2
      + \tfrac{w}{2} \sum_{n=0}^{N-2} (X_nX_{n+1} + Y_nY_{n+1})
      + \tfrac{m}{2} \sum_{n=0}^{N-1} (-1)^n Z_n

Both are of the form

.. math::
    H = c\,\mathbb 1 + \sum_n h_n (X_nX_{n+1} + Y_nY_{n+1}) + \sum_n \mu_n Z_n + \sum_{i<j} K_{ij} Z_i Z_j

Staggered mass shift (Dempsey et al. arXiv:2206.05308, ``mass_shift``): the staggered discretization
shifts the *scalar* mass by g²a/8, so the lattice Hamiltonian uses m_s = m − g²a/8 (electric)
and, after the chiral rotation, m_s = m cos θ − g²a/8 with the pseudoscalar mass m sin θ left
alone (rotated); i.e. the offset δ = g²a/8 multiplies the staggered term ½ Σ (−1)^n Z_n only.

with, writing L_n + ϑ = ½ Σ_{i≤n} Z_i + b_n, b_n = ½[n even] + ϑ (ϑ = θ/2π or 0; + Σ_{i≤n} q_i with
static external charges q_i, :func:`chain_terms`):
K_ij = (J/2)(N − 1 − j) for i < j, μ_i = J Σ_{n=i}^{N−2} b_n + (mass term),
c = J Σ_{n=0}^{N−2} [(n+1)/4 + b_n²].  :func:`schwinger_terms` returns these coefficients;
every Hamiltonian, circuit and simulator in qlat is built from them.

Qiskit orders qubits little-endian: site n is qubit n, the rightmost character of a Pauli label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.theories.pauli_sum import PauliSum

if TYPE_CHECKING:  # Qiskit is imported only where a SparsePauliOp is asked for (start-up, issue 12)
    from qiskit.quantum_info import SparsePauliOp

Formulation = Literal["rotated", "electric"]
FORMULATIONS: tuple[str, ...] = ("rotated", "electric")


@dataclass(frozen=True)
class SchwingerTerms:
    """Coefficients of H = c·1 + Σ h_n (XX+YY)_{n,n+1} + Σ μ_n Z_n + Σ_{i<j} K_ij Z_i Z_j.

    Attributes
    ----------
    hopping: shape (N−1,), h_n, the coefficient of X_nX_{n+1} + Y_nY_{n+1}.
    z:       shape (N,), μ_n.
    zz:      shape (N, N), strictly upper triangular K_ij (i < j).
    constant: c.
    """

    hopping: np.ndarray
    z: np.ndarray
    zz: np.ndarray
    constant: float

    @property
    def n_qubits(self) -> int:
        return int(self.z.shape[0])

    def diagonal(self, basis: np.ndarray | None = None, *, chunk: int = 1 << 16) -> np.ndarray:
        """The diagonal part c + Σ μ_n Z_n + Σ K_ij Z_i Z_j on computational basis states.

        ``basis``: int64 basis indices (default: all 2^N, in order).  Bit n of an index
        (little-endian, as in Qiskit) is the state of qubit n; Z_n = +1 for bit 0 (occupied) and
        −1 for bit 1.  Computed in chunks, so a sector of millions of states needs no
        (dim × N) temporary.
        """
        n = self.n_qubits
        if basis is None:
            basis = np.arange(1 << n, dtype=np.int64)
        basis = np.asarray(basis, dtype=np.int64)
        shifts = np.arange(n, dtype=np.int64)
        has_zz = bool(np.any(self.zz != 0.0))
        out = np.empty(basis.size, dtype=float)
        for start in range(0, basis.size, chunk):
            zvals = 1.0 - 2.0 * ((basis[start:start + chunk, None] >> shifts) & 1).astype(float)
            part = self.constant + zvals @ self.z
            if has_zz:
                part += np.einsum("ki,ki->k", zvals @ self.zz, zvals)
            out[start:start + chunk] = part
        return out

    def sparse_list(self) -> list[tuple[str, list[int], float]]:
        """The terms as ``(label, qubits, coefficient)`` triples (little-endian), identity first."""
        terms: list[tuple[str, list[int], float]] = [("", [], float(self.constant))]
        for k, h in enumerate(self.hopping):
            if h != 0.0:
                terms.append(("XX", [k, k + 1], float(h)))
                terms.append(("YY", [k, k + 1], float(h)))
        for k, mu in enumerate(self.z):
            if mu != 0.0:
                terms.append(("Z", [k], float(mu)))
        for i, j in zip(*np.nonzero(self.zz)):
            terms.append(("ZZ", [int(i), int(j)], float(self.zz[i, j])))
        return terms

    def to_pauli_sum(self) -> PauliSum:
        """The Hamiltonian as a :class:`~qlat.theories.pauli_sum.PauliSum` (no Qiskit)."""
        return PauliSum.from_sparse_list(self.sparse_list(), num_qubits=self.n_qubits)

    def to_sparse_pauli_op(self, *, simplify: bool = True) -> SparsePauliOp:
        """The Hamiltonian as a Qiskit :class:`SparsePauliOp` (little-endian)."""
        from qiskit.quantum_info import SparsePauliOp

        op = SparsePauliOp.from_sparse_list(self.sparse_list(), num_qubits=self.n_qubits)
        return op.simplify(atol=0.0) if simplify else op


def check_theta(theta: float, parameter: str = "theta") -> None:
    """Refuse a θ that is not a finite angle; warn beyond ±2π, where the two formulations part: the rotated
    form is 2π-periodic, the electric form on an open chain is not (its background field θ/2π is physical)."""
    require(math.isfinite(theta), parameter, "must be a finite angle in radians", theta)
    if abs(theta) > 2 * math.pi:
        from qlat.core.errors import warn

        warn(f"{parameter} {theta:g} is beyond ±2π: the rotated form is 2π-periodic, the electric form on an "
             "open chain is not (its background field θ/2π is physical); did you mean radians?")


def _check_sites(n_sites: int) -> None:
    require(
        isinstance(n_sites, (int, np.integer)) and n_sites >= 2 and n_sites % 2 == 0,
        "n_sites",
        "must be an even integer >= 2",
        n_sites,
    )


def schwinger_terms(
    n_sites: int,
    *,
    w: float,
    J: float,
    mass: float,
    theta: float,
    formulation: Formulation = "rotated",
    mass_offset: float = 0.0,
) -> SchwingerTerms:
    """Pauli coefficients of the staggered Schwinger Hamiltonian for explicit (w, J, m, θ).

    This is the pure function behind :class:`SchwingerModel`; the adiabatic schedules call it
    with ramped w(t), m(t), θ(t).  ``mass_offset`` δ is subtracted from the staggered scalar
    mass after the rotation (m cos θ − δ, or m − δ in the electric form; δ = g²a/8 is the
    mass shift of Dempsey et al.).  See the module docstring for the equations.
    """
    _check_sites(n_sites)
    return _terms(int(n_sites), w=w, J=J, mass=mass, theta=theta, formulation=formulation, mass_offset=mass_offset,
                  charges=None)


def chain_terms(
    n_sites: int,
    *,
    w: float,
    J: float,
    mass: float,
    theta: float,
    formulation: Formulation = "rotated",
    mass_offset: float = 0.0,
    external_charges: Sequence[float] | np.ndarray | None = None,
) -> SchwingerTerms:
    """:func:`schwinger_terms` for any chain length N ≥ 2 (odd included) and static external charges.

    ``external_charges`` (N numbers, default none): probe charges q_n on the sites, in units of
    g, which enter Gauss's law as L_n = Σ_{i≤n} (Q_i + q_i) (Honda et al. arXiv:2105.03276,
    sec. 4), i.e. b_n → b_n + Σ_{i≤n} q_i; only μ_n and c change, the couplings K_ij keep their
    form.  The same coefficient code as :func:`schwinger_terms` (one source); used by
    :class:`SchwingerChain`.
    """
    require(isinstance(n_sites, (int, np.integer)) and not isinstance(n_sites, bool) and n_sites >= 2,
            "n_sites", "must be an integer >= 2", n_sites)
    charges = None
    if external_charges is not None:
        charges = np.asarray(external_charges, dtype=float).reshape(-1)
        require(charges.size == n_sites and bool(np.all(np.isfinite(charges))), "external_charges",
                f"must be {n_sites} finite numbers (one static charge per site)", charges.size)
    return _terms(int(n_sites), w=w, J=J, mass=mass, theta=theta, formulation=formulation, mass_offset=mass_offset,
                  charges=charges)


def _terms(n: int, *, w: float, J: float, mass: float, theta: float, formulation: str, mass_offset: float,
           charges: np.ndarray | None) -> SchwingerTerms:
    """The coefficients (module docstring) — the one place they are computed."""
    if formulation not in FORMULATIONS:
        raise ParameterError("formulation", f"must be one of {', '.join(FORMULATIONS)}", formulation)
    sign = (-1.0) ** np.arange(n)
    vartheta = theta / (2 * math.pi) if formulation == "electric" else 0.0
    b = 0.5 * (np.arange(n - 1) % 2 == 0) + vartheta  # b_n, n = 0..N-2
    if charges is not None:
        b = b + np.cumsum(charges)[: n - 1]

    zz = np.zeros((n, n))
    for j in range(1, n - 1):
        zz[:j, j] = 0.5 * J * (n - 1 - j)
    # μ_i (electric part) = J Σ_{n=i}^{N-2} b_n
    z = J * np.concatenate([np.cumsum(b[::-1])[::-1], [0.0]])
    constant = J * float(np.sum((np.arange(n - 1) + 1) / 4.0 + b**2))

    if formulation == "rotated":
        hopping = 0.5 * (w - sign[:-1] * (mass / 2.0) * math.sin(theta))
        z = z + sign * (mass * math.cos(theta) - mass_offset) / 2.0
    else:
        hopping = np.full(n - 1, w / 2.0)
        z = z + sign * (mass - mass_offset) / 2.0
    return SchwingerTerms(hopping=hopping, z=z, zz=zz, constant=constant)


class _ChainCouplings:
    """The couplings derived from (N, a, g, mass_shift), shared by :class:`SchwingerModel` and
    :class:`SchwingerChain`."""

    n_sites: int
    spacing: float
    coupling: float
    mass_shift: bool

    @property
    def n_qubits(self) -> int:
        return int(self.n_sites)

    @property
    def w(self) -> float:
        """Hopping w = 1/(2a)."""
        return 1.0 / (2.0 * self.spacing)

    @property
    def J(self) -> float:
        """Electric coupling J = g²a/2."""
        return self.coupling**2 * self.spacing / 2.0

    @property
    def mass_offset(self) -> float:
        """δ subtracted from the staggered scalar mass: g²a/8 with ``mass_shift``, else 0."""
        return self.coupling**2 * self.spacing / 8.0 if self.mass_shift else 0.0

    @property
    def volume(self) -> float:
        """Physical length N·a."""
        return self.n_sites * self.spacing


@dataclass(frozen=True)
class SchwingerModel(_ChainCouplings):
    """Staggered lattice Schwinger model on N qubits.

    Parameters (units of g unless stated)
    ----------
    n_sites:     N, even, ≥ 2 (N/2 physical sites of a Dirac fermion).
    spacing:     lattice spacing a > 0.
    mass:        fermion mass m (any real; m ≥ 0 is the usual choice).
    theta:       vacuum angle θ in radians.
    coupling:    g > 0 (default 1; all outputs are in units of g).
    formulation: ``"rotated"`` (θ in the mass, arXiv:2001.00485) or ``"electric"``
                 (θ as a background field, arXiv:2105.03276).
    mass_shift:  shift the staggered scalar mass by −g²a/8 (Dempsey et al. 2022): m − g²a/8
                 (electric), m cos θ − g²a/8 with m sin θ unchanged (rotated); improves the
                 approach to the continuum of the staggered discretization.
    """

    n_sites: int
    spacing: float
    mass: float
    theta: float = 0.0
    coupling: float = 1.0
    formulation: Formulation = "rotated"
    mass_shift: bool = False

    def __post_init__(self) -> None:
        _check_sites(self.n_sites)
        require(math.isfinite(self.spacing) and self.spacing > 0, "spacing", "must be > 0", self.spacing)
        require(math.isfinite(self.mass), "mass", "must be a finite number", self.mass)
        require(math.isfinite(self.theta), "theta", "must be a finite number (radians)", self.theta)
        require(math.isfinite(self.coupling) and self.coupling > 0, "coupling", "must be > 0", self.coupling)
        require(math.isfinite(self.coupling * self.coupling * self.spacing) and math.isfinite(0.5 / self.spacing),
                "coupling", "g²a and 1/a must be finite numbers", self.coupling)
        if self.formulation not in FORMULATIONS:
            raise ParameterError("formulation", f"must be one of {', '.join(FORMULATIONS)}", self.formulation)

    # --- Hamiltonian --------------------------------------------------------------------
    def terms(self) -> SchwingerTerms:
        return schwinger_terms(
            self.n_sites, w=self.w, J=self.J, mass=self.mass, theta=self.theta,
            formulation=self.formulation, mass_offset=self.mass_offset,
        )

    def hamiltonian(self) -> SparsePauliOp:
        """H as a :class:`SparsePauliOp`, built directly as a Pauli sum (see module docstring)."""
        return self.terms().to_sparse_pauli_op()

    def with_(self, **changes) -> "SchwingerModel":
        """A copy with some parameters changed, e.g. ``model.with_(theta=0.5)``."""
        return replace(self, **changes)

    def params(self) -> dict:
        """Parameters as a JSON-ready dict."""
        return {
            "n_sites": self.n_sites, "spacing": self.spacing, "mass": self.mass,
            "theta": self.theta, "coupling": self.coupling, "formulation": self.formulation,
            "mass_shift": self.mass_shift,
        }


#: Symmetries :meth:`SchwingerChain.symmetry` recognizes (the lattice remnants of C and P).
CHAIN_SYMMETRIES: tuple[str, ...] = ("cp", "reflection")


@dataclass(frozen=True)
class SchwingerChain(_ChainCouplings):
    r"""An open staggered chain of any length, with static external charges and a chosen total charge.

    The general form of :class:`SchwingerModel` behind the spectrum, θ = π and probe-charge
    studies; its Hamiltonian comes from :func:`chain_terms`, the same coefficient code as
    :func:`schwinger_terms`.  Gauss's law with the external charges q_n and the background
    field ϑ = θ/2π (electric formulation; 0 in the rotated one) gives the field on link n
    (between sites n and n + 1)

    .. math:: E_n/g = ϑ + \sum_{i\le n} (Q_i + q_i), \qquad Q_i = (Z_i + (-1)^i)/2,

    and the dynamical charge Q = Σ_i Q_i is conserved; ``charge`` selects its sector, i.e. the
    number of occupied sites (N + 2Q − (N mod 2))/2.  The field left of site 0 is ϑ, right of
    site N − 1 it is ϑ + Q + Σq.

    Parameters (units of g): as :class:`SchwingerModel`, plus
    ``external_charges`` (empty, or N static charges q_n) and ``charge`` (the integer Q).
    ``n_sites`` may be odd: the odd chain at θ = π in the sector Q = −1 has boundary fields
    +½ and −½ and is mirror symmetric with E → −E (:meth:`symmetry`), so neither vacuum of
    the θ = π theory is pinned by the boundaries.
    """

    n_sites: int
    spacing: float
    mass: float
    theta: float = 0.0
    coupling: float = 1.0
    formulation: Formulation = "electric"
    mass_shift: bool = False
    external_charges: tuple[float, ...] = ()
    charge: int = 0

    def __post_init__(self) -> None:
        require(isinstance(self.n_sites, (int, np.integer)) and not isinstance(self.n_sites, bool)
                and self.n_sites >= 2, "n_sites", "must be an integer >= 2", self.n_sites)
        require(math.isfinite(self.spacing) and self.spacing > 0, "spacing", "must be > 0", self.spacing)
        require(math.isfinite(self.mass), "mass", "must be a finite number", self.mass)
        require(math.isfinite(self.theta), "theta", "must be a finite number (radians)", self.theta)
        require(math.isfinite(self.coupling) and self.coupling > 0, "coupling", "must be > 0", self.coupling)
        if self.formulation not in FORMULATIONS:
            raise ParameterError("formulation", f"must be one of {', '.join(FORMULATIONS)}", self.formulation)
        charges = tuple(float(q) for q in self.external_charges)
        require(len(charges) in (0, int(self.n_sites)) and all(math.isfinite(q) for q in charges),
                "external_charges", f"must be empty or {self.n_sites} finite numbers", len(charges))
        object.__setattr__(self, "external_charges", charges)
        require(isinstance(self.charge, (int, np.integer)) and not isinstance(self.charge, bool), "charge",
                "must be an integer", self.charge)
        occupied = self.n_sites + 2 * int(self.charge) - self.n_sites % 2
        require(occupied % 2 == 0 and 0 <= occupied // 2 <= self.n_sites, "charge",
                f"must be reachable on {self.n_sites} sites (|Q| <= {self.n_sites // 2})", self.charge)

    @classmethod
    def from_model(cls, model: SchwingerModel) -> "SchwingerChain":
        """The neutral chain of a :class:`SchwingerModel` (same Hamiltonian)."""
        return cls(model.n_sites, model.spacing, model.mass, theta=model.theta, coupling=model.coupling,
                   formulation=model.formulation, mass_shift=model.mass_shift)

    @property
    def background_field(self) -> float:
        """ϑ = θ/2π in the electric formulation, 0 in the rotated one."""
        return self.theta / (2.0 * math.pi) if self.formulation == "electric" else 0.0

    @property
    def occupied(self) -> int:
        """Number of occupied sites (qubits in |0⟩) of the charge sector."""
        return (self.n_sites + 2 * int(self.charge) - self.n_sites % 2) // 2

    @property
    def popcount(self) -> int:
        """Number of set bits (empty sites) of the sector's basis states."""
        return int(self.n_sites) - self.occupied

    def charges(self) -> np.ndarray:
        """q_n as an array (zeros when no external charges)."""
        return np.asarray(self.external_charges, dtype=float) if self.external_charges else np.zeros(self.n_sites)

    def terms(self) -> SchwingerTerms:
        return chain_terms(
            self.n_sites, w=self.w, J=self.J, mass=self.mass, theta=self.theta, formulation=self.formulation,
            mass_offset=self.mass_offset, external_charges=self.external_charges or None,
        )

    def electric_field(self, z: np.ndarray) -> np.ndarray:
        """E_n/g on the N − 1 links from the site expectations ⟨Z_i⟩ (class docstring)."""
        z = np.asarray(z, dtype=float)
        require(z.shape[-1] == self.n_sites, "z", f"must end in an axis of {self.n_sites} sites", z.shape)
        local = 0.5 * (z + (-1.0) ** np.arange(self.n_sites)) + self.charges()
        return self.background_field + np.cumsum(local, axis=-1)[..., :-1]

    def initial_bits(self) -> np.ndarray:
        """A product state of the sector: the bare vacuum (odd sites occupied) with sites from the
        middle emptied (Q < 0) or filled (Q > 0) — the DMRG start."""
        n = int(self.n_sites)
        bits = (np.arange(n) % 2 == 0).astype(np.int8)
        change = self.occupied - n // 2
        parity = 1 if change < 0 else 0  # empty odd sites, or fill even sites
        order = sorted((i for i in range(n) if i % 2 == parity), key=lambda i: (abs(i - (n - 1) / 2), i))
        for i in order[:abs(change)]:
            bits[i] = 1 - bits[i]
        return bits

    def symmetry(self, *, atol: float = 1e-12) -> str | None:
        r"""The mirror symmetry of the Hamiltonian in this sector, if any (lattice C and P remnants).

        - ``"cp"``: reflection n → N−1−n with particle–hole conjugation (Z → −Z on every
          qubit).  N even, Q = 0, external charges odd under the mirror (q_n = −q_{N−1−n}):
          the staggered mass and hopping are invariant, Q_n → −Q_{N−1−n}, E_n → E_{N−2−n}.
          It is CP of the continuum (C and P separately need the one-site translation of the
          staggered lattice, which an open chain lacks).
        - ``"reflection"``: n → N−1−n alone (N odd, where it maps even sites to even sites),
          with E_n → −E_{N−2−n}; it needs 2ϑ + Q + S_n + S_{N−2−n} = 0 for every link n,
          S_n = Σ_{i≤n} q_i, and no staggered hopping (electric formulation, or sin θ = 0).
          At θ = π with Q = −1 and no probes this is the Z₂ (E → −E) of the θ = π theory.

        Returns None when neither holds.  (Checked against the sector matrix in the tests.)
        """
        n = int(self.n_sites)
        q = self.charges()
        if n % 2 == 0:
            if self.charge == 0 and np.allclose(q, -q[::-1], atol=atol):
                return "cp"
            return None
        if self.formulation == "rotated" and abs(math.sin(self.theta)) > atol:
            return None
        s = np.cumsum(q)[: n - 1]
        if np.allclose(2.0 * self.background_field + self.charge + s + s[::-1], 0.0, atol=atol):
            return "reflection"
        return None

    def with_(self, **changes) -> "SchwingerChain":
        return replace(self, **changes)

    def params(self) -> dict:
        out: dict[str, Any] = {
            "n_sites": int(self.n_sites), "spacing": self.spacing, "mass": self.mass, "theta": self.theta,
            "coupling": self.coupling, "formulation": self.formulation, "mass_shift": self.mass_shift,
            "charge": int(self.charge),
        }
        if self.external_charges:
            out["external_charges"] = list(self.external_charges)
        return out


def mass_derivative_terms(model: SchwingerModel) -> SchwingerTerms:
    r"""∂H/∂m as Schwinger terms: H is linear in m, so ∂H/∂m = H(m = 1) − H(m = 0) exactly.

    Rotated: ∂H/∂m = (cos θ/2) Σ(−1)^n Z_n − (sin θ/4) Σ(−1)^n (X_nX_{n+1} + Y_nY_{n+1});
    electric: ½ Σ(−1)^n Z_n.  The ``mass_shift`` offset does not depend on m and drops out.
    By Hellmann–Feynman ⟨∂H/∂m⟩/(Na) is the physical condensate ∂E₀/∂m per unit length.
    """
    one = schwinger_terms(model.n_sites, w=model.w, J=model.J, mass=1.0, theta=model.theta,
                          formulation=model.formulation)
    zero = schwinger_terms(model.n_sites, w=model.w, J=model.J, mass=0.0, theta=model.theta,
                           formulation=model.formulation)
    n = model.n_sites
    return SchwingerTerms(hopping=one.hopping - zero.hopping, z=one.z - zero.z, zz=np.zeros((n, n)), constant=0.0)


def bare_vacuum_bits(n_sites: int) -> np.ndarray:
    """Qubit bits of the bare vacuum (ground state at w = 0, m > 0): odd sites occupied.

    Z_n = −(−1)^n, i.e. bit 1 (empty, Z = −1) on even sites and bit 0 (occupied) on odd sites.
    """
    _check_sites(n_sites)
    return (np.arange(n_sites) % 2 == 0).astype(np.int8)


def bare_vacuum_index(n_sites: int) -> int:
    """Computational-basis index (little-endian) of the bare vacuum."""
    bits = bare_vacuum_bits(n_sites)
    return int(np.sum(bits.astype(np.int64) << np.arange(n_sites)))

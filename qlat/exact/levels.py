r"""Low-lying levels of a Schwinger chain and what the spectrum studies measure on them.

A :class:`Levels` holds the k lowest eigenstates of a :class:`~qlat.theories.schwinger_qubit.SchwingerChain`
in its charge sector, from exact diagonalization (:func:`ed_levels`, N ≲ 22) or DMRG
(:func:`dmrg_levels`, long chains), and evaluates on them, with one code path per method:

- ``z_expectations()``: ⟨ψ_k|Z_n|ψ_k⟩ (k × N), hence charge density and electric field
  (:meth:`SchwingerChain.electric_field`);
- ``transition_z(i, j)``: ⟨ψ_i|Z_n|ψ_j⟩ on every site n — the transition amplitudes behind the
  charge-conjugation assignment of :mod:`qlat.analysis.spectrum`;
- ``mirror_values()``: ⟨ψ_k|U|ψ_k⟩ for the chain's exact mirror symmetry U
  (:meth:`SchwingerChain.symmetry`): reflection n → N−1−n, with particle–hole conjugation
  X^{⊗N} for ``"cp"``.  An eigenstate of a non-degenerate level gives ±1.
- ``field_correlation(sites)``: ⟨ψ_k|Z_iZ_j|ψ_k⟩ on a block of sites (for ⟨E²⟩ there).

DMRG states are matrix-product states (TeNPy); the measurements contract them as dense
tensors (right-canonical B form, legs vL, p, vR; TeNPy's ``"up"`` is qubit bit 0, Z = +1),
O(N χ³) each, without TeNPy's charge bookkeeping, which the particle–hole map
(Sz → −Sz) would violate.

DMRG truncation: the levels are computed at χ_ref (default χ/2) from product states, then at χ
warm-started from the χ_ref states; ``reference_energies`` keeps the χ_ref energies.  The
truncation error is the line in the discarded weight of :mod:`qlat.exact.dmrg_truncation` (as in
:func:`qlat.exact.dmrg.dmrg_estimates`), level by level: :meth:`Levels.line_energies` and
``z_expectations(line=True)`` are X(χ) + f_k [X(χ) − X(χ_ref)] with each level's own fraction
f_k = w_k(χ)/(w_k(χ_ref) − w_k(χ)), so a study redone on them differs from the χ study by the
line's error of any derived quantity (× ``OBSERVABLE_FACTOR`` for quantities first order in the
state error, such as fields; energies and gaps as they are).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.theories.schwinger_qubit import SchwingerChain, SchwingerModel

__all__ = ["LEVEL_METHODS", "Levels", "dmrg_levels", "ed_levels", "levels", "mirror_indices"]

#: How the levels are computed.
LEVEL_METHODS: tuple[str, ...] = ("ed", "dmrg")

#: Longest chain :func:`ed_levels` accepts (C(22, 11) = 705 432 states; k ≲ 10 levels in ~1 min).
ED_LEVELS_MAX_SITES = 22


def _as_chain(target: SchwingerChain | SchwingerModel) -> SchwingerChain:
    if isinstance(target, SchwingerChain):
        return target
    if isinstance(target, SchwingerModel):
        return SchwingerChain.from_model(target)
    raise ParameterError("target", "must be a SchwingerChain or SchwingerModel", type(target).__name__)


def mirror_indices(basis: np.ndarray, n_sites: int, *, conjugate: bool) -> np.ndarray:
    """Basis index of the mirror image of each basis state: bit n → bit N−1−n (flipped if ``conjugate``)."""
    basis = np.asarray(basis, dtype=np.int64)
    out = np.zeros_like(basis)
    for n in range(n_sites):
        bit = (basis >> n) & 1
        if conjugate:
            bit = 1 - bit
        out |= bit << (n_sites - 1 - n)
    return out


@dataclass
class Levels:
    """The k lowest levels of ``chain`` (module docstring).

    energies:           (k,) ascending, constant of H included.
    method:             ``"ed"`` or ``"dmrg"``.
    reference_energies: (k,) the same levels at the reference bond dimension (DMRG with the
                        truncation check), else None.
    details:            JSON-ready description (sector dimension, DMRG runs, seconds …).
    """

    chain: SchwingerChain
    energies: np.ndarray
    method: str
    reference_energies: np.ndarray | None = None
    details: dict[str, Any] = field(default_factory=dict)
    _vectors: np.ndarray | None = field(default=None, repr=False)
    _basis: np.ndarray | None = field(default=None, repr=False)
    _tensors: list[list[np.ndarray]] | None = field(default=None, repr=False)
    _reference_tensors: list[list[np.ndarray]] | None = field(default=None, repr=False)

    @property
    def k(self) -> int:
        return int(self.energies.size)

    @property
    def gaps(self) -> np.ndarray:
        """E_k − E₀ for k = 1..(levels − 1)."""
        return self.energies[1:] - self.energies[0]

    def _check_level(self, i: int, name: str) -> None:
        require(isinstance(i, (int, np.integer)) and 0 <= i < self.k, name, f"must be an integer in [0, {self.k})",
                i)

    # --- measurements ------------------------------------------------------------------------
    def z_expectations(self, *, reference: bool = False, line: bool = False) -> np.ndarray:
        """⟨ψ_k|Z_n|ψ_k⟩, shape (k, N); ``reference``: on the χ_ref states (DMRG with the truncation
        check; for ED, or when χ_ref never bound, the same as the final states); ``line``: on the line
        in the discarded weight, Z(χ) + f_k [Z(χ) − Z(χ_ref)] (module docstring)."""
        if line:
            final = self.z_expectations()
            return final + self.line_fractions()[:, None] * (final - self.z_expectations(reference=True))
        if reference and self._reference_tensors is not None:
            return np.array([np.real(_dense_transition(t, t, _z_diagonal())) for t in self._reference_tensors])
        return np.array([np.real(self.transition_z(i, i)) for i in range(self.k)])

    def line_fractions(self) -> np.ndarray:
        """(k,) each level's fraction f_k of |X(χ) − X(χ_ref)| still missing at χ on the line in the
        discarded weight (:func:`qlat.exact.dmrg_truncation.run_factor`); 0 without a truncation check."""
        from qlat.exact.dmrg_truncation import run_factor

        runs = self.details.get("runs") or []
        if self.reference_energies is None or len(runs) < 2:
            return np.zeros(self.k)
        return np.array([run_factor(ref, run) for ref, run in zip(runs[0], runs[-1], strict=True)])

    def line_warnings(self) -> list[str]:
        """Why a level's line cannot be trusted (:func:`qlat.exact.dmrg_truncation.run_warnings`)."""
        from qlat.exact.dmrg_truncation import run_warnings

        runs = self.details.get("runs") or []
        if self.reference_energies is None or len(runs) < 2:
            return []
        return [m for i, (ref, run) in enumerate(zip(runs[0], runs[-1], strict=True))
                for m in run_warnings(f"level {i}", ref, run)]

    def line_row_warnings(self) -> list[str]:
        """:meth:`line_warnings` prefixed with the chain (N, a, m, θ), each also emitted (QlatWarning): what a
        study row records as ``truncation_warnings``."""
        from qlat.core.errors import warn

        c = self.chain
        out = [f"N = {c.n_sites}, a = {c.spacing:g}, m = {c.mass:g}, theta = {c.theta:g}: {m}" for m in self.line_warnings()]
        for message in out:
            warn(f"dmrg levels: {message}")
        return out

    def line_energies(self) -> np.ndarray:
        """E_k(χ) + f_k [E_k(χ) − E_k(χ_ref)]: the levels on the line in the discarded weight (module docstring)."""
        if self.reference_energies is None:
            return self.energies.copy()
        return self.energies + self.line_fractions() * (self.energies - self.reference_energies)

    def transition_z(self, i: int, j: int = 0) -> np.ndarray:
        """⟨ψ_i|Z_n|ψ_j⟩ for n = 0..N−1 (complex for DMRG; its overall phase is arbitrary for i ≠ j)."""
        self._check_level(i, "i")
        self._check_level(j, "j")
        n = self.chain.n_sites
        if self._vectors is not None:
            assert self._basis is not None
            zs = 1.0 - 2.0 * ((self._basis[:, None] >> np.arange(n)) & 1)
            return (self._vectors[:, i] * self._vectors[:, j]) @ zs
        assert self._tensors is not None
        return _dense_transition(self._tensors[i], self._tensors[j], _z_diagonal())

    def mirror_values(self) -> np.ndarray:
        """⟨ψ_k|U|ψ_k⟩ for the chain's mirror symmetry U (±1 for non-degenerate levels).

        Raises :class:`ParameterError` when the chain has none (:meth:`SchwingerChain.symmetry`).
        """
        kind = self.chain.symmetry()
        require(kind is not None, "chain", "has no mirror symmetry in this sector (SchwingerChain.symmetry)",
                self.chain.params())
        conjugate = kind == "cp"
        if self._vectors is not None:
            assert self._basis is not None
            image = mirror_indices(self._basis, self.chain.n_sites, conjugate=conjugate)
            pos = np.searchsorted(self._basis, image)
            return np.einsum("xk,xk->k", self._vectors, self._vectors[pos, :])
        assert self._tensors is not None
        return np.array([np.real(_dense_overlap(t, _mirror(t, conjugate))) for t in self._tensors])

    def zz_block(self, sites: Sequence[int], level: int = 0) -> np.ndarray:
        """⟨ψ|Z_iZ_j|ψ⟩ for i, j in ``sites`` (a symmetric matrix; diagonal 1)."""
        self._check_level(level, "level")
        idx = [int(s) for s in sites]
        require(all(0 <= s < self.chain.n_sites for s in idx), "sites", "must be sites of the chain", sites)
        if self._vectors is not None:
            assert self._basis is not None
            zs = 1.0 - 2.0 * ((self._basis[:, None] >> np.asarray(idx)) & 1)
            prob = self._vectors[:, level] ** 2
            return np.einsum("x,xi,xj->ij", prob, zs, zs)
        assert self._tensors is not None
        return _dense_zz(self._tensors[level], idx)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "energies": self.energies.tolist(), **self.details}
        if self.reference_energies is not None:
            out["reference_energies"] = self.reference_energies.tolist()
        return out


# --- exact diagonalization --------------------------------------------------------------------
def ed_levels(target: SchwingerChain | SchwingerModel, k: int) -> Levels:
    """The ``k`` lowest levels of the chain's charge sector by exact diagonalization (N ≤ 22)."""
    from qlat.exact.diagonalization import lowest_eigenpairs, sparse_on
    from qlat.exact.sector_operators import sector_basis

    chain = _as_chain(target)
    require(chain.n_sites <= ED_LEVELS_MAX_SITES, "n_sites",
            f"exact diagonalization of levels takes N <= {ED_LEVELS_MAX_SITES}", chain.n_sites,
            hint="a smaller N, or DMRG for longer chains")
    start = time.perf_counter()
    basis = sector_basis(chain.n_sites, chain.popcount)
    require(isinstance(k, (int, np.integer)) and 1 <= k <= basis.size, "k",
            f"must be an integer in [1, {basis.size}]", k)
    matrix = sparse_on(chain.terms(), basis)
    values, vectors = lowest_eigenpairs(matrix, int(k))
    return Levels(chain=chain, energies=np.asarray(values, dtype=float), method="ed",
                  details={"sector_dimension": int(basis.size), "seconds": round(time.perf_counter() - start, 3)},
                  _vectors=np.asarray(vectors, dtype=float), _basis=basis)


# --- DMRG -------------------------------------------------------------------------------------
def dmrg_levels(
    target: SchwingerChain | SchwingerModel,
    k: int,
    *,
    bond_dim: int = 64,
    reference_bond_dim: int | None = None,
    truncation_check: bool = True,
    settings: Any = None,
    progress: Any = None,
) -> Levels:
    """The ``k`` lowest levels by sequential DMRG (:func:`qlat.exact.dmrg.lowest_states`), module docstring.

    With ``truncation_check`` the levels are first computed at ``reference_bond_dim`` (default
    χ/2) from product states and then at χ warm-started from them; ``reference_energies``
    keeps the first.  When χ_ref never bound (only ``svd_min`` truncated), the χ run would be
    the same computation and is skipped.
    """
    from qlat.exact.dmrg import DMRGSettings, lowest_states

    chain = _as_chain(target)
    require(isinstance(k, (int, np.integer)) and k >= 1, "k", "must be an integer >= 1", k)
    settings = replace(settings or DMRGSettings(), bond_dim=int(bond_dim))
    chis = [int(bond_dim)]
    if truncation_check:
        ref = reference_bond_dim if reference_bond_dim is not None else max(2, int(bond_dim) // 2)
        require(isinstance(ref, (int, np.integer)) and 2 <= ref < bond_dim, "reference_bond_dim",
                f"must be an integer in [2, bond_dim = {bond_dim})", ref)
        chis = [int(ref), int(bond_dim)]
    start = time.perf_counter()
    terms = chain.terms()
    bits = chain.initial_bits().tolist()
    stages: list[list[Any]] = []
    for stage, chi in enumerate(chis):
        if stage == 0:
            stage_settings = replace(settings, bond_dim=chi)
            runs = lowest_states(terms, int(k), start_bits=bits, settings=stage_settings, progress=progress)
        else:
            if not any(r.max_bond_dim >= r.settings.bond_dim for r in stages[-1]):
                stages.append(stages[-1])
                continue
            stage_settings = replace(settings, bond_dim=chi, mixer_sweeps=0, min_sweeps=min(2, settings.max_sweeps))
            runs = lowest_states(terms, int(k), start_bits=bits, settings=stage_settings,
                                 warm=[r.psi for r in stages[-1]], progress=progress)
        stages.append(runs)
    final = stages[-1]
    energies = np.array([r.energy for r in final])
    reference = np.array([r.energy for r in stages[0]]) if truncation_check else None
    details = {
        "bond_dims": chis, "runs": [[r.summary() for r in runs] for runs in stages],
        "converged": bool(all(r.converged for runs in stages for r in runs)),
        "seconds": round(time.perf_counter() - start, 3),
    }
    tensors = [_dense_tensors(r.psi) for r in final]
    reference_tensors = ([_dense_tensors(r.psi) for r in stages[0]] if truncation_check and stages[0] is not final
                         else None)
    return Levels(chain=chain, energies=energies, method="dmrg", reference_energies=reference, details=details,
                  _tensors=tensors, _reference_tensors=reference_tensors)


def levels(target: SchwingerChain | SchwingerModel, k: int, *, method: str = "ed", **options: Any) -> Levels:
    """:func:`ed_levels` or :func:`dmrg_levels` by ``method``."""
    if method not in LEVEL_METHODS:
        raise ParameterError("method", f"must be one of {', '.join(LEVEL_METHODS)}", method)
    if method == "ed":
        require(not options, "options", "exact diagonalization takes no options", ", ".join(options))
        return ed_levels(target, k)
    return dmrg_levels(target, k, **options)


# --- dense MPS contractions -------------------------------------------------------------------
def _z_diagonal() -> np.ndarray:
    """Z on TeNPy's local basis of :func:`~qlat.exact.schwinger_mpo.spin_site` (``"up"``: Z = +1)."""
    from qlat.exact.schwinger_mpo import spin_site

    labels = spin_site().state_labels
    out = np.zeros(2)
    out[labels["up"]] = 1.0
    out[labels["down"]] = -1.0
    return out


def _dense_tensors(psi: Any) -> list[np.ndarray]:
    """The MPS as dense (vL, p, vR) arrays in right-canonical form, norm folded into site 0."""
    from qlat.exact.schwinger_mpo import quiet_tenpy

    with quiet_tenpy():
        out = [psi.get_B(i, form="B", copy=True).itranspose(["vL", "p", "vR"]).to_ndarray() for i in range(psi.L)]
    out[0] = out[0] * psi.norm
    return out


def _mirror(tensors: list[np.ndarray], conjugate: bool) -> list[np.ndarray]:
    """The mirrored state: site n ← site N−1−n (legs swapped), physical index flipped if ``conjugate``."""
    out = [t.transpose(2, 1, 0) for t in tensors[::-1]]
    return [t[:, ::-1, :] for t in out] if conjugate else out


def _dense_overlap(bra: list[np.ndarray], ket: list[np.ndarray]) -> complex:
    env = np.ones((1, 1), dtype=complex)
    for a, b in zip(bra, ket):
        env = np.einsum("ab,apc,bpd->cd", env, a.conj(), b, optimize=True)
    return complex(env[0, 0])


def _environments(bra: list[np.ndarray], ket: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Left environments L_n (sites < n) and right environments R_n (sites > n) of ⟨bra|ket⟩."""
    n = len(bra)
    left = [np.ones((1, 1), dtype=complex)]
    for a, b in zip(bra[:-1], ket[:-1]):
        left.append(np.einsum("ab,apc,bpd->cd", left[-1], a.conj(), b, optimize=True))
    right = [np.ones((1, 1), dtype=complex)]
    for a, b in zip(bra[:0:-1], ket[:0:-1]):
        right.append(np.einsum("apc,bpd,cd->ab", a.conj(), b, right[-1], optimize=True))
    right = right[::-1]
    assert len(left) == len(right) == n
    return left, right


def _dense_transition(bra: list[np.ndarray], ket: list[np.ndarray], diag: np.ndarray) -> np.ndarray:
    """⟨bra|O_n|ket⟩ for the one-site diagonal operator diag(``diag``) on every site n."""
    left, right = _environments(bra, ket)
    return np.array([np.einsum("ab,apc,p,bpd,cd->", left[n], a.conj(), diag, b, right[n], optimize=True)
                     for n, (a, b) in enumerate(zip(bra, ket))])


def _dense_zz(tensors: list[np.ndarray], sites: list[int]) -> np.ndarray:
    """⟨ψ|Z_iZ_j|ψ⟩ on the given sites."""
    z = _z_diagonal()
    left, right = _environments(tensors, tensors)
    n = len(sites)
    out = np.eye(n)
    order = sorted(range(n), key=lambda i: sites[i])
    for ii, i in enumerate(order):
        si = sites[i]
        a = tensors[si]
        env = np.einsum("ab,apc,p,bpd->cd", left[si], a.conj(), z, a, optimize=True)
        pos = si + 1
        for j in order[ii + 1:]:
            sj = sites[j]
            while pos < sj:
                t = tensors[pos]
                env = np.einsum("ab,apc,bpd->cd", env, t.conj(), t, optimize=True)
                pos += 1
            t = tensors[sj]
            val = np.einsum("ab,apc,p,bpd,cd->", env, t.conj(), z, t, right[sj], optimize=True)
            out[i, j] = out[j, i] = float(np.real(val))
    return out

r"""The two-dimensional Wilson Dirac operator on U(1) link angles: sparse, dense, batched.

Lattice axis 0 is Euclidean time (antiperiodic fermions), axis 1 is space (periodic).  With
U_μ(x) = e^{iθ_μ(x)} and the Wilson parameter r = 1,

.. math::
    D_{xy} = (m_0 + 2)\,δ_{xy} − \tfrac12 \sum_μ \big[(1 − γ_μ) U_μ(x) δ_{x+μ̂,y}
             + (1 + γ_μ) U_μ^†(x − μ̂) δ_{x−μ̂,y}\big],

γ₁ = σ₁ (axis 0), γ₂ = σ₂ (axis 1), γ₅ = −iγ₁γ₂ = σ₃, κ = 1/(2m₀ + 4) (so D = (1 − κH)/(2κ)
with H the hopping matrix).  The hopping term picks up a factor −1 whenever it crosses the
time boundary.  D is γ₅-hermitian, D† = γ₅Dγ₅, hence det D is real (it may be negative for one
flavour) and det D†D = (det D)².  Free field: D(p) = M(p) + iΣ_μ γ_μ sin p_μ,
M(p) = m₀ + Σ_μ(1 − cos p_μ) (``qlat.exact.wilson_free``; Christian et al., Nucl. Phys. B 739
(2006) 60; Gattringer & Lang, *Quantum Chromodynamics on the Lattice*, ch. 5).

Implementation: the operator is a fixed sparsity pattern whose matrix elements are
``coef_k · exp(i s_k θ_{l_k})`` (s_k = +1 for a forward hop on link l_k, −1 for the backward
hop, 0 on the diagonal).  A batch of gauge fields gives a ``(batch, nnz)`` array of values from
which CSR matrices (one block-diagonal matrix for the whole batch), dense matrices and the
derivatives ∂D/∂θ_l = i s_k D_k on the entries of link l are built without Python loops; the
link gradient of any bilinear Re(Y† ∂D X) is one product with a fixed link-incidence matrix.
Everything here is numpy/scipy (complex128); the theory converts to torch at its boundary.
Spinor index: ``2·(x₀·L₁ + x₁) + spin``; link index: ``μ·V + x₀·L₁ + x₁`` (the flattened
``(2, L₀, L₁)`` link-angle array of :mod:`qlat.theories.u1`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse

from qlat.core.errors import require

#: Pauli matrices γ₁ = σ₁, γ₂ = σ₂ (one per lattice axis), γ₅ = σ₃.
GAMMA = (
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
)
GAMMA5 = np.array([[1, 0], [0, -1]], dtype=np.complex128)

#: Largest 2V for which dense matrices (exact determinants, exact traces) are built.
DENSE_MAX_DIM = 2048


def mass_from_kappa(kappa: float) -> float:
    """m₀ = 1/(2κ) − 2."""
    return 1.0 / (2.0 * kappa) - 2.0


def kappa_from_mass(mass: float) -> float:
    """κ = 1/(2m₀ + 4)."""
    return 1.0 / (2.0 * mass + 4.0)


@dataclass(frozen=True)
class WilsonPattern:
    """The sparsity pattern of D on an L₀×L₁ torus (time antiperiodic, space periodic).

    Attributes
    ----------
    shape: (L₀, L₁), both >= 3 (so that x + μ̂ ≠ x − μ̂ and no entry appears twice).
    rows, cols: COO indices of the nnz entries, sorted by (row, col) (CSR order).
    coef: complex coefficient of each entry (m₀-independent part; the diagonal holds 1).
    sign: +1 forward hop (U), −1 backward hop (U*), 0 diagonal.
    link: flattened link index l_k of each hop entry (0 for the diagonal; masked by ``sign``).
    """

    shape: tuple[int, int]
    rows: np.ndarray = field(repr=False)
    cols: np.ndarray = field(repr=False)
    coef: np.ndarray = field(repr=False)
    sign: np.ndarray = field(repr=False)
    link: np.ndarray = field(repr=False)
    indptr: np.ndarray = field(repr=False)
    diagonal: np.ndarray = field(repr=False)

    @property
    def volume(self) -> int:
        return int(self.shape[0] * self.shape[1])

    @property
    def dim(self) -> int:
        """2V, the size of D."""
        return 2 * self.volume

    @property
    def n_links(self) -> int:
        return 2 * self.volume

    @property
    def nnz(self) -> int:
        return int(self.rows.size)


_PATTERNS: dict[tuple[int, int], WilsonPattern] = {}


def single_blas_thread() -> Any:
    """A context with one BLAS thread (``threadpoolctl``), or a no-op when it is not installed.

    The dense determinants are many small LAPACK calls; on a shared 2-core machine a
    multithreaded OpenBLAS spends most of the time spin-waiting (measured: 128×128 batched
    inverse 0.83 s with the default threads, 0.012 s with one).
    """
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only speed depends on it
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def wilson_pattern(shape: tuple[int, int]) -> WilsonPattern:
    """The (cached) :class:`WilsonPattern` of an L₀×L₁ lattice."""
    shape = (int(shape[0]), int(shape[1]))
    require(len(shape) == 2 and min(shape) >= 3, "shape", "the Wilson operator needs a 2D lattice with L >= 3", shape)
    if shape in _PATTERNS:
        return _PATTERNS[shape]
    L0, L1 = shape
    V = L0 * L1
    x0, x1 = np.meshgrid(np.arange(L0), np.arange(L1), indexing="ij")
    site = (x0 * L1 + x1).ravel()
    rows, cols, coef, sign, link = [], [], [], [], []
    # diagonal (m0 + 2 is applied later: coefficient 1 here, marked by sign 0)
    for a in range(2):
        rows.append(2 * site + a)
        cols.append(2 * site + a)
        coef.append(np.ones(V, dtype=np.complex128))
        sign.append(np.zeros(V, dtype=np.int8))
        link.append(np.zeros(V, dtype=np.int64))
    eye = np.eye(2, dtype=np.complex128)
    for mu in range(2):
        if mu == 0:
            y0, y1 = (x0 + 1) % L0, x1
            bc = np.where(x0 == L0 - 1, -1.0, 1.0).ravel()  # antiperiodic in time
        else:
            y0, y1 = x0, (x1 + 1) % L1
            bc = np.ones(V)
        fwd = (y0 * L1 + y1).ravel()
        lnk = mu * V + site
        minus = -0.5 * (eye - GAMMA[mu])  # D(x, x+μ) block, times U_μ(x)
        plus = -0.5 * (eye + GAMMA[mu])  # D(x+μ, x) block, times U_μ(x)^*
        for a in range(2):
            for b in range(2):
                if minus[a, b] != 0:
                    rows.append(2 * site + a)
                    cols.append(2 * fwd + b)
                    coef.append(minus[a, b] * bc)
                    sign.append(np.ones(V, dtype=np.int8))
                    link.append(lnk)
                if plus[a, b] != 0:
                    rows.append(2 * fwd + a)
                    cols.append(2 * site + b)
                    coef.append(plus[a, b] * bc)
                    sign.append(-np.ones(V, dtype=np.int8))
                    link.append(lnk)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    order = np.lexsort((c, r))
    r, c = r[order], c[order]
    key = r.astype(np.int64) * (2 * V) + c
    require(np.unique(key).size == key.size, "shape", "duplicate entries in the Wilson pattern", shape)
    indptr = np.zeros(2 * V + 1, dtype=np.int64)
    np.add.at(indptr, r + 1, 1)
    indptr = np.cumsum(indptr)
    s = np.concatenate(sign)[order]
    pattern = WilsonPattern(
        shape=shape, rows=r.astype(np.int64), cols=c.astype(np.int64),
        coef=np.concatenate(coef)[order], sign=s.astype(np.float64),
        link=np.concatenate(link)[order], indptr=indptr, diagonal=(s == 0),
    )
    _PATTERNS[shape] = pattern
    return pattern


def _as_links(theta: Any, pattern: WilsonPattern) -> np.ndarray:
    """Link angles as a float64 array ``(batch, 2V)`` (accepts torch or numpy, with or without batch)."""
    if hasattr(theta, "detach"):
        theta = theta.detach().cpu().numpy()
    arr = np.asarray(theta, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[None]
    require(arr.ndim == 4 and arr.shape[1:] == (2, *pattern.shape), "fields",
            f"must have shape (batch, 2, {pattern.shape[0]}, {pattern.shape[1]})", arr.shape)
    return arr.reshape(arr.shape[0], -1)


class WilsonOperator:
    """D[U] for a batch of gauge fields at bare mass ``mass`` (m₀ > −2).

    ``values`` has shape ``(batch, nnz)``: the matrix elements in CSR order of :attr:`pattern`.
    Spinors are complex arrays ``(batch, 2V)``.
    """

    def __init__(self, theta: Any, *, mass: float, shape: tuple[int, int] | None = None) -> None:
        if shape is None:
            raw = theta.shape if hasattr(theta, "shape") else np.shape(theta)
            shape = (int(raw[-2]), int(raw[-1]))
        self.pattern = wilson_pattern(shape)
        self.mass = float(mass)
        self.links = _as_links(theta, self.pattern)
        p = self.pattern
        phase = np.exp(1j * p.sign[None, :] * self.links[:, p.link])
        values = p.coef[None, :] * phase
        values[:, p.diagonal] = self.mass + 2.0
        self.values = values
        self._batch_csr: scipy.sparse.csr_matrix | None = None

    @property
    def batch(self) -> int:
        return int(self.values.shape[0])

    @property
    def dim(self) -> int:
        return self.pattern.dim

    # ------------------------------------------------------------------ matrices
    def csr(self, b: int = 0) -> scipy.sparse.csr_matrix:
        """D of configuration ``b`` as a CSR matrix (2V × 2V)."""
        p = self.pattern
        return scipy.sparse.csr_matrix((self.values[b].copy(), p.cols.copy(), p.indptr.copy()), shape=(p.dim, p.dim))

    def batch_csr(self) -> scipy.sparse.csr_matrix:
        """Block-diagonal CSR of all configurations (batch·2V square), built once."""
        if self._batch_csr is None:
            p = self.pattern
            B, n, nnz = self.batch, p.dim, p.nnz
            indices = (p.cols[None, :] + n * np.arange(B)[:, None]).ravel()
            indptr = np.concatenate([(p.indptr[:-1][None, :] + nnz * np.arange(B)[:, None]).ravel(), [B * nnz]])
            self._batch_csr = scipy.sparse.csr_matrix((self.values.ravel(), indices, indptr), shape=(B * n, B * n))
        return self._batch_csr

    def dense(self, b: int | None = None) -> np.ndarray:
        """Dense D, ``(batch, 2V, 2V)`` (or one configuration ``b``); 2V <= :data:`DENSE_MAX_DIM`."""
        p = self.pattern
        require(p.dim <= DENSE_MAX_DIM, "shape",
                f"dense Wilson matrices are limited to 2V <= {DENSE_MAX_DIM} (use the sparse path)", p.shape)
        sel = range(self.batch) if b is None else [b]
        out = np.zeros((len(sel), p.dim, p.dim), dtype=np.complex128)
        for i, bb in enumerate(sel):
            out[i, p.rows, p.cols] = self.values[bb]
        return out if b is None else out[0]

    # ------------------------------------------------------------------ application
    def apply(self, psi: np.ndarray) -> np.ndarray:
        """Dψ for spinors ``(batch, 2V)``."""
        psi = self._check_spinor(psi)
        return (self.batch_csr() @ psi.ravel()).reshape(psi.shape)

    def apply_dagger(self, psi: np.ndarray) -> np.ndarray:
        """D†ψ = γ₅Dγ₅ψ (γ₅-hermiticity; tested against the explicit conjugate transpose)."""
        return gamma5(self.apply(gamma5(psi)))

    def apply_normal(self, psi: np.ndarray) -> np.ndarray:
        """D†Dψ (hermitian positive definite for m₀ > −2 away from exact zero modes)."""
        return self.apply_dagger(self.apply(psi))

    def _check_spinor(self, psi: np.ndarray) -> np.ndarray:
        psi = np.asarray(psi)
        require(psi.shape == (self.batch, self.dim), "psi", f"must have shape ({self.batch}, {self.dim})", psi.shape)
        return psi

    # ------------------------------------------------------------------ derivatives
    def bilinear_link_gradient(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        r"""G_l = Re(y† ∂D/∂θ_l x) for every link l, shape ``(batch, 2V)`` (link order of the fields).

        ∂D_k/∂θ_{l_k} = i s_k D_k on the entries of link l_k, so G_l = Re Σ_{k∈l} i s_k D_k ȳ_{r_k} x_{c_k}.
        """
        p = self.pattern
        contrib = (np.conj(y[:, p.rows]) * x[:, p.cols] * self.values * (1j * p.sign)[None, :]).real
        return np.asarray(contrib @ _incidence(p))

    def trace_link_gradient(self, inverse: np.ndarray) -> np.ndarray:
        r"""Re Tr(D⁻¹ ∂D/∂θ_l) = Re Σ_{k∈l} i s_k D_k (D⁻¹)_{c_k r_k}: the gradient of log|det D|.

        ``inverse``: dense D⁻¹, ``(batch, 2V, 2V)``.
        """
        p = self.pattern
        gathered = inverse[:, p.cols, p.rows]
        contrib = (gathered * self.values * (1j * p.sign)[None, :]).real
        return np.asarray(contrib @ _incidence(p))

    # ------------------------------------------------------------------ determinants and traces
    def _chunks(self) -> list[range]:
        """Configuration ranges whose dense matrices take at most ~256 MiB together."""
        per = max(1, (256 * 2**20) // (16 * self.dim * self.dim))
        return [range(i, min(i + per, self.batch)) for i in range(0, self.batch, per)]

    def _dense_range(self, sel: range) -> np.ndarray:
        p = self.pattern
        out = np.zeros((len(sel), p.dim, p.dim), dtype=np.complex128)
        out[:, p.rows, p.cols] = self.values[sel.start:sel.stop]
        return out

    def log_abs_det(self) -> tuple[np.ndarray, np.ndarray]:
        """(log|det D|, sign det D) per configuration (det D is real by γ₅-hermiticity).

        Batched ``numpy.linalg.slogdet`` (LAPACK LU): on a shared machine this is far faster than
        one multithreaded scipy call per small matrix.
        """
        require(self.dim <= DENSE_MAX_DIM, "shape",
                f"dense Wilson matrices are limited to 2V <= {DENSE_MAX_DIM} (use the sparse path)", self.pattern.shape)
        logs = np.empty(self.batch)
        signs = np.empty(self.batch)
        with single_blas_thread():
            for sel in self._chunks():
                phase, logabs = np.linalg.slogdet(self._dense_range(sel))
                logs[sel.start:sel.stop] = logabs
                signs[sel.start:sel.stop] = np.where(phase.real >= 0, 1.0, -1.0)
        return logs, signs

    def log_abs_det_and_inverse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log|det D|, sign det D, D⁻¹) per configuration (batched LAPACK)."""
        require(self.dim <= DENSE_MAX_DIM, "shape",
                f"dense Wilson matrices are limited to 2V <= {DENSE_MAX_DIM} (use the sparse path)", self.pattern.shape)
        n = self.dim
        logs = np.empty(self.batch)
        signs = np.empty(self.batch)
        inv = np.empty((self.batch, n, n), dtype=np.complex128)
        with single_blas_thread():
            for sel in self._chunks():
                d = self._dense_range(sel)
                phase, logabs = np.linalg.slogdet(d)
                logs[sel.start:sel.stop] = logabs
                signs[sel.start:sel.stop] = np.where(phase.real >= 0, 1.0, -1.0)
                inv[sel.start:sel.stop] = np.linalg.inv(d)
        return logs, signs, inv

    def point_propagator(self) -> np.ndarray:
        """S = D⁻¹ from a point source at the origin, both source spins: ``(batch, 2V, 2)`` (batched LU)."""
        require(self.dim <= DENSE_MAX_DIM, "shape",
                f"dense Wilson matrices are limited to 2V <= {DENSE_MAX_DIM} (use the sparse path)", self.pattern.shape)
        rhs = np.zeros((self.dim, 2), dtype=np.complex128)
        rhs[0, 0] = rhs[1, 1] = 1.0
        out = np.empty((self.batch, self.dim, 2), dtype=np.complex128)
        with single_blas_thread():
            for sel in self._chunks():
                out[sel.start:sel.stop] = np.linalg.solve(self._dense_range(sel), np.broadcast_to(rhs, (len(sel), *rhs.shape)))
        return out

    def log_abs_det_and_point_propagator(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log|det D|, sign det D, S = D⁻¹ from a point source at the origin) from one LU per configuration."""
        import scipy.linalg

        require(self.dim <= DENSE_MAX_DIM, "shape",
                f"dense Wilson matrices are limited to 2V <= {DENSE_MAX_DIM} (use the sparse path)", self.pattern.shape)
        rhs = np.zeros((self.dim, 2), dtype=np.complex128)
        rhs[0, 0] = rhs[1, 1] = 1.0
        logs = np.empty(self.batch)
        signs = np.empty(self.batch)
        props = np.empty((self.batch, self.dim, 2), dtype=np.complex128)
        with single_blas_thread():
            for sel in self._chunks():
                dense = self._dense_range(sel)
                for k in range(len(sel)):
                    lu, piv = scipy.linalg.lu_factor(dense[k], overwrite_a=True, check_finite=False)
                    diag = np.diagonal(lu)
                    swaps = int(np.count_nonzero(piv != np.arange(piv.size)))
                    phase = np.prod(diag / np.abs(diag)) * (-1.0) ** swaps
                    logs[sel.start + k] = float(np.sum(np.log(np.abs(diag))))
                    signs[sel.start + k] = 1.0 if phase.real >= 0 else -1.0
                    props[sel.start + k] = scipy.linalg.lu_solve((lu, piv), rhs, check_finite=False)
        return logs, signs, props

    def even_odd_masses(self, masses: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""(log|det D(m₀)|, sign det D(m₀), point propagator D(m₀)⁻¹ from the origin) for every m₀ in ``masses``.

        Shapes ``(K, batch)``, ``(K, batch)``, ``(K, batch, 2V, 2)`` (the last as
        :meth:`point_propagator`).  Even-odd reduction (both extents even; the origin is an even
        site): with the sites ordered even, odd, D = [[α, H_eo], [H_oe, α]], α = m₀ + 2 and the
        hopping H independent of m₀,

        .. math:: \det D = \det S_e,\quad S_e = α^2 − H_{eo}H_{oe},\qquad
                  x_e = S_e^{−1} α b_e,\quad x_o = −H_{oe}x_e/α \quad (D x = b,\ b_o = 0)

        (Schur complement and Sylvester's determinant identity: the standard odd-even
        preconditioning, e.g. the baseline of arXiv:hep-lat/9602019).  S_e is V×V, half the size of D, so one LU per mass costs 1/8 of a dense LU of D;
        H_eoH_oe (≤ 18 entries per row) is built once for all masses.  Only the hopping terms of
        this operator are used, not its own mass.
        """
        import scipy.linalg

        masses = [float(m) for m in masses]
        require(len(masses) >= 1 and all(math.isfinite(m) and m > -2.0 for m in masses), "masses",
                "must be one or more finite bare masses > -2", masses)
        eo = _even_odd(self.pattern)
        n_e = eo.even_dofs.size
        rhs = np.zeros((n_e, 2), dtype=np.complex128)
        rhs[eo.origin, 0] = rhs[eo.origin + 1, 1] = 1.0
        K, B = len(masses), self.batch
        logs = np.empty((K, B))
        signs = np.empty((K, B))
        props = np.zeros((K, B, self.dim, 2), dtype=np.complex128)
        per = max(1, (64 * 2**20) // (16 * n_e * n_e))
        with single_blas_thread():
            for start in range(0, B, per):
                stop = min(start + per, B)
                vals = self.values[start:stop]
                nb = stop - start
                prod = np.asarray((vals[:, eo.pair_eo] * vals[:, eo.pair_oe]) @ eo.pair_sum)
                hh = np.zeros((nb, n_e, n_e), dtype=np.complex128)
                hh[:, eo.prod_rows, eo.prod_cols] = prod
                h_oe = vals[:, eo.oe_entries]
                for k, m in enumerate(masses):
                    alpha = m + 2.0
                    x_e = np.empty((nb, n_e, 2), dtype=np.complex128)
                    for j in range(nb):
                        s_e = -hh[j]
                        s_e[np.diag_indices(n_e)] += alpha * alpha
                        lu, piv = scipy.linalg.lu_factor(s_e, overwrite_a=True, check_finite=False)
                        diag = np.diagonal(lu)
                        swaps = int(np.count_nonzero(piv != np.arange(piv.size)))
                        phase = np.prod(diag / np.abs(diag)) * (-1.0) ** swaps
                        logs[k, start + j] = float(np.sum(np.log(np.abs(diag))))
                        signs[k, start + j] = 1.0 if phase.real >= 0 else -1.0
                        x_e[j] = scipy.linalg.lu_solve((lu, piv), alpha * rhs, check_finite=False)
                    # x_o = −H_oe x_e/α for the chunk: the entries' products summed per odd row
                    terms = h_oe[:, :, None] * x_e[:, eo.oe_cols, :]  # (b, nnz_oe, 2)
                    x_o = eo.oe_sum @ terms.transpose(1, 0, 2).reshape(terms.shape[1], -1)
                    block = props[k, start:stop]
                    block[:, eo.even_dofs] = x_e
                    block[:, eo.odd_dofs] = -np.asarray(x_o).reshape(n_e, nb, 2).transpose(1, 0, 2) / alpha
        return logs, signs, props

    def pcac_correlators(self) -> tuple[np.ndarray, np.ndarray]:
        r"""Zero-momentum connected correlators (C_PP(t), C_AP(t)), each ``(batch, L₀)``, source at the origin.

        With S(x) = D⁻¹(x, 0) and γ₅-hermiticity S(0, x) = γ₅S(x, 0)†γ₅ (a flavour-non-singlet
        pair of valence quarks of this mass):

        .. math:: C_{PP}(t) = \sum_{x_1} \operatorname{Tr}[S S^†], \qquad
                  C_{AP}(t) = \sum_{x_1} \operatorname{Tr}[γ_t S S^†],

        with γ_t = γ₁ = σ₁ (axis 0 is time).  The PCAC mass is
        m(t) = −[C_AP(t + 1) − C_AP(t − 1)]/(4 C_PP(t)) (:func:`pcac_mass`; the sign makes the
        free mass positive, tested against the free operator).
        """
        return pcac_from_propagator(self.point_propagator(), self.pattern.shape)

    def trace_inverse(self) -> np.ndarray:
        """Re Tr D⁻¹ per configuration, exactly (sparse LU with all unit vectors; real by γ₅-hermiticity)."""
        import scipy.sparse.linalg

        out = np.empty(self.batch)
        eye = np.eye(self.dim, dtype=np.complex128)
        with single_blas_thread():
            for b in range(self.batch):
                lu = scipy.sparse.linalg.splu(self.csr(b).tocsc())
                out[b] = float(np.trace(lu.solve(eye)).real)
        return out

    def stochastic_trace_inverse(
        self, *, n_noise: int, generator: np.random.Generator | Sequence[np.random.Generator], noise: str = "z2"
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""Tr D⁻¹ ≈ (1/N) Σ_i η_i† D⁻¹ η_i with Z₂ (±1) or Z₄ (±1, ±i) noise, E[ηη†] = 1.

        ``generator``: one generator for all configurations, or one per configuration.
        Returns (estimate, noise error = std/√N) per configuration.  Each solve is a sparse LU
        (exact to rounding), so the only error is the noise.
        """
        import scipy.sparse.linalg

        require(noise in ("z2", "z4"), "noise", "must be 'z2' or 'z4'", noise)
        require(isinstance(n_noise, int) and n_noise >= 2, "n_noise", "must be an integer >= 2", n_noise)
        gens = [generator] * self.batch if isinstance(generator, np.random.Generator) else list(generator)
        require(len(gens) == self.batch, "generator", f"must be one generator or {self.batch}", len(gens))
        est = np.empty(self.batch)
        err = np.empty(self.batch)
        for b in range(self.batch):
            k = gens[b].integers(0, 4 if noise == "z4" else 2, size=(self.dim, n_noise))
            eta = np.exp(0.5j * math.pi * k) if noise == "z4" else (1.0 - 2.0 * k).astype(np.complex128)
            lu = scipy.sparse.linalg.splu(self.csr(b).tocsc())
            samples = np.einsum("in,in->n", np.conj(eta), lu.solve(eta)).real
            est[b] = samples.mean()
            err[b] = samples.std(ddof=1) / math.sqrt(n_noise)
        return est, err


_INCIDENCE: dict[tuple[int, int], scipy.sparse.csr_matrix] = {}


def _incidence(p: WilsonPattern) -> scipy.sparse.csr_matrix:
    """nnz × n_links matrix with a 1 at (k, l_k) for every hop entry k (diagonal rows empty)."""
    if p.shape not in _INCIDENCE:
        hop = ~p.diagonal
        k = np.nonzero(hop)[0]
        _INCIDENCE[p.shape] = scipy.sparse.csr_matrix(
            (np.ones(k.size), (k, p.link[hop])), shape=(p.nnz, p.n_links))
    return _INCIDENCE[p.shape]


@dataclass(frozen=True)
class _EvenOdd:
    """Index maps of the even-odd reduction of a :class:`WilsonPattern` (see :meth:`WilsonOperator.even_odd_masses`).

    even_dofs, odd_dofs: spinor indices of the even / odd sites (ascending); origin: the
    position of spinor index 0 among the even ones.  pair_eo, pair_oe: for every product term
    (H_eo)_{rc}(H_oe)_{cs}, the pattern entries of both factors; pair_sum (pairs × targets) adds
    them into the entries (prod_rows, prod_cols) of H_eoH_oe (positions within the even dofs).
    oe_entries, oe_cols, oe_sum: the entries of H_oe, their (even) column positions and the
    (odd rows × entries) matrix summing them per row.
    """

    even_dofs: np.ndarray
    odd_dofs: np.ndarray
    origin: int
    pair_eo: np.ndarray
    pair_oe: np.ndarray
    pair_sum: scipy.sparse.csr_matrix
    prod_rows: np.ndarray
    prod_cols: np.ndarray
    oe_entries: np.ndarray
    oe_cols: np.ndarray
    oe_sum: scipy.sparse.csr_matrix


_EVEN_ODD: dict[tuple[int, int], _EvenOdd] = {}


def _even_odd(p: WilsonPattern) -> _EvenOdd:
    """The (cached) even-odd index maps of pattern ``p`` (both extents even)."""
    if p.shape in _EVEN_ODD:
        return _EVEN_ODD[p.shape]
    L0, L1 = p.shape
    require(L0 % 2 == 0 and L1 % 2 == 0, "shape", "the even-odd reduction needs even extents", p.shape)
    dof = np.arange(p.dim)
    site = dof // 2
    even = ((site // L1 + site % L1) % 2) == 0
    position = np.empty(p.dim, dtype=np.int64)
    position[even] = np.arange(int(even.sum()))
    position[~even] = np.arange(int((~even).sum()))
    hop = ~p.diagonal
    eo = np.nonzero(hop & even[p.rows])[0]  # rows even, columns odd
    oe = np.nonzero(hop & ~even[p.rows])[0]
    # pairs (k1, k2): H_eo entry k1 at (r, c), H_oe entry k2 at (c, s), c odd
    oe_by_row: dict[int, list[int]] = {}
    for k in oe:
        oe_by_row.setdefault(int(p.rows[k]), []).append(int(k))
    k1s, k2s = [], []
    for k1 in eo:
        for k2 in oe_by_row[int(p.cols[k1])]:
            k1s.append(int(k1))
            k2s.append(k2)
    pair_eo = np.asarray(k1s, dtype=np.int64)
    pair_oe = np.asarray(k2s, dtype=np.int64)
    target = position[p.rows[pair_eo]] * p.volume + position[p.cols[pair_oe]]
    unique, index = np.unique(target, return_inverse=True)
    pair_sum = scipy.sparse.csr_matrix((np.ones(index.size), (np.arange(index.size), index)),
                                       shape=(index.size, unique.size))
    oe_sum = scipy.sparse.csr_matrix((np.ones(oe.size), (position[p.rows[oe]], np.arange(oe.size))),
                                     shape=(p.volume, oe.size))
    maps = _EvenOdd(
        even_dofs=dof[even], odd_dofs=dof[~even], origin=int(position[0]), pair_eo=pair_eo, pair_oe=pair_oe,
        pair_sum=pair_sum, prod_rows=unique // p.volume, prod_cols=unique % p.volume, oe_entries=oe,
        oe_cols=position[p.cols[oe]], oe_sum=oe_sum)
    _EVEN_ODD[p.shape] = maps
    return maps


def pcac_from_propagator(propagator: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(C_PP(t), C_AP(t)) of :meth:`WilsonOperator.pcac_correlators` from point propagators ``(batch, 2V, 2)``."""
    batch = propagator.shape[0]
    s = propagator.reshape(batch, shape[0], shape[1], 2, 2)  # (b, t, x, spin_sink, spin_src)
    ssd = np.einsum("btxij,btxkj->btxik", s, s.conj())
    c_pp = np.real(np.einsum("btxii->bt", ssd))
    c_ap = np.real(np.einsum("ij,btxji->bt", GAMMA[0], ssd))
    return c_pp, c_ap


def pcac_mass(c_pp: np.ndarray, c_ap: np.ndarray, *, window: tuple[int, int]) -> float:
    """m_PCAC = −Σ_t [C_AP(t+1) − C_AP(t−1)]/2 ÷ (2 Σ_t C_PP(t)) over t in ``window`` = [t₀, t₁) (mean correlators)."""
    t0, t1 = window
    t = np.arange(t0, t1)
    require(t0 >= 1 and t1 <= c_pp.shape[-1] - 1 and t1 > t0, "window", "must lie inside (0, L₀ − 1)", window)
    deriv = 0.5 * (c_ap[..., t + 1] - c_ap[..., t - 1])
    return float(-np.sum(deriv) / (2.0 * np.sum(c_pp[..., t])))


def gamma5(psi: np.ndarray) -> np.ndarray:
    """γ₅ψ = σ₃ψ on spinors ``(…, 2V)`` (spin index fastest)."""
    out = np.array(psi, dtype=np.complex128, copy=True)
    out[..., 1::2] *= -1.0
    return out


@dataclass
class CGResult:
    """Solution of D†D x = b by conjugate gradients, per configuration.

    iterations: iterations used (the batch iterates until every system has converged);
    residual: final true relative residual ‖b − D†Dx‖/‖b‖ per configuration.
    """

    x: np.ndarray
    iterations: int
    residual: np.ndarray
    converged: bool


def cg_normal(op: WilsonOperator, b: np.ndarray, *, tol: float = 1e-12, maxiter: int = 10_000) -> CGResult:
    r"""Conjugate gradients on the normal equations D†D x = b for every configuration at once.

    Hestenes–Stiefel CG (J. Res. NBS 49 (1952) 409) with per-configuration step sizes, started
    from x = 0 (no chronological guess, so that the molecular dynamics stays exactly
    reversible); stops when every recursive relative residual ‖r‖/‖b‖ <= ``tol``.  Written out
    because scipy's CG is one system at a time and the batched sparse matrix-vector product is
    what makes many chains cheap.
    """
    require(tol > 0, "cg_tol", "must be > 0", tol)
    b = op._check_spinor(b).astype(np.complex128)
    bnorm = np.sqrt(np.sum(np.abs(b) ** 2, axis=1))
    bnorm = np.where(bnorm > 0, bnorm, 1.0)
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = np.sum(np.abs(r) ** 2, axis=1)
    it = 0
    active = np.sqrt(rr) / bnorm > tol
    while np.any(active) and it < maxiter:
        ap = op.apply_normal(p)
        pap = np.sum(np.conj(p) * ap, axis=1).real
        alpha = np.where(active, rr / np.where(pap > 0, pap, 1.0), 0.0)
        x += alpha[:, None] * p
        r -= alpha[:, None] * ap
        rr_new = np.sum(np.abs(r) ** 2, axis=1)
        beta = np.where(active, rr_new / np.where(rr > 0, rr, 1.0), 0.0)
        p = r + beta[:, None] * p
        rr = rr_new
        it += 1
        active = np.sqrt(rr) / bnorm > tol
    true_res = np.sqrt(np.sum(np.abs(b - op.apply_normal(x)) ** 2, axis=1)) / bnorm
    return CGResult(x=x, iterations=it, residual=true_res, converged=not np.any(active))

r"""Compiled (numba) kernels of the charge-sector statevector simulator.

**Sorted sector basis.**  The basis of a fixed-popcount sector is the sorted list of N-bit
integers with p set bits.  Split every index as x = G·2^m + l (G: the high N−m bits, l: the low m
bits).  Sorted order is by G, then l, so the states sharing one G form a contiguous *block*: all
l with popcount j = p − |G|, sorted, of length C(m, j).

- A *low* bond (n, n+1) with n + 1 < m swaps bits inside l: it acts on every block alone, the
  same way on every block of one j.  Its pairs are runs of length C(n, i) (i set bits below n)
  inside the block: long runs are rotated as runs, the short ones (lengths 1–7, the lowest
  bonds) as single pairs from a small local table, applied to a group of blocks at a time.
- A *high* bond with n ≥ m swaps bits inside G: it pairs block G with block G ⊕ (3 << (n−m)),
  which has the same |G| and so the same length, element by element (contiguous runs, no index
  arrays).
- The bond n = m − 1 would straddle the split; m is chosen with m ≡ parity (mod 2), so it
  never belongs to the layer being applied (or m = N and there is no high part).

Blocks with the same |G| (a *class*) are only mixed among themselves by a hopping layer, so one
pass handles a class completely — diagonal phase, low bonds block by block, then the high bonds
— while its part of the state (≤ ~1 MB at N = 20) stays in cache: each Trotter layer reads and
writes the state once.  The state is kept as separate real and imaginary float64 arrays, so
the runs vectorize (unsigned indices: no negative-index wrap-around in the loops).  What bounds
a layer is then not memory but the scalar rotations of the short runs of the lowest two or
three bonds (~60 % of a layer at N = 20).

**Diagonal layers** multiply by e^{−iτ D(k)}.  Every diagonal component takes few distinct
values on the basis (e.g. 399 joint classes at N = 20), so the phase of a layer is a table of
e^{−iΣ_k G_k d_k(c)} over the classes c, gathered by a uint16 class index; the phase is fused
into the following hopping pass.

Rotation of a pair by e^{−iφ(XX+YY)} (φ = h_n τ): (a, b) → (cos 2φ a − i sin 2φ b,
cos 2φ b − i sin 2φ a).

The sorted sector basis, its diagonals and Pauli expectation values live one layer down, in
:mod:`qlat.exact.sector_operators` (exact diagonalization uses them too).

numba is used because these loops are not expressible as a few large numpy operations without
index arrays and temporaries (which is what made the numpy path memory-bound at 3 % of the
machine's bandwidth); ``cache=True`` keeps the compiled code between processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import comb

import numba as nb
import numpy as np

from qlat.exact.sector_operators import sector_basis, sector_diagonal

__all__ = [
    "SectorLayout",
    "apply_diagonal",
    "apply_hop_layer",
    "run_program",
    "diagonal_classes",
    "sector_basis",
    "sector_diagonal",
    "sector_layout",
]

#: Runs of pairs shorter than this are expanded into single pairs: a loop over runs of varying
#: short lengths is dominated by mispredicted loop exits, a flat pair loop is not.
_SHORT_RUN = 8

#: Blocks per group in the single-pair loop (16 blocks of ≤ 252 states: ≤ 64 KB, in L1/L2).
_ROW_GROUP = 16

#: Target number of low bits: blocks of ≤ C(10, 5) = 252 states, classes of ≤ ~1 MB at N = 20.
_LOW_BITS = 10


@dataclass(frozen=True)
class SectorLayout:
    """The block structure of one sector for the bonds of one parity (module docstring)."""

    n_qubits: int
    popcount: int
    parity: int
    low_bits: int
    class_ptr: np.ndarray  # CSR over classes → block ids (sorted by class)
    block_start: np.ndarray  # first basis position of each block (class order)
    block_j: np.ndarray  # popcount of the low part of each block
    low_ptr: np.ndarray  # CSR over j → local runs of pairs (long runs)
    low_a: np.ndarray
    low_b: np.ndarray
    low_len: np.ndarray  # length of each run
    low_bond: np.ndarray
    pair_ptr: np.ndarray  # CSR over j → local single pairs (the short runs, expanded)
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_bond: np.ndarray
    high_ptr: np.ndarray  # CSR over classes → block pairs
    high_a: np.ndarray  # start of the first block of each pair
    high_b: np.ndarray
    high_bond: np.ndarray
    class_len: np.ndarray  # block length of each class
    block_len_j: np.ndarray  # C(low_bits, j)


def _low_bits(n: int, parity: int) -> int:
    if n <= _LOW_BITS + 1:
        return n
    return _LOW_BITS if _LOW_BITS % 2 == parity else _LOW_BITS + 1


@lru_cache(maxsize=16)
def sector_layout(n: int, popcount: int, parity: int) -> SectorLayout:
    """Blocks, classes and pair tables of the sector (n, popcount) for bonds of ``parity``.

    Depends only on (n, popcount, parity), so it is cached (a few MB at N = 20).
    """
    m = _low_bits(n, parity)
    basis = sector_basis(n, popcount)
    high = basis >> m
    first = np.flatnonzero(np.r_[True, high[1:] != high[:-1]]) if basis.size else np.zeros(0, np.int64)
    g_values = high[first]
    g_count = np.bitwise_count(g_values).astype(np.int64)
    order = np.argsort(g_count, kind="stable")
    n_classes = n - m + 1
    class_ptr = np.searchsorted(g_count[order], np.arange(n_classes + 1)).astype(np.int64)
    block_start = first[order].astype(np.int64)
    block_j = (popcount - g_count[order]).astype(np.int64)

    # low pairs, per popcount j of the low part (local positions inside a block)
    low_ptr = [0]
    low_a: list[np.ndarray] = []
    low_b: list[np.ndarray] = []
    low_bond: list[np.ndarray] = []
    local = np.arange(1 << m, dtype=np.int64)
    local_count = np.bitwise_count(local)
    low_len: list[np.ndarray] = []
    pair_ptr = [0]
    pair_a: list[np.ndarray] = []
    pair_b: list[np.ndarray] = []
    pair_bond: list[np.ndarray] = []
    for j in range(m + 1):
        lb = local[local_count == j]
        n_runs = n_pairs = 0
        for bond in range(parity, m - 1, 2):
            # pairs of this bond, grouped into runs (consecutive a's whose partners are consecutive)
            ia = np.flatnonzero(((lb >> bond) & 3) == 1)
            ib = np.searchsorted(lb, lb[ia] ^ (3 << bond))
            if ia.size == 0:
                continue
            breaks = np.flatnonzero((np.diff(ia) != 1) | (np.diff(ib) != 1)) + 1
            starts = np.r_[0, breaks]
            lengths = np.diff(np.r_[starts, ia.size])
            long = lengths >= _SHORT_RUN
            low_a.append(ia[starts[long]])
            low_b.append(ib[starts[long]])
            low_len.append(lengths[long])
            low_bond.append(np.full(int(long.sum()), bond))
            n_runs += int(long.sum())
            in_short = np.repeat(~long, lengths)
            pair_a.append(ia[in_short])
            pair_b.append(ib[in_short])
            pair_bond.append(np.full(int(in_short.sum()), bond))
            n_pairs += int(in_short.sum())
        low_ptr.append(low_ptr[-1] + n_runs)
        pair_ptr.append(pair_ptr[-1] + n_pairs)

    # high pairs, per class: block G with bits (n−m, n−m+1) = (1, 0) ↔ G ^ (3 << (n−m))
    high_ptr = [0]
    high_a: list[int] = []
    high_b: list[int] = []
    high_bond: list[int] = []
    g_sorted = g_values[order]
    class_len = np.zeros(n_classes, dtype=np.int64)
    for q in range(n_classes):
        lo_, hi_ = class_ptr[q], class_ptr[q + 1]
        gs = g_sorted[lo_:hi_]
        if gs.size:
            class_len[q] = comb(m, popcount - q)
        pos = {int(g): int(block_start[lo_ + i]) for i, g in enumerate(gs)}
        for bond in range(m + (m - parity) % 2, n - 1, 2):
            shift = bond - m
            for g in gs:
                if (int(g) >> shift) & 3 == 1:
                    high_a.append(pos[int(g)])
                    high_b.append(pos[int(g) ^ (3 << shift)])
                    high_bond.append(bond)
        high_ptr.append(len(high_a))

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    return SectorLayout(
        n_qubits=n, popcount=popcount, parity=parity, low_bits=m,
        class_ptr=class_ptr, block_start=block_start, block_j=block_j,
        low_ptr=np.asarray(low_ptr, dtype=np.int64), low_a=cat(low_a), low_b=cat(low_b), low_len=cat(low_len), low_bond=cat(low_bond),
        pair_ptr=np.asarray(pair_ptr, dtype=np.int64), pair_a=cat(pair_a), pair_b=cat(pair_b),
        pair_bond=cat(pair_bond),
        block_len_j=np.array([comb(m, j) for j in range(m + 1)], dtype=np.int64),
        high_ptr=np.asarray(high_ptr, dtype=np.int64), high_a=np.asarray(high_a, dtype=np.int64),
        high_b=np.asarray(high_b, dtype=np.int64), high_bond=np.asarray(high_bond, dtype=np.int64),
        class_len=class_len,
    )


def diagonal_classes(diagonals: np.ndarray, *, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Group basis states by the values of all diagonal components: (class index, values).

    ``diagonals``: (K, dim) component diagonals.  Returns ``cls`` (dim,) and ``values`` (K, n_cls)
    with ``diagonals[:, i] ≈ values[:, cls[i]]`` (values rounded to 12 decimals only to group them;
    each class keeps the exact values of one member).  With more than ``limit`` classes every state
    is its own class (``cls = arange(dim)``, exact values).
    """
    dim = diagonals.shape[1]
    key = np.zeros(dim, dtype=np.int64)
    stride = 1
    for row in diagonals:
        _, inverse = np.unique(np.round(row, 12), return_inverse=True)
        size = int(inverse.max()) + 1 if dim else 1
        if stride * size >= 2**62:
            stride = 0  # too many joint values for an int64 key
            break
        key += inverse.astype(np.int64) * stride
        stride *= size
    if stride:
        _, first, cls = np.unique(key, return_index=True, return_inverse=True)
        if first.size <= limit:
            dtype = np.uint16 if first.size <= np.iinfo(np.uint16).max + 1 else np.int64
            return cls.astype(dtype), np.ascontiguousarray(diagonals[:, first])
    return np.arange(dim, dtype=np.int64), np.ascontiguousarray(diagonals)


@nb.njit(cache=True, nogil=True, inline="always")
def _rotate_runs(re, im, sa, sb, length, c, s):  # pragma: no cover - compiled
    # (a, b) → (c a − i s b, c b − i s a) on the runs [sa, sa+length) and [sb, sb+length)
    # unsigned indices: no negative-index wraparound, so LLVM vectorizes the run
    for i in range(length):
        ka = np.uint64(sa + i)
        kb = np.uint64(sb + i)
        ar = re[ka]
        ai = im[ka]
        br = re[kb]
        bi = im[kb]
        re[ka] = c * ar + s * bi
        im[ka] = c * ai - s * br
        re[kb] = c * br + s * ai
        im[kb] = c * bi - s * ar


@nb.njit(cache=True, nogil=True, inline="always")
def _rotate_pair(re, im, ia, ib, c, s):  # pragma: no cover - compiled
    ka = np.uint64(ia)
    kb = np.uint64(ib)
    ar = re[ka]
    ai = im[ka]
    br = re[kb]
    bi = im[kb]
    re[ka] = c * ar + s * bi
    im[ka] = c * ai - s * br
    re[kb] = c * br + s * ai
    im[kb] = c * bi - s * ar


@nb.njit(cache=True, nogil=True)
def _hop_kernel(re, im, cos_b, sin_b, class_ptr, block_start, block_j, block_len_j, pair_ptr, pair_a, pair_b,
                pair_bond, low_ptr, low_a, low_b, low_len, low_bond, high_ptr, high_a, high_b, high_bond, class_len, pre, table_re, table_im,
                cls):  # pragma: no cover - compiled
    for q in range(class_ptr.size - 1):
        k0 = class_ptr[q]
        k1 = class_ptr[q + 1]
        if k1 == k0:
            continue
        j = block_j[k0]  # one class, one popcount of the low part
        width = block_len_j[j]
        if pre:
            for k in range(k0, k1):
                start = block_start[k]
                for ii in range(start, start + width):
                    i = np.uint64(ii)
                    c = cls[i]
                    tr = table_re[c]
                    ti = table_im[c]
                    xr = re[i]
                    xi = im[i]
                    re[i] = xr * tr - xi * ti
                    im[i] = xr * ti + xi * tr
        # single pairs: the pair outside, a group of blocks inside (the table is read once per group)
        for g in range(k0, k1, _ROW_GROUP):
            g1 = min(g + _ROW_GROUP, k1)
            for t in range(pair_ptr[j], pair_ptr[j + 1]):
                bond = pair_bond[t]
                a = pair_a[t]
                b = pair_b[t]
                c = cos_b[bond]
                s = sin_b[bond]
                for k in range(g, g1):
                    start = block_start[k]
                    _rotate_pair(re, im, start + a, start + b, c, s)
        for k in range(k0, k1):
            start = block_start[k]
            for t in range(low_ptr[j], low_ptr[j + 1]):
                bond = low_bond[t]
                _rotate_runs(re, im, start + low_a[t], start + low_b[t], low_len[t], cos_b[bond], sin_b[bond])
        length = class_len[q]
        for t in range(high_ptr[q], high_ptr[q + 1]):
            bond = high_bond[t]
            _rotate_runs(re, im, high_a[t], high_b[t], length, cos_b[bond], sin_b[bond])


@nb.njit(cache=True, nogil=True)
def _diag_kernel(re, im, table_re, table_im, cls):  # pragma: no cover - compiled
    for ii in range(re.size):
        i = np.uint64(ii)
        c = cls[i]
        tr = table_re[c]
        ti = table_im[c]
        xr = re[i]
        xi = im[i]
        re[i] = xr * tr - xi * ti
        im[i] = xr * ti + xi * tr


@nb.njit(cache=True, nogil=True)
def _program_kernel(re, im, kinds, rows, cos_tab, sin_tab, tab_re, tab_im, cls, lay0, lay1,
                    pending):  # pragma: no cover - compiled
    # kinds: 0 diagonal (row of the phase tables), 1 even hopping, 2 odd hopping (row of cos/sin)
    for i in range(kinds.size):
        r = rows[i]
        if kinds[i] == 0:
            if pending >= 0:
                _diag_kernel(re, im, tab_re[pending], tab_im[pending], cls)
            pending = r
            continue
        lay = lay0 if kinds[i] == 1 else lay1
        pre = pending >= 0
        t = pending if pre else 0
        _hop_kernel(re, im, cos_tab[r], sin_tab[r], lay[0], lay[1], lay[2], lay[3], lay[4], lay[5], lay[6], lay[7],
                    lay[8], lay[9], lay[10], lay[11], lay[12], lay[13], lay[14], lay[15], lay[16], lay[17], pre,
                    tab_re[t], tab_im[t], cls)
        pending = -1
    return pending


def layout_arrays(layout: SectorLayout) -> tuple[np.ndarray, ...]:
    """The layout's tables in the argument order of the hopping kernel."""
    return (layout.class_ptr, layout.block_start, layout.block_j, layout.block_len_j, layout.pair_ptr,
            layout.pair_a, layout.pair_b, layout.pair_bond, layout.low_ptr, layout.low_a, layout.low_b,
            layout.low_len, layout.low_bond, layout.high_ptr, layout.high_a, layout.high_b, layout.high_bond,
            layout.class_len)


def run_program(re: np.ndarray, im: np.ndarray, kinds: np.ndarray, rows: np.ndarray, angles: np.ndarray,
                tables: np.ndarray, cls: np.ndarray, layouts: tuple[SectorLayout, SectorLayout], *,
                pending: int = -1) -> int:
    """Apply a sequence of layers in one compiled call; returns the index of a diagonal still pending.

    ``kinds[i]``: 0 diagonal e^{−iτD} = ``tables[rows[i]][cls]`` (applied fused with the next
    hopping layer, or when the next diagonal comes), 1/2 even/odd hopping with bond angles
    ``angles[rows[i]]``.  ``pending``: a diagonal row left over from a previous call (−1: none).
    """
    return int(_program_kernel(re, im, np.ascontiguousarray(kinds, dtype=np.int64),
                               np.ascontiguousarray(rows, dtype=np.int64), np.cos(2.0 * angles), np.sin(2.0 * angles),
                               np.ascontiguousarray(tables.real), np.ascontiguousarray(tables.imag), cls,
                               layout_arrays(layouts[0]), layout_arrays(layouts[1]), pending))


_EMPTY_TABLE = np.ones(1, dtype=np.float64)
_EMPTY_CLS = np.zeros(1, dtype=np.uint16)


def apply_hop_layer(re: np.ndarray, im: np.ndarray, layout: SectorLayout, angles: np.ndarray, *,
                    phase: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """In place on ψ = re + i·im: ψ ← Π_{bonds of the layout's parity} e^{−iφ_n(XX+YY)_{n,n+1}} · [phase] ψ.

    ``angles``: φ_n for every bond n = 0..N−2 (only the layout's parity is used); ``phase``:
    optional (table, cls), the diagonal e^{−iτD} = table[cls] (complex table) applied first (fused).
    """
    cos_b = np.cos(2.0 * angles)
    sin_b = np.sin(2.0 * angles)
    if phase is None:
        table_re, table_im, cls = _EMPTY_TABLE, _EMPTY_TABLE, _EMPTY_CLS
    else:
        table_re, table_im, cls = np.ascontiguousarray(phase[0].real), np.ascontiguousarray(phase[0].imag), phase[1]
    _hop_kernel(re, im, cos_b, sin_b, layout.class_ptr, layout.block_start, layout.block_j, layout.block_len_j,
                layout.pair_ptr, layout.pair_a, layout.pair_b, layout.pair_bond, layout.low_ptr, layout.low_a, layout.low_b, layout.low_len, layout.low_bond, layout.high_ptr,
                layout.high_a, layout.high_b, layout.high_bond, layout.class_len, phase is not None,
                table_re, table_im, cls)


def apply_diagonal(re: np.ndarray, im: np.ndarray, table: np.ndarray, cls: np.ndarray) -> None:
    """In place on ψ = re + i·im: ψ_k ← table[cls_k] ψ_k."""
    _diag_kernel(re, im, np.ascontiguousarray(table.real), np.ascontiguousarray(table.imag), cls)

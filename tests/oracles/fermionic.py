r"""The Schwinger Hamiltonian written with fermion operators and mapped to qubits by OpenFermion.

:mod:`qlat.theories.schwinger_qubit` writes H directly as a Pauli sum.  This module builds the same
operator independently, from the staggered-fermion Hamiltonian of Chakraborty et al.
(arXiv:2001.00485) and Honda et al. (arXiv:2105.03276), in the conventions of docs/conventions.md, maps it
with :func:`openfermion.jordan_wigner` and converts the resulting ``QubitOperator`` to a Qiskit
``SparsePauliOp``.  The two constructions are tested to agree *as matrices*
(``tests/quantum/test_fermionic.py``), which checks signs, phases and qubit order of both.

A test oracle, not library code: it lives under ``tests/`` so that OpenFermion is needed only by the
tests (the ``test`` extra of pyproject.toml, which ``make test`` installs).

Fermion Hamiltonian (0-based sites n = 0..N−1, w = 1/(2a), J = g²a/2, m the lattice mass)

.. math::
    H = -i \sum_{n=0}^{N-2} w_n \bigl(\chi^\dagger_n \chi_{n+1} - \chi^\dagger_{n+1}\chi_n\bigr)
        + \mu \sum_{n=0}^{N-1} (-1)^n \chi^\dagger_n \chi_n
        + J \sum_{n=0}^{N-2} \bigl(L_n + \vartheta\bigr)^2,
    \qquad L_n = \sum_{i\le n}\Bigl(\chi^\dagger_i\chi_i - \frac{1-(-1)^i}{2}\Bigr),

*rotated* formulation (θ moved into the mass by the anomalous chiral rotation,
arXiv:2001.00485): w_n = w − (−1)^n (m/2) sin θ, μ = m cos θ, ϑ = 0;
*electric* formulation (arXiv:2105.03276): w_n = w, μ = m, ϑ = θ/2π.

Mapping.  docs/conventions.md fixes χ†_n χ_n = (1 + Z_n)/2 (qubit |0⟩ = occupied), whereas OpenFermion's
Jordan–Wigner transform gives b†_n b_n = (1 − Z_n)/2 for its modes b_n (|1⟩ = occupied).  We
therefore write the physical fermion as a *hole* of OpenFermion's mode, with a site phase:

.. math::
    \chi_n = (-i)^n\, b_n^\dagger, \qquad \chi^\dagger_n = i^n\, b_n .

Then χ†_n χ_n = b_n b_n† = 1 − b†_n b_n = (1 + Z_n)/2, so the mass and electric terms take the
Pauli form of qlat.theories.schwinger_qubit, and
χ†_n χ_{n+1} − χ†_{n+1} χ_n = i (b†_n b_{n+1} + b†_{n+1} b_n), so that

.. math::
    -i w_n\bigl(\chi^\dagger_n \chi_{n+1} - \text{h.c.}\bigr)
    = w_n \bigl(b^\dagger_n b_{n+1} + b^\dagger_{n+1} b_n\bigr)
    = \tfrac{w_n}{2}\bigl(X_nX_{n+1} + Y_nY_{n+1}\bigr)

(nearest neighbours carry no Jordan–Wigner string).  The phase (−i)^n is the one that turns the
−i(χ†χ − h.c.) hopping of arXiv:2001.00485 into the real +½ w_n(XX+YY) of docs/conventions.md; with
χ_n = b_n† instead one would get ½ w_n(X_nY_{n+1} − Y_nX_{n+1}), which has the same spectrum
but is a different matrix (related by the site phases i^n).  The staggered mass constant μ/2 Σ_n (−1)^n vanishes for
even N, and the electric constant is kept, so the result equals qlat.theories.schwinger_qubit's H exactly.

Qubit order.  OpenFermion's qubit index n is site n; OpenFermion's own matrices
(``get_sparse_operator``) are big-endian (qubit 0 is the most significant bit), Qiskit's are
little-endian (qubit 0 is the rightmost label character, the least significant bit).  The
converter below maps OpenFermion qubit n to Qiskit qubit n, so the operator, not its matrix
layout, is carried over.

OpenFermion (which imports cirq, ~2 s) is imported inside the functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from qiskit.quantum_info import SparsePauliOp

from qlat.core.errors import ParameterError, require, require_int
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:  # pragma: no cover - typing only
    from openfermion import FermionOperator, QubitOperator

__all__ = [
    "fermionic_hamiltonian",
    "jordan_wigner_hamiltonian",
    "qubit_operator_to_sparse_pauli_op",
]


def _chi(n: int) -> "FermionOperator":
    """χ_n = (−i)^n b_n† in terms of OpenFermion's mode n (see module docstring)."""
    from openfermion import FermionOperator

    return FermionOperator(((n, 1),), (-1j) ** n)


def _chi_dag(n: int) -> "FermionOperator":
    """χ†_n = i^n b_n."""
    from openfermion import FermionOperator

    return FermionOperator(((n, 0),), (1j) ** n)


def fermionic_hamiltonian(model: SchwingerModel) -> "FermionOperator":
    r"""The staggered Schwinger Hamiltonian of ``model`` as an OpenFermion ``FermionOperator``.

    The operator is written in the physical staggered fermions χ_n (module docstring;
    arXiv:2001.00485 / 2105.03276) and expressed through OpenFermion's modes b_n by the
    particle–hole relabelling χ_n = (−i)^n b_n†; the returned operator is normal ordered in the
    b_n.  Mode n is site n.  With ``mass_shift`` the staggered scalar mass is shifted by
    −g²a/8 (``model.mass_offset``; m cos θ − g²a/8 in the rotated form, m sin θ unchanged).
    """
    from openfermion import FermionOperator, normal_ordered

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    n_sites = model.n_sites
    m = model.mass
    offset = model.mass_offset
    w = model.w
    J = model.J
    if model.formulation == "rotated":
        hop = [w - (-1) ** n * (m / 2.0) * math.sin(model.theta) for n in range(n_sites - 1)]
        mu = m * math.cos(model.theta) - offset
        vartheta = 0.0
    else:
        hop = [w] * (n_sites - 1)
        mu = m - offset
        vartheta = model.theta / (2.0 * math.pi)

    ham = FermionOperator()
    for n in range(n_sites - 1):
        ham += -1j * hop[n] * (_chi_dag(n) * _chi(n + 1) - _chi_dag(n + 1) * _chi(n))
    for n in range(n_sites):
        ham += (-1) ** n * mu * (_chi_dag(n) * _chi(n))

    link = FermionOperator((), vartheta)  # L_n + ϑ, built up site by site
    for n in range(n_sites - 1):
        link += _chi_dag(n) * _chi(n) - FermionOperator((), (1 - (-1) ** n) / 2.0)
        ham += J * (link * link)
    return normal_ordered(ham)


def qubit_operator_to_sparse_pauli_op(op: "QubitOperator", n_qubits: int) -> SparsePauliOp:
    """Convert an OpenFermion ``QubitOperator`` to a Qiskit ``SparsePauliOp`` on ``n_qubits``.

    OpenFermion's qubit n becomes Qiskit's qubit n, i.e. the (n+1)-th character from the right
    of a Qiskit Pauli label.  The operator is carried over term by term (not simplified), so
    the two agree as operators; their matrices differ only in layout (OpenFermion big-endian,
    Qiskit little-endian).
    """
    from openfermion import QubitOperator

    require(isinstance(op, QubitOperator), "op", "must be an openfermion.QubitOperator", type(op).__name__)
    require_int(n_qubits, "n_qubits", minimum=1)
    sparse: list[tuple[str, list[int], complex]] = []
    for term, coeff in op.terms.items():
        letters = "".join(p for _, p in term)
        indices = [int(q) for q, _ in term]
        if indices and max(indices) >= n_qubits:
            raise ParameterError(
                "n_qubits", f"must exceed every qubit index of op (largest is {max(indices)})", n_qubits
            )
        sparse.append((letters, indices, complex(coeff)))
    if not sparse:
        sparse.append(("", [], 0.0))
    return SparsePauliOp.from_sparse_list(sparse, num_qubits=int(n_qubits))


def jordan_wigner_hamiltonian(model: SchwingerModel, *, atol: float = 1e-12) -> SparsePauliOp:
    """H of ``model`` built from fermion operators, mapped by Jordan–Wigner, as a SparsePauliOp.

    Equal as a matrix to ``model.hamiltonian()`` (the direct Pauli construction of qlat.theories.schwinger_qubit);
    Pauli terms whose coefficients cancel to below ``atol`` are dropped.
    """
    from openfermion import jordan_wigner

    require(math.isfinite(atol) and atol >= 0, "atol", "must be >= 0", atol)
    qubit_op = jordan_wigner(fermionic_hamiltonian(model))
    return qubit_operator_to_sparse_pauli_op(qubit_op, model.n_qubits).simplify(atol=atol)

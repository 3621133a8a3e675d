"""Exact classical references as backends: ``u1-exact`` (character expansion) and ``free-scalar``.

They answer the same call as every other backend, ``estimate(theory, observables)``, so a Monte
Carlo ensemble and its exact value sit in one :class:`~qlat.analysis.crosscheck.CrossCheck`
table without wrapping floats by hand.

- ``u1-exact``: 2D U(1) Wilson action on an L×L torus, finite volume (Bonati & Rossi
  arXiv:1901.09830): ⟨cos θ_P⟩ = Σ_n I_n^{V−1}(I_{n−1}+I_{n+1})/2 / Σ_n I_n^V,
  ⟨Q²⟩ = −∂²_θ log Z(θ)|₀, χ_t = ⟨Q²⟩/V, ⟨Q⟩ = 0 (:mod:`qlat.exact.u1_character_expansion`).
- ``free-scalar``: φ⁴ at λ = 0 in the tutorial normalization, χ₂ = 1/m² and ⟨M⟩ = 0
  (:mod:`qlat.exact.free_scalar`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate
from qlat.core.provenance import provenance
from qlat.core.registry import BACKENDS


class _ExactTheoryBackend:
    """Shared plumbing: a table observable name → exact value on a supported theory."""

    name = ""
    label = "exact"
    description = ""
    accepts: tuple[str, ...] = ()

    def supports(self, target: Any) -> bool:
        raise NotImplementedError

    def _values(self, target: Any) -> dict[str, Callable[[], float]]:
        raise NotImplementedError

    def observables(self, target: Any) -> list[str]:
        return sorted(self._values(target))

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, Estimate]:
        require(not options, "options", f"backend '{self.name}' takes no options", sorted(options))
        require(self.supports(target), "target", f"backend '{self.name}': {self.description}", type(target).__name__)
        from qlat.core.observable_registry import OBSERVABLES

        table = self._values(target)
        prov = provenance(theory=target.params(), method=self.description)
        out = {}
        for name in observables:
            if name not in table:
                raise ParameterError("observables", f"backend '{self.name}' has no exact value of '{name}'; "
                                     f"it has {', '.join(sorted(table))}", name)
            out[name] = Estimate(table[name](), 0.0, name=name, unit=OBSERVABLES.get(name).unit_on(target),
                                 backend=self.label, provenance=prov)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@BACKENDS.register("u1-exact")
class U1CharacterExpansion(_ExactTheoryBackend):
    """Exact finite-volume 2D U(1) values by the character expansion."""

    name = "u1-exact"
    description = "2D U(1) Wilson action, exact finite-volume character expansion (arXiv:1901.09830)"
    accepts = ("U1Theory",)

    def supports(self, target: Any) -> bool:
        params = target.params() if callable(getattr(target, "params", None)) else {}
        return params.get("name") == "u1" and len(params.get("shape", ())) == 2

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        from qlat.theories.u1 import U1Theory

        return U1Theory.example(), {}

    def _values(self, target: Any) -> dict[str, Callable[[], float]]:
        import qlat.theories.observables  # noqa: F401  (defines the classical observables)
        from qlat.exact import u1_character_expansion as u1

        beta, shape = float(target.params()["beta"]), tuple(target.params()["shape"])
        return {
            "plaquette": lambda: u1.mean_plaquette(beta, shape),
            "q2": lambda: u1.topological_q2(beta, shape),
            "chi_t": lambda: u1.topological_susceptibility(beta, shape),
            "topological_charge": lambda: 0.0,
        }


@BACKENDS.register("free-scalar")
class FreeScalar(_ExactTheoryBackend):
    """Exact values of the free scalar field (φ⁴ at λ = 0)."""

    name = "free-scalar"
    description = "free scalar field (phi4 at lam = 0), tutorial normalization"
    accepts = ("Phi4Theory",)

    def supports(self, target: Any) -> bool:
        params = target.params() if callable(getattr(target, "params", None)) else {}
        return params.get("name") == "phi4" and float(params.get("lam", 1.0)) == 0.0

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        from qlat.core.lattice import Lattice
        from qlat.theories.phi4 import Phi4Theory

        return Phi4Theory(Lattice((4, 4)), m2=0.5, lam=0.0), {}

    def _values(self, target: Any) -> dict[str, Callable[[], float]]:
        import qlat.theories.observables  # noqa: F401  (defines the classical observables)
        from qlat.exact import free_scalar

        params = target.params()
        shape, m2 = tuple(params["shape"]), float(params["m2"])
        return {
            "chi2": lambda: free_scalar.susceptibility(shape, m2),
            "magnetization": lambda: 0.0,
        }

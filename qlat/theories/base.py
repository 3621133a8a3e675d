"""The :class:`Theory` protocol shared by every classical lattice action, and its (de)serializer.

A theory is a Euclidean action on a batch of configurations (batch axis first, float64 torch
tensors).  Samplers use :meth:`Theory.action` for the Metropolis test and :meth:`Theory.force`
(the analytic gradient ∂S/∂fields, verified against autograd in the tests) for HMC; flows use
``log_prob = −S``.  :meth:`Theory.params` is a JSON-ready dict from which
:func:`theory_from_params` rebuilds an equal theory (used when ensembles are loaded).

Theories register by name (``@THEORIES.register("u1")``, :mod:`qlat.core.registry`) and declare
their command-line options (``OPTIONS``) and the observables ``qlat sample`` reports
(``DEFAULT_OBSERVABLES``).  Samplers ask these protocols what a theory offers — never
``isinstance`` of a concrete theory: :class:`DifferentiableAction` (HMC),
:class:`SiteLocalAction` (local Metropolis on a real scalar field), :class:`CompactLinkAction`
(local link updates and the heatbath of a compact U(1) Wilson action).  ``docs/architecture.md`` shows how to add a theory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qlat.core.errors import require
from qlat.core.registry import THEORIES

if TYPE_CHECKING:
    import torch

    from qlat.core.lattice import Lattice
    from qlat.core.options import Option


@runtime_checkable
class Theory(Protocol):
    """A classical lattice action.

    Attributes
    ----------
    name: the registry name (``"phi4"``, ``"u1"`` …).
    lattice: the :class:`~qlat.core.lattice.Lattice`.
    field_shape: shape of one configuration (φ⁴: ``lattice.shape``; U(1): ``(ndim, *lattice.shape)``).
    OPTIONS: the theory's command-line options (beyond ``--L``/``--ndim``).
    DEFAULT_OBSERVABLES: observable names ``qlat sample`` reports by default.

    Class-level hooks beside the protocol: ``from_params(params)`` (the inverse of
    :meth:`params`), ``from_options(*, L, ndim, **values)`` (the ``qlat sample`` flags), and
    ``example()`` (a small instance for the conformance suite and the docs).
    """

    name: str
    lattice: "Lattice"
    field_shape: tuple[int, ...]
    OPTIONS: tuple["Option", ...]
    DEFAULT_OBSERVABLES: tuple[str, ...]

    def action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S per configuration, shape ``(batch,)``."""
        ...

    def log_prob(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Unnormalized log density −S (what a flow is trained against)."""
        ...

    def canonicalize(self, fields: "torch.Tensor") -> "torch.Tensor":
        """Fields mapped to their canonical representative (e.g. angles into (−π, π])."""
        ...

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters, including ``name`` and ``shape``."""
        ...

    def default_observables(self) -> list[str]:
        """The observables reported by default on this theory (may depend on the lattice)."""
        ...

    def cold_start(self, batch: int) -> "torch.Tensor":
        """``batch`` ordered configurations."""
        ...

    def hot_start(self, batch: int, *, generator: "torch.Generator") -> "torch.Tensor":
        """``batch`` random configurations drawn with ``generator``."""
        ...


@runtime_checkable
class DifferentiableAction(Protocol):
    """A theory whose action has an analytic force (HMC): ∂S/∂fields, same shape as ``fields``.

    Optional speed hook, asked duck-typed by :class:`~qlat.samplers.hmc.HMC`:
    ``hmc_kernel() -> (kernel name, parameters) | None`` selects a fused compiled trajectory
    (:mod:`qlat.samplers.hmc_kernels`) for an action it knows exactly; a theory that reuses a class
    with a different action must return None.
    """

    def force(self, fields: "torch.Tensor") -> "torch.Tensor": ...


@runtime_checkable
class SiteLocalAction(Protocol):
    """A real scalar field whose action is a sum of site-local terms plus nearest-neighbour coupling.

    S = Σ_x s(φ_x, Σ_μ(φ_{x+μ̂} + φ_{x−μ̂})): a checkerboard Metropolis updates one colour at once.
    """

    lattice: "Lattice"

    def neighbour_sum(self, fields: "torch.Tensor") -> "torch.Tensor": ...

    def local_action(self, value: "torch.Tensor", neighbour_sum: "torch.Tensor") -> "torch.Tensor": ...


@runtime_checkable
class CompactLinkAction(Protocol):
    """Compact U(1) links with the Wilson action: S_x = −β Re[e^{iθ_μ(x)} A_μ(x)] per link."""

    lattice: "Lattice"
    beta: float

    def local_staples(self, fields: "torch.Tensor", mu: int) -> "torch.Tensor": ...


def check_field_shape(fields: "torch.Tensor", field_shape: tuple[int, ...]) -> None:
    """Require a batch of configurations: shape ``(batch, *field_shape)``."""
    require(
        fields.dim() == 1 + len(field_shape) and tuple(fields.shape[1:]) == tuple(field_shape),
        "fields",
        f"must have shape (batch, {', '.join(map(str, field_shape))})",
        tuple(fields.shape),
    )


def theory_from_params(params: dict[str, Any]) -> Theory:
    """Rebuild a theory from :meth:`Theory.params` (the inverse of ``params()``), by registry name.

    Raises
    ------
    ParameterError
        naming ``name`` for an unknown theory, or the offending parameter.
    """
    require(isinstance(params, dict), "params", "must be a dict", type(params).__name__)
    require("shape" in params, "shape", "missing from theory parameters")
    cls: Any = THEORIES.get(params.get("name"), parameter="name")  # type: ignore[arg-type]
    return cls.from_params(params)  # type: ignore[no-any-return]

"""The :class:`Theory` protocol shared by every classical lattice action, and its (de)serializer.

A theory is a Euclidean action on a batch of configurations (batch axis first, float64 torch
tensors).  Samplers use :meth:`Theory.action` for the Metropolis test and :meth:`Theory.force`
(the analytic gradient ∂S/∂fields, verified against autograd in the tests) for HMC; flows use
``log_prob = −S``.  :meth:`Theory.params` is a JSON-ready dict from which
:func:`theory_from_params` rebuilds an equal theory (used when ensembles are loaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qlat.core.errors import require

if TYPE_CHECKING:
    import torch

    from qlat.core.lattice import Lattice


@runtime_checkable
class Theory(Protocol):
    """A classical lattice action.

    Attributes
    ----------
    name: ``"phi4"`` or ``"u1"``.
    lattice: the :class:`~qlat.core.lattice.Lattice`.
    field_shape: shape of one configuration (φ⁴: ``lattice.shape``; U(1): ``(ndim, *lattice.shape)``).
    """

    name: str
    lattice: "Lattice"
    field_shape: tuple[int, ...]

    def action(self, fields: "torch.Tensor") -> "torch.Tensor":
        """S per configuration, shape ``(batch,)``."""
        ...

    def force(self, fields: "torch.Tensor") -> "torch.Tensor":
        """∂S/∂fields, same shape as ``fields``."""
        ...

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters, including ``name`` and ``shape``."""
        ...

    def cold_start(self, batch: int) -> "torch.Tensor":
        """``batch`` ordered configurations."""
        ...

    def hot_start(self, batch: int, *, generator: "torch.Generator") -> "torch.Tensor":
        """``batch`` random configurations drawn with ``generator``."""
        ...


def check_field_shape(fields: "torch.Tensor", field_shape: tuple[int, ...]) -> None:
    """Require a batch of configurations: shape (batch, *field_shape)."""
    require(
        fields.dim() == 1 + len(field_shape) and tuple(fields.shape[1:]) == tuple(field_shape),
        "fields",
        f"must have shape (batch, {', '.join(map(str, field_shape))})",
        tuple(fields.shape),
    )


def theory_from_params(params: dict[str, Any]) -> Theory:
    """Rebuild a theory from :meth:`Theory.params` (the inverse of ``params()``).

    Raises
    ------
    ParameterError
        naming ``name`` for an unknown theory, or the offending parameter.
    """
    from qlat.core.lattice import Lattice

    require(isinstance(params, dict), "params", "must be a dict", type(params).__name__)
    name = params.get("name")
    require("shape" in params, "shape", "missing from theory parameters")
    lattice = Lattice(tuple(params["shape"]))
    if name == "phi4":
        from qlat.theories.phi4 import Phi4Theory

        require("m2" in params and "lam" in params, "params", "phi4 needs 'm2' and 'lam'", sorted(params))
        return Phi4Theory(lattice, m2=float(params["m2"]), lam=float(params["lam"]))
    if name == "u1":
        from qlat.theories.u1 import U1Theory

        require("beta" in params, "beta", "missing from u1 parameters")
        return U1Theory(lattice, beta=float(params["beta"]))
    require(False, "name", "unknown theory; known: 'phi4', 'u1'", name)
    raise AssertionError  # unreachable

"""The common observable interface shared by every backend.

One :class:`Observable` object stands for one physical quantity (energy density, chiral
condensate, plaquette, topological charge ...).  It knows its name, unit convention and
definition, and holds *realizations*: how the quantity is computed on a given kind of target.

- On a classical theory (``qlat.theories``) the realization is a :class:`ClassicalRealization`:
  a pure, batched function ``fields -> values`` with the batch axis first (a
  :class:`DerivedClassicalRealization` also maps the means of its primaries to the value).
- On a qubit model it is a :class:`QubitRealization` (one Pauli sum per component with result
  keys; :class:`qlat.theories.schwinger_observables.QubitObservable`), which every qubit backend
  (ED, simulators, MPS, devices) evaluates.

Units live on the realization: ``chi_t`` is ⟨Q²⟩/V in lattice units on a U(1) ensemble and
∂²ℰ/∂θ² in units of g² on the Schwinger Hamiltonian; :meth:`Observable.unit_on` tells which.

Realizations are registered by the layer that owns the target type, so this module imports
nothing above ``qlat.core``::

    ENERGY.register(SchwingerModel, lambda model: QubitObservable(...))
    PLAQUETTE.register(U1Theory, lambda theory: theory.mean_plaquette)

Asking for a realization that was never registered raises :class:`NoRealizationError` naming the
observable and the target — never a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from qlat.core.errors import NoRealizationError, ParameterError

RealizationFactory = Callable[[Any], Any]


@runtime_checkable
class ClassicalRealization(Protocol):
    """An observable on classical configurations: ``fields (batch, …) -> values (batch, …)``."""

    def __call__(self, fields: Any) -> Any: ...


@runtime_checkable
class DerivedClassicalRealization(ClassicalRealization, Protocol):
    """Per-configuration primaries ``(batch, k)`` and the function of their ensemble means that
    is the value (errors propagate through it, e.g. χ₂ = (⟨M²⟩ − ⟨M⟩²)/V)."""

    primary_names: tuple[str, ...]

    def derive(self, means: Sequence[Any]) -> Any: ...


@runtime_checkable
class QubitRealization(Protocol):
    """An observable on a qubit model: Pauli sums (``terms``; ``operators`` as Qiskit) with result keys."""

    name: str
    unit: str
    terms: tuple[Any, ...]

    @property
    def keys(self) -> list[str]: ...


class BatchedRealization:
    """A classical realization that takes any leading batch axes and numpy arrays as well.

    Realizations are written for ``fields (batch, *field_shape)``; samplers return
    ``(n, chains, *field_shape)`` and ensemble files give numpy arrays.  This wrapper flattens the
    leading axes, converts numpy to torch, calls the realization and restores the leading axes on
    the result (``(n, chains, ...)``).  Other attributes (``derive``, ``primary_names``) pass through.
    """

    def __init__(self, realization: Any, field_shape: tuple[int, ...]) -> None:
        self._realization = realization
        self._shape = field_shape

    def __getattr__(self, name: str) -> Any:
        return getattr(self._realization, name)

    def __call__(self, fields: Any) -> Any:
        if not hasattr(fields, "detach"):  # numpy or nested lists: the realizations compute in torch
            import numpy as np
            import torch

            fields = torch.from_numpy(np.ascontiguousarray(np.asarray(fields, dtype=np.float64)))
        k = len(self._shape)
        if fields.dim() < k or tuple(fields.shape[fields.dim() - k:]) != self._shape:
            from qlat.core.errors import ParameterError

            raise ParameterError("fields", f"must end with the field shape {self._shape}", tuple(fields.shape))
        if fields.dim() == k + 1:
            return self._realization(fields)
        lead = tuple(fields.shape[: fields.dim() - k])
        if fields.dim() == k:
            lead = ()
        values = self._realization(fields.reshape(-1, *self._shape))
        return values.reshape(tuple(lead) + tuple(values.shape[1:]))


@dataclass(eq=False)
class Observable:
    """A physical quantity with realizations on several kinds of target.

    Parameters
    ----------
    name:
        Short machine name, used as JSON key and on the command line (``"condensate"``).
    unit:
        Unit convention of the realizations: ``"g"`` (Schwinger model, powers of the coupling
        g = 1), ``"lattice"`` (dimensionless lattice units) ...
    description:
        The definition, with the equation, as shown to users.
    """

    name: str
    unit: str
    description: str
    _realizations: dict[type, RealizationFactory] = field(default_factory=dict, repr=False)
    _units: dict[type, str] = field(default_factory=dict, repr=False)

    def register(self, target_type: type, factory: RealizationFactory | None = None, *, unit: str | None = None):
        """Register ``factory(target)`` as the realization on instances of ``target_type``.

        ``unit`` is the unit of this realization (default: the observable's :attr:`unit`).
        Usable directly or as a decorator.  A second, different factory for the same type is
        refused (a silent replacement would change every backend's numbers); register on a
        subclass to specialise, or call :meth:`unregister` first.
        """

        def add(fn: RealizationFactory) -> RealizationFactory:
            have = self._realizations.get(target_type)
            if have is not None and have is not fn:
                from qlat.core.errors import ParameterError

                raise ParameterError("target_type", f"observable '{self.name}' already has a realization on "
                                     f"{target_type.__name__}; unregister it first", target_type.__name__)
            if unit is not None:
                self._units[target_type] = unit
            self._realizations[target_type] = fn
            return fn

        if factory is None:
            return add
        return add(factory)

    def unregister(self, target_type: type) -> None:
        """Remove the realization on ``target_type`` (tests and plug-ins replacing one on purpose)."""
        self._realizations.pop(target_type, None)
        self._units.pop(target_type, None)

    def unit_on(self, target: Any) -> str:
        """The unit of the realization on ``target`` (looked up along its MRO)."""
        for klass in type(target).__mro__:
            if klass in self._realizations:
                return self._units.get(klass, self.unit)
        return self.unit

    def supports(self, target: Any) -> bool:
        """Whether a realization exists for ``target`` (looked up along its MRO)."""
        return self._factory_for(target) is not None

    def realize(self, target: Any) -> Any:
        """The realization of this observable on ``target``.

        Raises
        ------
        NoRealizationError
            If no realization is registered for ``type(target)`` or any of its bases.
        """
        factory = self._factory_for(target)
        if factory is None:
            have = ", ".join(sorted(t.__name__ for t in self._realizations)) or "none"
            raise NoRealizationError(
                f"observable '{self.name}' has no realization on {type(target).__name__} "
                f"(realized on: {have})"
            )
        realization = factory(target)
        shape = getattr(target, "field_shape", None)
        if not callable(realization) or shape is None:
            return realization
        shape = tuple(int(s) for s in shape)
        import dataclasses

        primaries = getattr(realization, "primaries", None)
        if dataclasses.is_dataclass(realization) and not isinstance(realization, type) and callable(primaries):
            # a derived realization keeps its type (and derive); only its per-configuration part is batched
            return dataclasses.replace(realization, primaries=BatchedRealization(primaries, shape))  # type: ignore[type-var]
        return BatchedRealization(realization, shape)

    def _factory_for(self, target: Any) -> RealizationFactory | None:
        for klass in type(target).__mro__:
            if klass in self._realizations:
                return self._realizations[klass]
        return None

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Observable) and other.name == self.name


class ObservableRegistry:
    """Name → :class:`Observable`; unknown names give an error that lists the known ones."""

    def __init__(self) -> None:
        self._by_name: dict[str, Observable] = {}

    def add(self, observable: Observable) -> Observable:
        if observable.name in self._by_name and self._by_name[observable.name] is not observable:
            raise ParameterError("name", "an observable with this name exists already", observable.name)
        self._by_name[observable.name] = observable
        return observable

    def remove(self, name: str) -> None:
        """Remove the observable called ``name`` (tests and plug-ins that added one for a while)."""
        self._by_name.pop(name, None)

    def get(self, name: str) -> Observable:
        try:
            return self._by_name[name]
        except KeyError:
            raise ParameterError(
                "observable", f"unknown; known observables are {', '.join(sorted(self._by_name))}", name,
                hint="a new one is qlat.core.observable_registry.define(NAME, unit=..., description=...) plus a realization "
                "registered on the target type (OBSERVABLE.register(TargetType, factory)); "
                "docs/architecture.md#add-an-observable",
            ) from None

    def supported_on(self, target: Any) -> list[Observable]:
        """All observables realized on ``target``."""
        return [o for o in self._by_name.values() if o.supports(target)]

    def __iter__(self) -> Iterator[Observable]:
        return iter(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)


#: The global registry of physical quantities.
OBSERVABLES = ObservableRegistry()


def define(name: str, *, unit: str, description: str) -> Observable:
    """Create an :class:`Observable` and add it to :data:`OBSERVABLES`."""
    return OBSERVABLES.add(Observable(name=name, unit=unit, description=description))

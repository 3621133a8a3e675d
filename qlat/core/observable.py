"""The common observable interface shared by every backend.

One :class:`Observable` object stands for one physical quantity (energy density, chiral
condensate, plaquette, topological charge ...).  It knows its name, unit convention and
definition, and holds *realizations*: how the quantity is computed on a given kind of target.

- On a classical theory (``qlat.theories``) the realization is a pure, batched function
  ``fields -> values`` with the batch axis first.
- On a qubit model (``qlat.quantum``) it is a :class:`qlat.quantum.observables.QubitObservable`
  (one or more ``SparsePauliOp`` plus the measurement recipe for shot-based runs).

Realizations are registered by the layer that owns the target type, so this module imports
nothing above ``qlat.core``::

    ENERGY.register(SchwingerModel, lambda model: QubitObservable(...))
    PLAQUETTE.register(U1Theory, lambda theory: theory.mean_plaquette)

Asking for a realization that was never registered raises :class:`NoRealizationError` naming the
observable and the target — never a silent zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from qlat.core.errors import NoRealizationError, ParameterError

RealizationFactory = Callable[[Any], Any]


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

    def register(self, target_type: type, factory: RealizationFactory | None = None):
        """Register ``factory(target)`` as the realization on instances of ``target_type``.

        Usable directly or as a decorator.  Registering twice for the same type replaces the
        earlier factory (the later, more specific module wins).
        """
        if factory is None:

            def decorator(fn: RealizationFactory) -> RealizationFactory:
                self._realizations[target_type] = fn
                return fn

            return decorator
        self._realizations[target_type] = factory
        return factory

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
        return factory(target)

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

    def get(self, name: str) -> Observable:
        try:
            return self._by_name[name]
        except KeyError:
            raise ParameterError(
                "observable", f"unknown; known observables are {', '.join(sorted(self._by_name))}", name
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

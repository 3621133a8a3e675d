"""The one :class:`Backend` protocol and :func:`estimate`, the call every backend answers.

A backend turns a *target* (a Schwinger qubit model, a classical theory, a Monte Carlo ensemble
…) and a list of observable names into Estimates::

    backend.estimate(target, ["energy", "condensate"], **options) -> {key: Estimate}

Keys follow one convention for every backend (:func:`component_key`): the observable name for a
scalar, ``name[i]`` (``name[i,j]`` …) with integer indices for the components of a vector- or
array-valued observable (``electric_field[3]`` is the link field on link 3).

Backends register in :data:`qlat.core.registry.BACKENDS`; ``qlat.estimate(target, obs,
backend="ed")``, the CLI, ``run_adiabatic`` and :class:`qlat.analysis.crosscheck.CrossCheck`
all find them there.  ``docs/architecture.md`` shows how to add one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from qlat.core.errors import ParameterError, require
from qlat.core.registry import BACKENDS

if TYPE_CHECKING:
    from qlat.core.estimate import Estimate


@runtime_checkable
class Backend(Protocol):
    """Something that estimates observables on a target.

    Attributes
    ----------
    name: the registry name (``"ed"``, ``"statevector"``, ``"aer"``, ``"mps"``, ``"u1-exact"`` …).
    label: what the Estimates' ``backend`` field says (``"exact"``, ``"aer-shots"`` …).
    description: one line for ``--help`` and tables.
    """

    name: str
    label: str
    description: str

    def supports(self, target: Any) -> bool:
        """Whether :meth:`estimate` accepts ``target``."""
        ...

    def observables(self, target: Any) -> list[str]:
        """The observable names this backend can estimate on ``target``."""
        ...

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, "Estimate"]:
        """``{key: Estimate}`` for every component of every requested observable.

        Raises ``ParameterError`` for an unsupported target, option or observable
        (``NoRealizationError`` for an observable without a realization on the target).
        """
        ...

    def example(self, workdir: Any) -> tuple[Any, dict[str, Any]]:
        """A small target and options that run in seconds (the conformance suite and the docs use it;
        ``workdir`` is a directory the backend may write into)."""
        ...


def component_key(name: str, index: Any = None) -> str:
    """The one key convention: ``name`` for a scalar, ``name[i]`` / ``name[i,j]`` for components.

    >>> component_key("energy"), component_key("electric_field", 3), component_key("G", (0, 2))
    ('energy', 'electric_field[3]', 'G[0,2]')
    """
    if index is None:
        return name
    if isinstance(index, (tuple, list)):
        return f"{name}[{','.join(str(int(i)) for i in index)}]"
    return f"{name}[{int(index)}]"


def get_backend(name: str, *, parameter: str = "backend") -> Backend:
    """The registered backend ``name`` (an instance), or a ``ParameterError`` listing the known ones."""
    factory = BACKENDS.get(name, parameter=parameter)
    backend = factory() if isinstance(factory, type) else factory
    return backend  # type: ignore[no-any-return]


def estimate(
    target: Any,
    observables: Sequence[str] | str,
    *,
    backend: str,
    **options: Any,
) -> dict[str, "Estimate"]:
    """Estimate ``observables`` on ``target`` with the registered ``backend``.

    >>> from qlat.theories.schwinger_qubit import SchwingerModel
    >>> est = estimate(SchwingerModel(n_sites=4, spacing=0.5, mass=0.1), ["energy"], backend="ed")
    >>> est["energy"].exact
    True

    Parameters
    ----------
    target: what to estimate on (``SchwingerModel``, ``U1Theory``, ``Ensemble`` …).
    observables: observable names (``qlat.core.OBSERVABLES``); a single name is accepted.
    backend: a name from ``qlat.core.registry.BACKENDS.names()``.
    options: backend options (``schedule``, ``shots``, ``seed`` …), see each backend.
    """
    names = [observables] if isinstance(observables, str) else list(observables)
    require(len(names) >= 1 and all(isinstance(n, str) for n in names), "observables",
            "must be a non-empty sequence of observable names", observables)
    require(len(set(names)) == len(names), "observables", "must not repeat a name", names)
    impl = get_backend(backend)
    if not impl.supports(target):
        usable = [n for n in BACKENDS.names() if n != backend and _supports(n, target)]
        raise ParameterError(
            "backend", f"'{backend}' does not accept a {type(target).__name__}; "
            f"backends for it: {', '.join(usable) or 'none'}", backend)
    return dict(impl.estimate(target, names, **options))


def _supports(name: str, target: Any) -> bool:
    try:
        return bool(get_backend(name).supports(target))
    except Exception:  # a broken third-party plug-in must not hide the real error
        return False


def components(estimates: Mapping[str, "Estimate"], name: str) -> list["Estimate"]:
    """The components ``name[0]``, ``name[1]`` … of a profile in ``estimates``, in index order."""
    prefix = f"{name}["
    found = []
    for key, est in estimates.items():
        if key.startswith(prefix) and key.endswith("]"):
            index = tuple(int(i) for i in key[len(prefix):-1].split(","))
            found.append((index, est))
    return [est for _, est in sorted(found, key=lambda item: item[0])]


def ground_state_methods() -> list[str]:
    """Registered backends that compute ground states of the qubit model (``ground_state = True``)."""
    from qlat.core.registry import BACKENDS

    return [name for name in BACKENDS.names() if is_ground_state_method(name)]


def is_ground_state_method(name: str) -> bool:
    """Whether ``name`` is a registered ground-state backend (imports that plug-in only; a broken one is not)."""
    from qlat.core.registry import BACKENDS

    if name not in BACKENDS.names():
        return False
    try:
        return bool(getattr(get_backend(name), "ground_state", False))
    except Exception:  # noqa: BLE001 — a broken plug-in is not offered
        return False

"""One point of the Schwinger model on qubits as a result object: ground state, adiabatic preparation, device run.

``qlat schwinger exact|adiabatic`` print these (``.table()``, ``.to_dict()``); from Python:

>>> from qlat.analysis.schwinger_points import ground_state_point   # doctest: +SKIP
>>> print(ground_state_point(SchwingerModel(8, 0.5, 0.1), method="ed").table())   # doctest: +SKIP

Units: energies in g (the Hamiltonian H of docs/conventions.md, constant included), condensates in
g; the adiabatic point is compared with exact diagonalization (N <= 20) in a
:class:`~qlat.analysis.crosscheck.CrossCheck` with z-scores from the total error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from qlat.analysis.tables import format_table
from qlat.core.errors import require

#: The observables of an adiabatic point (and of its comparison with ED).
ADIABATIC_OBSERVABLES = ("energy", "condensate", "condensate_subtracted")


def describe_model(model: Any) -> str:
    """One line: N, a, m, θ, g, the formulation and the mass shift of a SchwingerModel."""
    return (f"N={model.n_sites} a={model.spacing:g} m={model.mass:g} θ={model.theta:.4g} "
            f"g={model.coupling:g} [{model.formulation}{', mass shift' if model.mass_shift else ''}]")


def check_model_request(*, n_sites: int | Sequence[int], spacing: float | Sequence[float], mass: float,
                        coupling: float, theta: float | None = None, names: Mapping[str, str] | None = None) -> None:
    """Check the parameters of one Schwinger model (or of a scan's: ``n_sites``, ``spacing`` lists) before anything
    is built: N even >= 2, a > 0, m finite, g > 0, θ finite (:func:`~qlat.theories.schwinger_qubit.check_theta`,
    which warns at |θ| > 2π).  A failure is one ParameterError naming the parameter as ``names`` shows it."""
    import math

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    sites = list(n_sites) if isinstance(n_sites, Sequence) else [n_sites]
    spacings = list(spacing) if isinstance(spacing, Sequence) else [spacing]
    for n in sites:
        require(n >= 2 and n % 2 == 0, name("n_sites"), "must be an even integer >= 2", n)
    for a in spacings:
        require(math.isfinite(a) and a > 0, name("spacing"), "must be > 0", a)
    require(math.isfinite(mass), name("mass"), "must be a finite number", mass)
    require(math.isfinite(coupling) and coupling > 0, name("coupling"), "must be > 0", coupling)
    if theta is not None:
        from qlat.theories.schwinger_qubit import check_theta

        check_theta(theta, name("theta"))


def qubit_model(*, n_sites: int, spacing: float, mass: float, theta: float = 0.0, coupling: float = 1.0,
                formulation: str = "rotated", mass_shift: bool = False) -> Any:
    """The :class:`~qlat.theories.schwinger_qubit.SchwingerModel` of these parameters (a command's flags)."""
    from qlat.theories.schwinger_qubit import SchwingerModel

    return SchwingerModel(n_sites, spacing, mass, theta, coupling=coupling,
                          formulation=formulation, mass_shift=mass_shift)  # type: ignore[arg-type]


# --- ground state -----------------------------------------------------------------------------
@dataclass
class GroundStatePoint:
    """The ground state of one model by a ground-state backend (ED, DMRG): every default observable."""

    model: Any
    estimates: dict[str, Any]
    backend: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.estimates, "params": self.model.params(), "backend": self.backend}

    def table(self) -> str:
        from qlat.core.backend import components
        from qlat.quantum.exact_backend import SCALAR_OBSERVABLES

        rows = [(k, self.estimates[k]) for k in (*SCALAR_OBSERVABLES, "gap") if k in self.estimates]
        field_line = " ".join(f"{e.value:+.4f}" for e in components(self.estimates, "electric_field"))
        return "\n".join([f"Schwinger model, {self.description.split(';')[0]}  {describe_model(self.model)}",
                          format_table(["observable", "value"], rows), f"electric field L_n: {field_line}"])


def check_ground_state_request(model: Any, *, method: str, bond_dim: int | None = None,
                               names: dict[str, str] | None = None) -> dict[str, Any]:
    """Check a ground-state request before anything runs (``qlat schwinger exact``): the method is a
    registered ground-state method, ``bond_dim`` belongs to an MPS method and fits in memory, ED's
    size limit; returns the options for :func:`ground_state_point`.  ``names`` maps parameters to flags."""
    from qlat.core.backend import ground_state_methods, is_ground_state_method

    flag = {"method": "method", "bond_dim": "bond_dim", "n_sites": "n_sites", **(names or {})}
    if not is_ground_state_method(method):  # the full list (every plug-in imported) only on error
        methods = ground_state_methods()
        require(method in methods, flag["method"], f"must be one of {', '.join(methods)}", method)
    options: dict[str, Any] = {}
    if bond_dim is not None:
        require(method != "ed", flag["bond_dim"], f"applies to {flag['method']} dmrg (ED is exact)", bond_dim)
        require(2 <= bond_dim <= 4096, flag["bond_dim"], "must be an integer in [2, 4096]", bond_dim)
        options["bond_dim"] = bond_dim
    if method == "ed":
        from qlat.exact.diagonalization import ED_MAX_QUBITS

        require(model.n_sites <= ED_MAX_QUBITS, flag["n_sites"],
                f"exact diagonalization is limited to N <= {ED_MAX_QUBITS}", model.n_sites,
                hint=f"use {flag['method']} dmrg for longer chains")
    elif method == "dmrg":
        from qlat.exact.dmrg import DMRGSettings
        from qlat.exact.schwinger_mpo import require_chain_memory

        require_chain_memory(model.n_sites, bond_dim=bond_dim or DMRGSettings.bond_dim, itemsize=8, what="DMRG",
                             sites_parameter=flag["n_sites"], bond_parameter=flag["bond_dim"])
    return options


def ground_state_point(model: Any, *, method: str = "ed", **options: Any) -> GroundStatePoint:
    """The default observables of ``model``'s ground state from the registered backend ``method``."""
    from qlat.core.backend import get_backend
    from qlat.quantum.exact_backend import DEFAULT_OBSERVABLES

    backend = get_backend(method)
    est = backend.estimate(model, list(DEFAULT_OBSERVABLES), **options)
    return GroundStatePoint(model=model, estimates=dict(est), backend=backend.label,
                            description=backend.description)


# --- adiabatic preparation on a simulator ------------------------------------------------------
@dataclass
class AdiabaticPoint:
    """One adiabatic run (:func:`qlat.quantum.adiabatic_run.run_adiabatic`) with the ED values beside it (N <= 20)."""

    model: Any
    schedule: Any
    run: Any
    options: dict[str, Any]
    exact: dict[str, Any] | None = None

    @property
    def backend(self) -> str:
        return str(self.run.backend)

    def to_dict(self) -> dict[str, Any]:
        out = self.run.to_dict()
        for name, est in self.run.estimates.items():
            out[name] = est
        out["fidelity"] = self.run.fidelity
        out["params"] = {**self.model.params(), "schedule": asdict(self.schedule), **self.options}
        out["backend"] = self.run.backend
        if self.exact is not None:
            out["exact"] = self.exact
        return out

    def crosscheck(self) -> Any:
        """The run beside ED (when known) as a :class:`~qlat.analysis.crosscheck.CrossCheck`."""
        from qlat.analysis.crosscheck import CrossCheck

        check = CrossCheck(reference="exact (ED)")
        if self.exact is not None:
            check.add("exact (ED)", {n: self.exact[n] for n in ADIABATIC_OBSERVABLES})
        check.add(self.backend, {n: self.run.estimates[n] for n in ADIABATIC_OBSERVABLES})
        return check

    def table(self) -> str:
        s = self.schedule
        lines = [f"Adiabatic preparation on '{self.backend}'  {describe_model(self.model)}",
                 f"schedule: T={s.total_time:g} dt={s.dt:g} ramp={s.ramp} m0={s.initial_mass:g} "
                 f"order={self.options['order']} layout={self.options['layout']}"]
        check = self.crosscheck()
        if self.exact is not None:
            lines.append(check.table(ADIABATIC_OBSERVABLES))
        else:
            notes = check.warnings()
            est = self.run.estimates
            rows = [(n, f"{est[n]}" + "".join(f" !{notes.index(w) + 1}" for w in est[n].warnings))
                    for n in ADIABATIC_OBSERVABLES]
            lines.append(format_table(["observable", self.backend], rows))
            lines += [f"!{i + 1} {message}" for i, message in enumerate(notes)]
        if self.run.fidelity is not None:
            lines.append(f"fidelity with the exact ground state: {self.run.fidelity}")
        lines.append(adiabaticity_line(self.run.estimates["energy"].provenance))
        return "\n".join(lines)


def adiabaticity_line(prov: dict[str, Any]) -> str:
    """What the systematic error and the warnings rest on: the state model and the gap along the path."""
    parts = []
    method = prov.get("systematic_method")
    state = method.get("state_model") if isinstance(method, dict) else None
    if state:
        parts.append(f"energy variance {state['energy_variance']:.3g}, leaked weight {state['leaked_weight']:.3g} "
                     "(one Lanczos step)")
    lz = prov.get("landau_zener")
    if lz:
        where = f"N = {lz['n_sites']} proxy" if lz.get("proxy") else f"N = {lz['n_sites']}"
        parts.append(f"narrowest gap {lz['min_gap']:.3g} at t/T = {lz['u_min']:.3f}, Landau-Zener "
                     f"probability {lz['probability']:.2g} ({where})")
    return "adiabaticity: " + ("; ".join(parts) if parts else "not estimated")


def adiabatic_point(model: Any, schedule: Any, *, backend: str = "statevector", shots: int | None = None,
                    seed: int | None = None, noise: str | None = None, order: int = 2, layout: str = "all-to-all",
                    max_bond_dimension: int | None = None, progress: bool = False) -> AdiabaticPoint:
    """One adiabatic run of ``model`` along ``schedule`` on ``backend``, plus the ED values for comparison."""
    from qlat.exact.diagonalization import ED_ROUTINE_MAX_QUBITS
    from qlat.quantum.adiabatic_run import run_adiabatic

    run = run_adiabatic(model, schedule, observables=ADIABATIC_OBSERVABLES, backend=backend, shots=shots, seed=seed,
                        noise=noise, order=order, layout=layout, progress=progress,
                        max_bond_dimension=max_bond_dimension)
    exact = None
    if model.n_sites <= ED_ROUTINE_MAX_QUBITS:
        from qlat.quantum.exact_backend import exact_estimates

        exact = exact_estimates(model)
    options = {"order": order, "layout": layout, "shots": shots, "seed": seed, "noise": noise}
    return AdiabaticPoint(model=model, schedule=schedule, run=run, options=options, exact=exact)


@dataclass(frozen=True)
class AdiabaticRequest:
    """A checked adiabatic simulation (:func:`adiabatic_request`): the model, its schedule and the run options."""

    model: Any
    schedule: Any
    backend: str
    options: dict[str, Any]

    @property
    def samples_shots(self) -> bool:
        """Whether the run draws shots (then a seed is drawn when none is given, and recorded)."""
        from qlat.quantum.simulators import samples_shots

        return samples_shots(self.backend, self.options["shots"])

    def run(self, *, seed: int | None = None, progress: bool = False) -> AdiabaticPoint:
        """:func:`adiabatic_point` of the request."""
        return adiabatic_point(self.model, self.schedule, backend=self.backend, seed=seed, progress=progress,
                               **self.options)


def adiabatic_request(model: Any, *, backend: str = "statevector", total_time: float | None = None,
                      dt: float | None = None, ramp: str | None = None, initial_mass: float | None = None,
                      shots: int | None = None, seed: int | None = None, noise: str | None = None, order: int = 2,
                      layout: str = "all-to-all", bond_dim: int | None = None,
                      names: Mapping[str, str] | None = None) -> AdiabaticRequest:
    """Check an adiabatic simulation of ``model`` before anything runs (``qlat schwinger adiabatic``).

    The simulator's options (:func:`~qlat.quantum.simulators.check_simulation`), the chain in memory
    (:func:`~qlat.quantum.simulators.require_simulator_memory`); the schedule is the backend's default with the
    parts given replaced (:func:`~qlat.quantum.adiabatic.schedule_for`).  A failure is one
    :class:`~qlat.core.errors.ParameterError` naming the parameter as ``names`` shows it (e.g. the flags).
    """
    from qlat.quantum.adiabatic import schedule_for
    from qlat.quantum.simulators import check_simulation, require_simulator_memory

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    check_simulation(backend, total_time=total_time, dt=dt, initial_mass=initial_mass, shots=shots, seed=seed,
                     noise=noise, bond_dim=bond_dim, names=names)
    require_simulator_memory(backend, model.n_sites, bond_dim=bond_dim, sites_parameter=name("n_sites"),
                             bond_parameter=name("bond_dim"))
    schedule = schedule_for(model, backend=backend, total_time=total_time, dt=dt, ramp=ramp,
                            initial_mass=initial_mass)
    return AdiabaticRequest(model=model, schedule=schedule, backend=backend,
                            options={"shots": shots, "noise": noise, "order": order, "layout": layout,
                                     "max_bond_dimension": bond_dim})


# --- a device run ------------------------------------------------------------------------------
@dataclass
class DevicePoint:
    """A run on a fake or IBM device (:func:`qlat.quantum.ibm.backend.run_on_device`), with the training of
    an SC-ADAPT-VQE preparation and, for finished runs of N <= 20, the comparison with ED."""

    model: Any
    run: Any
    backend: str
    trained: Any = None
    exact: dict[str, Any] = field(default_factory=dict)
    compared: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = self.run.to_dict()
        if self.trained is not None:
            out["training"] = self.trained.to_dict()
        return out

    def table(self) -> str:
        lines = []
        if self.trained is not None:
            lines.append(self.trained.table())
        lines.append(str(self.run))
        if self.exact:
            from qlat.analysis.crosscheck import CrossCheck

            names = list(self.compared)
            label = next(iter(self.run.estimates.values())).backend or self.backend
            check = CrossCheck(reference="exact (ED)")
            check.add("exact (ED)", self.exact)
            check.add(label, {k: self.run.estimates[k] for k in names})
            lines.append(check.table(names))
        return "\n".join(lines)


def check_device_run(backend: str, *, n_sites: int, preparation: str = "adiabatic", budget: int | None = None,
                     total_time: float | None = None, dt: float | None = None, ramp: str | None = None,
                     initial_mass: float | None = None, shots: int | None = None, noise: str | None = None,
                     names: Mapping[str, str] | None = None) -> None:
    """Check a device run before anything is compiled or submitted (one :class:`~qlat.core.errors.ParameterError`
    naming the parameter as ``names`` shows it, e.g. the command-line flags).

    ``backend`` is ``fake:<device>`` or ``ibm:<device>`` (a fake device must have ``n_sites`` qubits); T, dt,
    shots > 0; no ``noise`` (the device has its own); the chain's Pauli operators must fit in memory; an
    SC-ADAPT-VQE preparation takes no schedule or budget, a ``budget`` chooses the schedule alone.
    """
    import math

    from qlat.core.errors import require
    from qlat.exact.schwinger_mpo import require_chain_memory

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    provider, _, device = backend.partition(":")
    require(provider in ("fake", "ibm") and bool(device), name("backend"),
            "a device is written fake:<device> or ibm:<device>", backend)
    if total_time is not None:
        require(math.isfinite(total_time) and total_time > 0, name("total_time"), "must be > 0", total_time)
    if dt is not None:
        require(math.isfinite(dt) and dt > 0, name("dt"), "must be > 0", dt)
    if shots is not None:
        require(shots > 0, name("shots"), "must be > 0", shots)
    require(noise is None, name("noise"), f"device runs have the device's own noise; drop {name('noise')}")
    if provider == "fake":  # the chain must fit on the device (known offline for fake devices)
        from qlat.quantum.ibm.devices import fake_device

        qubits = int(fake_device(device, parameter=name("backend")).num_qubits)
        require(n_sites <= qubits, name("n_sites"), f"{device} has {qubits} qubits", n_sites)
    require_chain_memory(n_sites, bond_dim=None, itemsize=16, pauli=True, what="the device circuits",
                         sites_parameter=name("n_sites"), bond_parameter=name("bond_dim"))
    schedule_parts = (("total_time", total_time), ("dt", dt), ("ramp", ramp), ("initial_mass", initial_mass))
    if preparation == "sc-vqe":
        for key, value in (*schedule_parts, ("budget", budget)):
            require(value is None, name(key),
                    f"applies to the adiabatic preparation, not to {name('preparation')} sc-vqe")
    elif budget is not None:
        for key, value in schedule_parts:
            require(value is None, name(key), f"is chosen by {name('budget')}; give one or the other")


def device_point(model: Any, *, backend: str, preparation: str = "adiabatic", budget: int | None = None,
                 total_time: float | None = None, dt: float | None = None, ramp: str | None = None,
                 initial_mass: float | None = None, shots: int = 4096, mitigation: str | None = None,
                 seed: int | None = None, order: int = 2, layout: str = "auto", mode: str = "job",
                 primitive: str = "executor", dry_run: bool = False, wait: bool = True,
                 announce: Callable[[str], Any] | None = None) -> DevicePoint:
    """Prepare ``model`` on a device and measure it (compile only with ``dry_run``; submit only without ``wait``).

    ``preparation``: ``"adiabatic"`` (the short device schedule :func:`~qlat.quantum.ibm.backend.hardware_schedule`
    with the parts given replaced, or with ``budget`` the schedule of highest fidelity within that many two-qubit
    gates, :func:`~qlat.quantum.schedules.budget_schedule`) or ``"sc-vqe"`` (SC-ADAPT-VQE,
    :func:`~qlat.quantum.variational.train_ansatz`).  ``announce(text)`` receives the chosen budget schedule
    before the run.
    """
    from qlat.quantum.ibm.backend import device_schedule, run_on_device

    schedule = None
    prepared = None
    trained = None
    if preparation == "sc-vqe":
        from qlat.quantum.variational import train_ansatz

        trained = train_ansatz(model)
        prepared = trained.ansatz(model.n_sites)
    elif budget is not None:
        from qlat.quantum.schedules import budget_schedule

        chosen = budget_schedule(model, budget, order=order)
        schedule = chosen.schedule
        if announce is not None:
            announce(str(chosen))
    elif any(v is not None for v in (total_time, dt, ramp, initial_mass)):
        schedule = device_schedule(total_time=total_time, dt=dt, ramp=ramp, initial_mass=initial_mass)
    run = run_on_device(model, backend=backend, schedule=schedule, preparation=prepared, shots=shots,
                        mitigation=mitigation, seed=seed, order=order, layout=layout, mode=mode, primitive=primitive,
                        dry_run=dry_run, wait=wait)
    exact: dict[str, Any] = {}
    names: list[str] = []
    from qlat.exact.diagonalization import ED_ROUTINE_MAX_QUBITS

    if run.estimates and model.n_sites <= ED_ROUTINE_MAX_QUBITS:
        from qlat.quantum.exact_backend import exact_estimates

        names = [k for k in run.estimates if k in ("energy", "condensate")]
        exact = exact_estimates(model, observables=names)
    return DevicePoint(model=model, run=run, backend=backend, trained=trained, exact=exact, compared=tuple(names))

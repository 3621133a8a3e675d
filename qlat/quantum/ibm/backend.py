r"""IBM devices as qlat backends: ``fake:<device>`` (local testing mode) and ``ibm:<device>``.

:func:`run_on_device` is the whole path for one adiabatic run of a
:class:`~qlat.theories.schwinger_qubit.SchwingerModel`:

compile (:mod:`~qlat.quantum.ibm.compile`) → dry-run report (:mod:`~qlat.quantum.ibm.dryrun`)
→ submit with the chosen primitive, mode and mitigation, recorded in the job store
(:mod:`~qlat.quantum.ibm.submit`, :mod:`~qlat.quantum.ibm.store`) → Estimates
(:mod:`~qlat.quantum.ibm.results`).

On a fake device the runtime's local testing mode simulates the device's noise model with Aer in
this process (no network); on ``ibm:`` the job goes to IBM Quantum and can be collected later
(``qlat jobs fetch``).  The registered backends ``"fake"`` and ``"ibm"`` answer the common
:class:`~qlat.core.backend.Backend` protocol with the same keys as every backend
(:func:`~qlat.core.backend.component_key`): ``energy``, ``condensate``, ``electric_field[3]`` …,
plus ``discarded_fraction`` under Gauss-law post-selection.  Their Estimates are labelled
``fake:<device>`` / ``ibm:<device>``, with ``+<mitigation>`` appended when mitigation is on, so a
hardware row sits beside ED and Aer in one :class:`~qlat.analysis.crosscheck.CrossCheck` table.

The default schedule is short (hardware noise grows with every Trotter step): T = 3, dt = 0.75,
linear ramp from m₀ = 1 — four steps (:func:`hardware_schedule`); pass ``schedule=`` for anything else
(:func:`device_schedule` changes parts of it).

Every run's error is split (:mod:`qlat.quantum.ibm.reference`): beside the device value the same
circuit is evaluated without noise; the Estimates carry the systematic sources ``"schedule"``
(noiseless circuit vs exact) and ``"noise"`` (the white-noise model of the hardware bias), the
noiseless value in their provenance, and warnings where the noise or the schedule dominates.

Seeds.  One integer ``seed`` (drawn and recorded when none is given) seeds the transpiler and, in
local testing mode, the simulator — from which the runtime's local executor also draws the
twirling and gate-folding randomizations — so ``seed=<recorded seed>`` repeats a fake run bit for
bit.  On hardware only the transpilation is repeatable.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qlat.core.backend import component_key
from qlat.core.errors import ParameterError, QlatError, require
from qlat.core.estimate import Estimate
from qlat.core.registry import BACKENDS

#: Shots per circuit when none are given.
DEFAULT_SHOTS = 4096
DEFAULT_OBSERVABLES: tuple[str, ...] = ("energy", "condensate")
#: Fake device used by ``BACKENDS.get("fake")`` when no ``device=`` is given (16 qubits: lines of
#: up to 12 qubits, small enough for local noisy simulation).
DEFAULT_FAKE_DEVICE = "fake_guadalupe"
#: Seconds between status polls while waiting for a service job.
POLL_S = 10.0
#: ``local_qubits`` choices of :func:`run_on_device` (local testing mode: simulate the active qubits or all).
LOCAL_QUBITS: tuple[str, ...] = ("active", "all")


#: The default device schedule (:func:`hardware_schedule`).
HARDWARE_TOTAL_TIME = 3.0
HARDWARE_DT = 0.75
HARDWARE_INITIAL_MASS = 1.0
HARDWARE_RAMP = "linear"


def hardware_schedule() -> Any:
    """The default schedule for devices: T = 3/g, dt = 0.75/g, m₀ = 1, linear ramp (4 Trotter steps).

    At a = 1, m = 0.5 it prepares the vacuum with fidelity 0.996 (N = 4) and 0.993 (N = 6) without
    noise; elsewhere it can be far from adiabatic (fidelity 0.83 at N = 4, a = 0.45, m = 0.2), which
    the ``"schedule"`` systematic of every device Estimate reports (:mod:`qlat.quantum.ibm.reference`).
    """
    from qlat.quantum.adiabatic import AdiabaticSchedule

    return AdiabaticSchedule(total_time=HARDWARE_TOTAL_TIME, dt=HARDWARE_DT, initial_mass=HARDWARE_INITIAL_MASS,
                             ramp=HARDWARE_RAMP)


def device_schedule(*, total_time: float | None = None, dt: float | None = None, ramp: str | None = None,
                    initial_mass: float | None = None) -> Any:
    """:func:`hardware_schedule` with the given parts replaced (a total time shorter than its step takes dt = T)."""
    from dataclasses import replace

    base = hardware_schedule()
    changes: dict[str, Any] = {}
    if total_time is not None:
        changes["total_time"] = total_time
        if dt is None and base.dt > total_time:
            changes["dt"] = total_time
    if dt is not None:
        changes["dt"] = dt
    if ramp is not None:
        changes["ramp"] = ramp
    if initial_mass is not None:
        changes["initial_mass"] = initial_mass
    return replace(base, **changes) if changes else base


def describe_schedule(schedule: Any, *, order: int) -> str:
    """One line: ``T = 3, dt = 0.75 (4 Trotter steps), ramp linear, m0 = 1, order 2`` (or the ansatz's description)."""
    if hasattr(schedule, "describe"):
        return str(schedule.describe())
    return (f"T = {schedule.total_time:g}, dt = {schedule.dt:g} ({schedule.n_steps} Trotter steps), ramp "
            f"{schedule.ramp}, m0 = {schedule.initial_mass:g}, order {order}")


def draw_seed() -> int:
    """A fresh seed in [0, 2^31) from the operating system's entropy (recorded, so the run can be repeated)."""
    import secrets

    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class DeviceRun:
    """What :func:`run_on_device` did: the report, the job (ref, id, status) and, once done, the Estimates."""

    backend: str
    report: Any
    ref: str | None = None
    job_id: str | None = None
    status: str = "dry-run"
    estimates: dict[str, Estimate] | None = None
    schedule: dict[str, Any] | None = None
    seeds: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "ref": self.ref, "job_id": self.job_id, "status": self.status,
                "schedule": self.schedule, "seeds": self.seeds, "report": self.report.to_dict(),
                "estimates": None if self.estimates is None else {k: e.to_dict() for k, e in self.estimates.items()}}

    def __str__(self) -> str:
        lines = [str(self.report)]
        if self.schedule is not None:
            lines.append(f"  schedule {self.schedule['description']}"
                         + (" (the device default)" if self.schedule.get("default") else ""))
        if self.seeds is not None:
            repeat = ("repeat with seed=" if "simulator" in self.seeds else
                      "hardware shots and twirls are not seeded; the same transpilation with seed=")
            lines.append(f"  seeds {', '.join(f'{k} {v}' for k, v in self.seeds.items() if k != 'seed')}; "
                         f"{repeat}{self.seeds['seed']}")
        if self.ref is not None:
            lines.append(f"  executed circuits: qlat circuits export --job {self.ref[:12]} --out <directory>")
        if self.ref is not None:
            lines.append(f"job {self.ref} (runtime id {self.job_id}): {self.status}")
        if self.estimates is not None:
            lines += _estimate_lines(self.estimates)
        elif self.ref is not None:
            lines.append(f"  collect the result later with: qlat jobs fetch {self.ref[:12]}")
        return "\n".join(lines)


def _number(x: Any, fmt: str = "+.6g") -> str:
    return "-" if x is None else format(float(x), fmt)


def _estimate_lines(estimates: dict[str, Estimate]) -> list[str]:
    """The Estimates with their split (:mod:`qlat.quantum.ibm.reference`): value(stat)(sys), noiseless value,
    schedule error (noiseless − exact), noise estimate."""
    header = (f"  {'observable':<20s} {'device value(stat)(sys)':<26s} {'noiseless circuit':>17s} "
              f"{'schedule error':>14s} {'noise error':>11s}  unit")
    lines = [header]
    f = None
    odr = False
    for key, est in estimates.items():
        prov = est.provenance
        odr = odr or bool((prov.get("odr") or {}).get("applied"))
        sources = prov.get("systematic_sources", {})
        if "noiseless_value" not in prov:
            lines.append(f"  {key:<20s} {str(est):<26s} {'':>17s} {'':>14s} {'':>11s}  {est.unit}")
            continue
        f = prov.get("error_free_fraction", f)
        schedule = prov.get("schedule_error")
        sched = _number(schedule) if schedule is not None else (
            "±" + _number(sources["schedule"], ".3g") if "schedule" in sources else "unknown")
        lines.append(f"  {key:<20s} {str(est):<26s} {_number(prov.get('noiseless_value')):>17s} {sched:>14s} "
                     f"{_number(sources.get('noise'), '.3g'):>11s}  {est.unit}")
    if f is not None and odr:
        from qlat.quantum.ibm.reference import ODR_RESIDUAL_FRACTION

        lines.append(f"  schedule error: noiseless circuit - exact; noise error after ODR: {ODR_RESIDUAL_FRACTION:g} x "
                     f"|ODR correction| (error-free fraction f = {float(f):.3g}; qlat.quantum.ibm.reference)")
    elif f is not None:
        lines.append(f"  schedule error: noiseless circuit - exact; noise error: white-noise model with estimated "
                     f"error-free fraction f = {float(f):.3g} (qlat.quantum.ibm.reference)")
    return lines


def bare_vacuum_value(operator: Any, n_sites: int) -> float:
    """⟨bare vacuum|O|bare vacuum⟩ of a ``SparsePauliOp``: the noiseless value of ODR's calibration circuit.

    The bare vacuum is a computational basis state, so only I/Z terms contribute, each
    c·Π_{q ∈ Z} z_q with z_q = +1 for bit 0 and −1 for bit 1 (any N, no simulation).
    """
    import numpy as np

    from qlat.theories.schwinger_qubit import bare_vacuum_bits

    z = 1.0 - 2.0 * bare_vacuum_bits(n_sites).astype(float)
    paulis = operator.paulis
    diagonal = ~np.any(paulis.x, axis=1)
    signs = np.prod(np.where(paulis.z[diagonal], z[None, :], 1.0), axis=1)
    return float(np.real(np.sum(np.asarray(operator.coeffs)[diagonal] * signs)))


def _check_shots(shots: Any) -> int:
    require(isinstance(shots, int) and not isinstance(shots, bool) and 2 <= shots <= 10_000_000, "shots",
            "must be an integer in [2, 10000000]", shots)
    return int(shots)


def _components(model: Any, names: Sequence[str]) -> list[tuple[str, str, str, Any]]:
    """[(key, observable name, unit, logical SparsePauliOp)] for every component of ``names``."""
    from qlat.theories.schwinger_observables import qubit_observable

    if isinstance(names, str):
        names = (names,)
    names = list(names)
    require(len(names) >= 1 and all(isinstance(n, str) for n in names), "observables",
            "must be a non-empty sequence of observable names", names)
    require(len(set(names)) == len(names), "observables", "must not repeat a name", names)
    out = []
    for name in names:
        obs = qubit_observable(name, model)
        for i, op in enumerate(obs.operators):
            out.append((component_key(name, None if obs.is_scalar else i), name, obs.unit, op))
    return out


def resolve_device(provider: str, device: str, *, service: Any = None, timeout: float | None = None) -> tuple[Any, Any]:
    """``(device backend, service or None)`` for ``fake``/``ibm`` and a device name."""
    if provider == "fake":
        from qlat.quantum.ibm.devices import fake_device

        return fake_device(device, parameter="backend"), None
    from qlat.quantum.ibm.accounts import DEFAULT_TIMEOUT_S, call_with_timeout, connect, find_account

    limit = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
    if service is None:
        find_account()  # fails fast, without network, when no account is configured
        service = connect(timeout=limit)
    if getattr(service, "channel", None) == "loopback":  # offline stand-in: no network, no time limit
        return service.backend(device), service
    backend = call_with_timeout(lambda: service.backend(device), timeout=limit,
                                what=f"IBM Quantum (looking up device {device})")
    return backend, service


def run_on_device(
    model: Any,
    *,
    backend: str,
    schedule: Any = None,
    preparation: Any = None,
    observables: Sequence[str] = DEFAULT_OBSERVABLES,
    shots: int = DEFAULT_SHOTS,
    mitigation: Any = None,
    seed: int | None = None,
    order: int = 2,
    layout: str = "auto",
    optimization_level: int = 2,
    mode: str = "job",
    primitive: str = "executor",
    dry_run: bool = False,
    wait: bool | float = True,
    store: Any = None,
    service: Any = None,
    timeout: float | None = None,
    kind: str | None = None,
    local_qubits: str = "active",
    device_noise: bool = True,
) -> DeviceRun:
    """Compile, (dry-run or) submit and collect the adiabatic vacuum of ``model`` on a device.

    Parameters
    ----------
    backend: ``"fake:<device>"`` (local testing mode, e.g. ``fake:fake_manila``) or ``"ibm:<device>"``.
    schedule: an :class:`~qlat.quantum.adiabatic.AdiabaticSchedule`; ``None``: :func:`hardware_schedule`.
    preparation: instead of the adiabatic schedule, a variational
        :class:`~qlat.quantum.variational.ScalableAnsatz` (SC-ADAPT-VQE; e.g.
        ``train_ansatz(model).ansatz(model.n_sites)``); its noiseless value is the exact ansatz state.
    observables: observable names with a qubit realization.
    shots: shots per circuit (Sampler: per measurement basis).
    mitigation: names of :mod:`qlat.quantum.ibm.mitigation` (``"trex+zne"``, ``"postselect"``, ``"odr+trex"`` …;
        ``odr`` needs a ``preparation``).
    seed: seeds the transpiler and, in local testing mode, the simulator (and through it the twirling and
        folding randomizations); ``None`` draws one (:func:`draw_seed`), recorded in the provenance.
    order, layout, optimization_level: Trotter order (1, 2); ``"auto"``/``"line"``/``"default"``
        (:mod:`qlat.quantum.ibm.compile`); Qiskit's transpiler level 0–3.
    mode: ``"job"``, ``"batch"`` or ``"session"``.  primitive: ``"executor"`` (recommended) or ``"v2"`` (legacy).
    dry_run: only compile and report; nothing is submitted or stored.
    wait: for ``ibm:``, ``True`` waits for the result, a number waits at most that many seconds,
        ``False`` returns right after submission (the job is in the store either way).
    store: a :class:`~qlat.quantum.ibm.store.JobStore` (default: the user's store).
    service: a ``QiskitRuntimeService`` to use instead of connecting (``ibm:`` only).
    timeout: seconds allowed for connecting to IBM Quantum (default 6).
    kind: ``"estimator"`` or ``"sampler"`` to choose the primitive explicitly (default: the one the
        mitigation needs — the Sampler for ``postselect``/``readout``, else the Estimator); a
        Sampler run without them estimates from all bit strings.
    local_qubits: ``fake:`` only — ``"active"`` (default) simulates only the qubits the ISA
        circuits act on, with the device's noise on them (:mod:`qlat.quantum.ibm.active`; the
        same distribution, and a 127-qubit device becomes simulable); ``"all"`` hands the whole
        device to the runtime's local testing mode.  The legacy ``primitive="v2"`` always runs
        all qubits (it simulates with the fake device's own ``run``).
    device_noise: ``fake:`` with the executor primitives only — ``False`` simulates the ISA circuits
        on the device's qubits *without* its noise (an ideal device): a check of the whole
        compile–submit–result path, whose values must agree with the noiseless value within shot
        noise.  The Estimates are labelled ``fake:<device>/noiseless``.
    """
    from qlat.core.provenance import provenance
    from qlat.quantum.adiabatic_run import schedule_description
    from qlat.quantum.ibm.compile import compile_adiabatic
    from qlat.quantum.ibm.devices import parse_device_spec
    from qlat.quantum.ibm.dryrun import dry_run_report
    from qlat.quantum.ibm.mitigation import check_primitive, estimator_options, parse_mitigation, sampler_options
    from qlat.quantum.ibm.submit import check_mode, fetch, job_tag, submit
    from qlat.theories.schwinger_qubit import SchwingerModel

    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    provider, device_name = parse_device_spec(backend)
    mit = parse_mitigation(mitigation)
    check_primitive(primitive)
    check_mode(mode)
    shots = _check_shots(shots)
    if kind is None:
        kind = mit.kind
    require(kind in ("estimator", "sampler"), "kind", "must be 'estimator' or 'sampler'", kind)
    require(local_qubits in LOCAL_QUBITS, "local_qubits", f"must be one of {', '.join(LOCAL_QUBITS)}", local_qubits)
    if kind != mit.kind and mit.names and (kind == "estimator" or {"trex", "zne"} & set(mit.names)):
        raise ParameterError("kind", f"mitigation {mit.label} needs the {mit.kind}", kind)
    if seed is not None:
        require(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0, "seed", "must be an integer >= 0",
                seed)
    require(isinstance(device_noise, bool), "device_noise", "must be True or False", device_noise)
    if not device_noise:
        require(provider == "fake", "device_noise", "only a fake device can run without its noise", device_noise)
        require(primitive == "executor", "device_noise", "a noiseless fake run needs primitive='executor'",
                device_noise)
    if preparation is not None:
        from qlat.quantum.variational import ScalableAnsatz

        require(isinstance(preparation, ScalableAnsatz), "preparation", "must be a ScalableAnsatz (qlat.quantum."
                "variational)", type(preparation).__name__)
        require(schedule is None, "schedule", "give a schedule (adiabatic) or a preparation (variational), not both",
                schedule)
    require("odr" not in mit or preparation is not None, "mitigation",
            "odr needs a variational preparation (its calibration circuit sets every parameter to 0)", mit.label)
    default_schedule = schedule is None and preparation is None
    if preparation is not None:
        schedule = preparation
    elif schedule is None:
        schedule = hardware_schedule()
    comps = _components(model, observables)
    if store is None and not dry_run:
        from qlat.quantum.ibm.store import JobStore

        store = JobStore()  # opened (and checked) before anything slow or remote happens
    device, service = resolve_device(provider, device_name, service=service, timeout=timeout)
    local = provider == "fake"
    if seed is None:
        seed = draw_seed()
    seeds: dict[str, Any] = {"seed": seed, "transpiler": seed}
    if local:
        seeds["simulator"] = seed
        seeds["twirling"] = seed  # the local executor draws twirling and ZNE folding from the simulator seed
    schedule_info = {"description": describe_schedule(schedule, order=order), "default": default_schedule,
                     **schedule_description(schedule)}

    splits: list[dict[str, Any]] = []
    if kind == "sampler":
        from qlat.quantum.ibm.postselect import needed_bases, split_operator

        splits = [split_operator(op) for *_, op in comps]
        compiled = compile_adiabatic(model, schedule, device, kind="sampler", bases=needed_bases(splits),
                                     order=order, layout=layout, optimization_level=optimization_level,
                                     seed=seed)
    else:
        compiled = compile_adiabatic(model, schedule, device, kind="estimator", operators=[op for *_, op in comps],
                                     order=order, layout=layout, optimization_level=optimization_level,
                                     seed=seed, calibration="odr" in mit)
    report = dry_run_report(compiled, device, backend=backend, shots=shots, primitive=primitive, mode=mode,
                            mitigation=mit, preparation="variational" if preparation is not None else "adiabatic")
    if dry_run:
        return DeviceRun(backend=backend, report=report, schedule=schedule_info, seeds=seeds)

    from qlat.quantum.ibm.reference import NOISE_METHOD, error_free_fraction, noiseless_reference
    from qlat.quantum.ibm.results import estimator_recipe, sampler_recipe

    reference = noiseless_reference(model, schedule, comps, order=order)
    if device_noise:
        from qlat.quantum.ibm.compile import observable_qubits

        readout = not ({"trex", "readout"} & set(mit.names))
        reference["error_free_fraction"] = error_free_fraction(
            compiled.circuits, device.target, readout=readout,
            readout_qubits=[observable_qubits(compiled.observables)] if kind == "estimator" else None)
        reference["noise_method"] = NOISE_METHOD + ("" if readout else "; readout errors left out (mitigated)") + (
            "; not reduced for the mitigation " + mit.label if {"zne", "postselect"} & set(mit.names) else "")
    else:
        reference["error_free_fraction"] = 1.0
        reference["noise_method"] = "none: simulated without the device's noise"
    base_label = backend if device_noise else f"{backend}/noiseless"
    label = base_label if not mit.names else f"{base_label}+{mit.label}"
    circuit_hash = compiled.circuit_hash()
    chosen = compiled.chosen.summary(compiled.n_steps)
    prov = provenance(
        model=model.params(), schedule=schedule_description(schedule), order=order, device=device_name,
        provider=provider, local_testing_mode=local, mitigation=mit.label, primitive=primitive, mode=mode,
        kind=kind, shots=shots, seed=seed, seeds=seeds, layout=chosen["layout"],
        physical_qubits=chosen["physical_qubits"], device_noise=device_noise,
        optimization_level=optimization_level, two_qubit_gates=chosen["two_qubit_gates"], depth=chosen["depth"],
        estimated_success_probability=chosen["estimated_success_probability"], circuit_hash=circuit_hash,
        preparation="variational" if preparation is not None else "adiabatic",
    )
    if "zne" in mit:
        from qlat.quantum.ibm.mitigation import ZNE_METHOD, ZNE_NOISE_FACTORS

        prov["zne"] = {"noise_factors": list(ZNE_NOISE_FACTORS), "extrapolator": "linear", "method": ZNE_METHOD}
    # the legacy V2 primitives run the fake device's own simulator (backend.run, a noise model
    # from its BackendProperties), which a restricted device does not reproduce: all qubits there
    simulated = local_qubits if primitive == "executor" else "all"
    if local:
        prov["local_qubits"] = simulated
    if primitive == "v2" and local and mit.names:
        prov["warning"] = "legacy V2 primitives ignore mitigation options in local testing mode"
    ref = store.new_ref()
    tags = [job_tag(ref)]
    if kind == "sampler":
        options = sampler_options(mit, shots=shots, seed=seed, primitive=primitive, tags=tags)
        recipe = sampler_recipe([{"key": k, "name": n, "unit": u, "split": s} for (k, n, u, _), s in zip(comps, splits)],
                                bases=compiled.bases, n_qubits=compiled.n_qubits, shots=shots,
                                postselect=mit.postselect, label=label, provenance=prov, reference=reference)
        pubs: list[Any] = [(qc,) for qc in compiled.circuits]
        if "readout" in mit:
            from qlat.quantum.ibm.compile import measured_qubits, readout_calibration_circuits

            phys = [measured_qubits(qc) for qc in compiled.circuits]
            cal_qubits = sorted({q for row in phys for q in row})
            pubs += [(qc,) for qc in readout_calibration_circuits(device, cal_qubits)]
            recipe["readout"] = {"physical_qubits": phys, "calibration_qubits": cal_qubits}
    else:
        options = estimator_options(mit, shots=shots, seed=seed, primitive=primitive, tags=tags)
        from qlat.quantum.ibm.mitigation import ZNE_NOISE_FACTORS

        recipe = estimator_recipe([{"key": k, "name": n, "unit": u} for k, n, u, _ in comps], shots=shots,
                                  label=label, provenance=prov, reference=reference,
                                  zne_noise_factors=ZNE_NOISE_FACTORS if "zne" in mit else None)
        pubs = [(compiled.circuits[0], compiled.observables)]
        if "odr" in mit:
            from qlat.quantum.ibm.reference import mixed_value, operator_scale

            recipe["odr"] = {"calibration_noiseless": {k: bare_vacuum_value(op, model.n_sites) for k, _, _, op in comps},
                             "mixed": {k: mixed_value(op) for k, _, _, op in comps},
                             "scale": {k: operator_scale(op) for k, _, _, op in comps}}
            pubs.append((compiled.calibration_circuits[0], compiled.observables))
    run_device = device
    if local and (simulated == "active" or not device_noise):
        from qlat.quantum.ibm.active import restrict_pubs

        run_device, pubs, _ = restrict_pubs(device, pubs, noiseless=not device_noise)
    params = {"model": model.params(), "schedule": schedule_description(schedule), "observables": list(observables),
              "shots": shots, "mitigation": mit.label, "seed": seed, "seeds": seeds, "order": order, "layout": layout,
              "optimization_level": optimization_level, "report": report.to_dict(), "device_noise": device_noise}
    if local:
        params["local_qubits"] = simulated
    from qlat.quantum.ibm.jobs import CIRCUITS_KEY, encode_circuits

    submitted = [*compiled.circuits, *(compiled.calibration_circuits if "odr" in mit else [])]
    names = [f"{compiled.kind}_{i}" for i in range(len(compiled.circuits))] + (
        ["odr_calibration"] if "odr" in mit else [])
    params[CIRCUITS_KEY] = encode_circuits(submitted, names=names)
    params["preparation"] = "variational" if preparation is not None else "adiabatic"
    channel = getattr(service, "channel", None) if service is not None else None
    with warnings.catch_warnings():
        if not device_noise:  # Aer on the ideal device: no relaxation is what is asked for
            warnings.filterwarnings("ignore", message=".*has no QubitProperties", category=UserWarning)
        ref, estimates = submit(store, pubs=pubs, kind=kind, device=run_device, backend_label=base_label,
                                device_name=device_name, local=local, mode=mode, primitive=primitive,
                                options=options, params=params, recipe=recipe, circuit_hash=circuit_hash, ref=ref,
                                channel=channel if isinstance(channel, str) else None,
                                on_submitted=getattr(service, "file_job", None) if service is not None else None)
    rec = store.get(ref)
    if estimates is None and wait is not False:
        deadline = None if wait is True else time.monotonic() + float(wait)
        while True:
            try:
                estimates = fetch(store, ref, service=service)
                break
            except QlatError as exc:
                if "not finished" not in str(exc):
                    raise
                if deadline is not None and time.monotonic() >= deadline:
                    break
            time.sleep(POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic())))
        rec = store.get(ref)
    return DeviceRun(backend=backend, report=report, ref=ref, job_id=rec.job_id, status=rec.status,
                     estimates=estimates, schedule=schedule_info, seeds=seeds)


class _DeviceBackend:
    """The :class:`~qlat.core.backend.Backend` protocol over :func:`run_on_device`."""

    provider = ""
    name = ""
    description = ""
    default_device: str | None = None

    def __init__(self, device: str | None = None, **defaults: Any) -> None:
        self.device = device if device is not None else self.default_device
        self.defaults = defaults

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.device}" if self.device else self.provider

    def supports(self, target: Any) -> bool:
        from qlat.theories.schwinger_qubit import SchwingerModel

        return isinstance(target, SchwingerModel)

    def observables(self, target: Any) -> list[str]:
        """The observables with a qubit realization on ``target``."""
        from qlat.theories.schwinger_observables import qubit_observable_names

        return qubit_observable_names(target)

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, Estimate]:
        """``{key: Estimate}`` of ``observables`` on ``target`` (options of :func:`run_on_device`, plus ``device=``)."""
        if not self.supports(target):
            raise ParameterError("target", f"backend '{self.name}' estimates SchwingerModel targets",
                                 type(target).__name__)
        opts = {**self.defaults, **options}
        device = opts.pop("device", None) or self.device
        if not device:
            raise ParameterError("device", f"backend '{self.name}' needs device=<name>, e.g. ibm_torino", device)
        if opts.get("dry_run"):
            raise ParameterError("dry_run", "use run_on_device(..., dry_run=True) for a report without Estimates")
        run = run_on_device(target, backend=f"{self.provider}:{device}", observables=observables, **opts)
        if run.estimates is None:
            raise QlatError(f"job {run.ref} on {run.backend} is {run.status}; collect it later with "
                            f"qlat jobs fetch {(run.ref or '')[:12]}")
        return dict(run.estimates)


def _example_options(workdir: Any) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.quantum.ibm.store import JobStore

    root = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="qlat-ibm-example-"))
    return {"device": "fake_manila", "schedule": AdiabaticSchedule(total_time=0.75, dt=0.75, initial_mass=1.0),
            "shots": 200, "seed": 1, "store": JobStore(root / "jobs.sqlite")}


@BACKENDS.register("fake")
class FakeDeviceBackend(_DeviceBackend):
    """A fake IBM device (the runtime's local testing mode: its noise model simulated by Aer, no network)."""

    provider = "fake"
    name = "fake"
    description = "IBM fake device in local testing mode (device noise model, no network); device=fake_manila …"
    default_device = DEFAULT_FAKE_DEVICE

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        """N = 4, one Trotter step on ``fake_manila``, 200 shots, the job store in ``workdir``."""
        from qlat.theories.schwinger_qubit import SchwingerModel

        return SchwingerModel(4, 1.0, 0.5), _example_options(workdir)


@BACKENDS.register("ibm")
class IBMDeviceBackend(_DeviceBackend):
    """An IBM Quantum device through qiskit-ibm-runtime (needs an account; jobs kept in the job store)."""

    provider = "ibm"
    name = "ibm"
    description = "IBM Quantum hardware via qiskit-ibm-runtime (account needed); device=ibm_torino …"
    default_device = None

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        """The ``ibm:`` path offline: the service is a :class:`~qlat.quantum.ibm.loopback.LoopbackService`
        (fake devices, results filed in ``workdir``), so jobs are submitted, stored and fetched by id."""
        from qlat.quantum.ibm.loopback import LoopbackService
        from qlat.theories.schwinger_qubit import SchwingerModel

        options = _example_options(workdir)
        options["service"] = LoopbackService(options["store"].path.parent / "loopback-service")
        return SchwingerModel(4, 1.0, 0.5), options

r"""One call from a Schwinger model to Estimates of its adiabatically prepared vacuum.

:func:`run_adiabatic` prepares the vacuum of :class:`~qlat.theories.schwinger_qubit.SchwingerModel` by
the Trotterized adiabatic evolution of Chakraborty et al. (arXiv:2001.00485): start in the bare
vacuum (ground state at w = 0), ramp w(t) = w·t/T, m(t) = (1 − t/T)m₀ + (t/T)m, θ(t) = θ·t/T
with symmetric Trotter steps of size dt, and measure the requested observables

.. math::
    \langle O\rangle = \langle\psi(T)|O|\psi(T)\rangle,
    \qquad |\psi(T)\rangle = \prod_{k} U_k\,|\text{bare vacuum}\rangle,

on one of the registered adiabatic simulators (:mod:`qlat.quantum.simulators`:
``"statevector"``, ``"aer"``, ``"mps"``; found by name in :data:`qlat.core.registry.BACKENDS`).  Every number comes back as an :class:`~qlat.core.Estimate` carrying the backend, the
shot count and the provenance (model, schedule, Trotter order, layout, seed, qlat version).

Shot-based errors.  On ``"aer"`` (and ``"mps"`` with shots) each observable O = c₀ + Σ_t c_t P_t
is estimated from bit strings measured in its qubit-wise commuting bases
(:mod:`qlat.quantum.measurement`); the error is the shot-noise standard error
σ² = Σ_bases Var(per-shot sum)/shots.  Observables share the shots of a common basis (energy
and condensate both use the Z…Z shots), so their errors are correlated.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate
from qlat.core.provenance import make_rng, provenance
from qlat.exact.diagonalization import ED_ROUTINE_MAX_QUBITS
from qlat.quantum.aer import sample_bases, union_bases
from qlat.quantum.simulation import SimulationRequest, check_request
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:  # pragma: no cover
    from qiskit import QuantumCircuit

    from qlat.theories.schwinger_observables import QubitObservable

#: Largest chain for which the statevector backend reports the fidelity with the exact
#: ground state (exact diagonalization in the zero-charge sector, done in seconds).
FIDELITY_MAX_SITES = ED_ROUTINE_MAX_QUBITS

@dataclass(frozen=True)
class AdiabaticResult:
    """Result of :func:`run_adiabatic`.

    estimates: observable key → :class:`Estimate`; the key is the observable name for a scalar
        observable and ``"name[i]"`` per component otherwise (``"electric_field[3]"``, :func:`qlat.core.backend.component_key`).
    fidelity: |⟨E₀|ψ(T)⟩|² with the exact ground state (statevector backend, N ≤ 20), else None.
    circuit: gate counts, depth, number of Trotter steps and qubits of the adiabatic circuit.
    backend: the backend name.
    params: the full run description (model, schedule, order, layout, shots, seed, noise,
        wall time).
    """

    estimates: dict[str, Estimate]
    fidelity: Estimate | None
    circuit: dict
    backend: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``json.dumps`` works on it directly)."""
        return {
            "backend": self.backend,
            "estimates": {k: e.to_dict() for k, e in self.estimates.items()},
            "fidelity": None if self.fidelity is None else self.fidelity.to_dict(),
            "circuit": _jsonable(self.circuit),
            "params": _jsonable(self.params),
        }

    def __str__(self) -> str:
        lines = [f"adiabatic vacuum on backend '{self.backend}'"]
        for key, est in self.estimates.items():
            lines.append(f"  {key:<24s} {est}  [{est.unit}]")
        if self.fidelity is not None:
            lines.append(f"  {'fidelity':<24s} {self.fidelity}")
        return "\n".join(lines)


def _jsonable(obj: Any) -> Any:
    from qlat.core.jsonio import jsonable

    return jsonable(obj)


def schedule_description(schedule: Any) -> dict[str, Any]:
    """A JSON-ready description of an adiabatic schedule (its dataclass fields + step count)."""
    if hasattr(schedule, "to_dict"):
        out = dict(schedule.to_dict())
    elif dataclasses.is_dataclass(schedule) and not isinstance(schedule, type):
        out = dataclasses.asdict(schedule)
    else:
        out = {"repr": repr(schedule)}
    if "n_steps" not in out and hasattr(schedule, "n_steps"):
        out["n_steps"] = int(schedule.n_steps)
    return _jsonable(out)


def circuit_summary(circuit: "QuantumCircuit", n_steps: int) -> dict[str, Any]:
    """Gate counts, depth, two-qubit gate count, steps and qubits of an adiabatic circuit."""
    from qlat.quantum.trotter import gate_counts

    counts = gate_counts(circuit)
    return {
        "n_qubits": int(circuit.num_qubits),
        "n_steps": int(n_steps),
        "depth": int(counts["depth"]),
        "two_qubit_cnot_cost": int(counts["two_qubit"]),
        "gate_counts": _jsonable(counts),
    }


#: Above this many steps the statevector backend does not build the full circuit just to count
#: its gates: :func:`circuit_summary_extrapolated` is exact for the counts (see there).
SUMMARY_BUILD_MAX_STEPS = 64


def circuit_summary_extrapolated(model: SchwingerModel, schedule: Any, *, order: int, layout: str) -> dict[str, Any]:
    """The :func:`circuit_summary` of the full adiabatic circuit without building it.

    Every Trotter step emits the same gates (which gates appear depends only on which Pauli
    coefficients are structurally non-zero, not on their values), and the line layout alternates
    the qubit order, so each count is A + B·n within a parity class of the step number n.  Two
    circuits of n₀ and n₀ + 2 steps (n₀ = 2 or 3, same parity as n) fix A and B; the depths are
    extrapolated the same way (the step pattern repeats, so the depth grows by the same amount
    per two steps once the first step is laid down).  ``tests/quantum/test_run.py`` checks the
    result against the full circuit.
    """
    from qlat.quantum.trotter import adiabatic_circuit

    n = int(schedule.n_steps)
    n0 = 2 if n % 2 == 0 else 3
    small = []
    for k in (n0, n0 + 2):
        sched_k = dataclasses.replace(schedule, total_time=k * schedule.dt)
        small.append(circuit_summary(adiabatic_circuit(model, sched_k, order=order, layout=layout), k))
    a, b = small

    def extrapolate(x: int, y: int) -> int:
        return int(x + (y - x) * (n - n0) // 2)

    counts_a, counts_b = a["gate_counts"], b["gate_counts"]
    gate: dict[str, Any] = {key: extrapolate(counts_a[key], counts_b[key])
            for key in ("two_qubit", "two_qubit_gates", "depth", "two_qubit_depth")}
    ops = {name: extrapolate(counts_a["ops"].get(name, 0), counts_b["ops"].get(name, 0))
           for name in sorted(set(counts_a["ops"]) | set(counts_b["ops"]))}
    gate.update(ops=ops, n_qubits=counts_a["n_qubits"])
    return {
        "n_qubits": a["n_qubits"],
        "n_steps": n,
        "depth": gate["depth"],
        "two_qubit_cnot_cost": gate["two_qubit"],
        "gate_counts": gate,
        "extrapolated_from_steps": [n0, n0 + 2],
    }


def _observable_list(observables: Sequence[str] | str, model: SchwingerModel) -> list["QubitObservable"]:
    from qlat.theories.schwinger_observables import qubit_observable

    if isinstance(observables, str):
        observables = (observables,)
    names = list(observables)
    require(len(names) >= 1 and all(isinstance(n, str) for n in names), "observables",
            "must be a non-empty sequence of observable names", observables)
    require(len(set(names)) == len(names), "observables", "must not repeat a name", names)
    return [qubit_observable(name, model) for name in names]


def simulator_seed(seed: int | None) -> int | None:
    """An independent 31-bit simulator seed from the user seed (None: fresh entropy)."""
    if seed is None:
        return None
    return int(make_rng(seed).integers(0, 2**31 - 1))


@dataclass(frozen=True)
class _PreparedRun:
    """A checked adiabatic run before it is simulated: the simulator, the request it is handed, the run
    description (:attr:`AdiabaticResult.params`), the provenance every Estimate shares, and the circuit summary."""

    impl: Any
    request: SimulationRequest
    params: dict[str, Any]
    provenance: dict[str, Any]
    circuit: dict[str, Any]
    systematics: str


@dataclass(frozen=True)
class _Systematics:
    """The systematic sources per observable key, how they were found (already in the provenance) and the
    leaked weight of the final state (for the warnings), from :func:`_estimate_systematics`."""

    sources: dict[str, dict[str, float]] = field(default_factory=dict)
    leaked_weight: float | None = None


def _check_run_options(model: SchwingerModel, *, backend: str, shots: int | None, seed: int | None, noise: Any,
                       max_bond_dimension: int | None, systematics: str) -> tuple[Any, int | None]:
    """The simulator registered as ``backend`` and the shot count it runs with, once every option is checked."""
    require(isinstance(model, SchwingerModel), "model", "must be a SchwingerModel", type(model).__name__)
    impl, shots = check_request(backend, model.n_qubits, shots=shots, noise=noise)
    if seed is not None:
        make_rng(seed)  # validates: integer >= 0
    if max_bond_dimension is not None and not impl.bond_dimension:
        from qlat.quantum.simulation import adiabatic_simulators

        mps_like = [n for n, b in adiabatic_simulators().items() if b.bond_dimension]
        raise ParameterError("max_bond_dimension", f"applies to the MPS backends ({', '.join(mps_like)}) only",
                             max_bond_dimension)
    require(systematics in ("estimate", "none"), "systematics", "must be 'estimate' or 'none'", systematics)
    return impl, shots


def _run_description(model: SchwingerModel, schedule: Any, qobs: Sequence["QubitObservable"], *, backend: str,
                     shots: int | None, seed: int | None, noise_desc: Any, order: int, layout: str,
                     max_bond_dimension: int | None) -> dict[str, Any]:
    """:attr:`AdiabaticResult.params` before the run (the wall time and the systematics are added after it)."""
    params: dict[str, Any] = {
        "model": model.params(),
        "schedule": schedule_description(schedule),
        "order": order,
        "layout": layout,
        "backend": backend,
        "shots": shots,
        "seed": seed,
        "noise": noise_desc,
        "observables": [o.name for o in qobs],
    }
    if max_bond_dimension is not None:
        params["max_bond_dimension"] = int(max_bond_dimension)
    return params


def _run_provenance(params: dict[str, Any], impl: Any, max_bond_dimension: int | None) -> dict[str, Any]:
    """The provenance every Estimate of the run shares; a bond-dimension cap whose truncation error the
    simulator does not estimate is a warning."""
    prov = provenance(**{k: params[k] for k in ("model", "schedule", "order", "layout", "backend", "seed",
                                                  "shots", "noise")})
    if max_bond_dimension is not None and not hasattr(impl, "systematics"):
        prov["warning"] = (f"MPS bond dimension capped at {int(max_bond_dimension)}: the truncation error "
                           "is not included in the reported error")
    return prov


def _circuit_with_summary(model: SchwingerModel, schedule: Any, impl: Any, *, order: int,
                          layout: str) -> tuple["QuantumCircuit | None", dict[str, Any]]:
    """The adiabatic circuit (None when the simulator does not need it and it is long: its counts are then
    :func:`circuit_summary_extrapolated`) and its :func:`circuit_summary`."""
    from qlat.quantum.trotter import adiabatic_circuit

    n_steps = int(schedule.n_steps)
    if not impl.needs_circuit and n_steps > SUMMARY_BUILD_MAX_STEPS:
        return None, circuit_summary_extrapolated(model, schedule, order=order, layout=layout)
    circuit = adiabatic_circuit(model, schedule, order=order, layout=layout)
    return circuit, circuit_summary(circuit, n_steps)


def _check_noise_survival(noise_desc: Any, summary: dict[str, Any], prov: dict[str, Any]) -> None:
    r"""Record the probability that no depolarizing error happens in the whole circuit,
    (1 − p₁)^{n₁}(1 − p₂)^{n₂}, and warn below 0.1: a noisy estimate with a tiny value here is mostly noise
    (it drifts towards the maximally mixed Tr H / 2^N)."""
    if not (isinstance(noise_desc, dict) and "p1" in noise_desc and "p2" in noise_desc):
        return
    ops_count = summary["gate_counts"].get("ops", {})
    n2 = int(summary["two_qubit_cnot_cost"])
    n1 = sum(int(v) for k, v in ops_count.items() if k in ("sx", "x"))
    survival = (1.0 - float(noise_desc["p1"])) ** n1 * (1.0 - float(noise_desc["p2"])) ** n2
    prov["expected_noise_free_fraction"] = survival
    if survival < 0.1:
        from qlat.core.errors import warn

        prov["warning_noise"] = (f"expected error-free fraction of the circuit (1-p1)^{n1}(1-p2)^{n2} = "
                                 f"{survival:.2g}: the noisy estimate is dominated by noise")
        warn(prov["warning_noise"])


def _prepare_run(model: SchwingerModel, schedule: Any, *, observables: Sequence[str] | str, backend: str,
                 shots: int | None, seed: int | None, noise: Any, order: int, layout: str, progress: bool,
                 max_bond_dimension: int | None, systematics: str) -> _PreparedRun:
    """Check the options, take the backend's default schedule when none is given, resolve the observables and
    the noise, describe the run, build (or extrapolate) the circuit and hand it all to a :class:`_PreparedRun`."""
    impl, shots = _check_run_options(model, backend=backend, shots=shots, seed=seed, noise=noise,
                                     max_bond_dimension=max_bond_dimension, systematics=systematics)
    from qlat.quantum.adiabatic import backend_default_schedule
    from qlat.quantum.noise import resolve_noise

    if schedule is None:
        schedule = backend_default_schedule(model, backend)
    qobs = _observable_list(observables, model)
    noise_model, noise_desc = resolve_noise(noise)
    params = _run_description(model, schedule, qobs, backend=backend, shots=shots, seed=seed, noise_desc=noise_desc,
                              order=order, layout=layout, max_bond_dimension=max_bond_dimension)
    prov = _run_provenance(params, impl, max_bond_dimension)
    circuit, summary = _circuit_with_summary(model, schedule, impl, order=order, layout=layout)
    _check_noise_survival(noise_desc, summary, prov)
    request = SimulationRequest(
        model=model, schedule=schedule, observables=qobs, shots=shots, seed=seed, noise_model=noise_model,
        order=order, layout=layout, progress=progress, max_bond_dimension=max_bond_dimension, circuit=circuit,
    )
    return _PreparedRun(impl=impl, request=request, params=params, provenance=prov, circuit=summary,
                        systematics=systematics)


def _estimate_systematics(run: _PreparedRun, values: dict[str, tuple[float, float]]) -> _Systematics:
    """The Trotter/adiabatic (and truncation) systematics of the run, with the method in the provenance.

    A simulator that estimates its own errors (tdvp: time step, truncation, adiabatic) does so; otherwise
    statevector reruns of the schedule (:func:`qlat.quantum.systematics.adiabatic_systematics`, N <= 22)
    give them; beyond that, or with ``systematics="none"``, the provenance warns that the error is
    statistical only.
    """
    prov, request = run.provenance, run.request
    if run.systematics != "estimate":
        prov["warning_systematic"] = "systematic errors not estimated (systematics='none')"
        return _Systematics()
    if hasattr(run.impl, "systematics"):
        sources, how = run.impl.systematics(request, {k: v for k, (v, _) in values.items()})
        prov["systematic_method"] = how
        return _Systematics(sources, how.get("state_model", {}).get("leaked_weight"))
    from qlat.quantum.systematics import adiabatic_systematics, can_estimate

    model = request.model
    if not can_estimate(model):
        prov["warning_systematic"] = (f"Trotter and adiabatic errors not estimated at N = {model.n_sites} "
                                      "(statevector reruns stop at N = 22): the error is statistical only")
        from qlat.core.errors import warn

        warn(prov["warning_systematic"])
        return _Systematics()
    ops = {key: op for o in request.observables for key, op in zip(o.keys, o.operators)}
    sources, how = adiabatic_systematics(model, request.schedule, ops, order=request.order,
                                         state=request.artifacts.get("state"))
    prov["systematic_method"] = how
    return _Systematics(sources, how["state_model"]["leaked_weight"])


def _adiabaticity_warnings(run: _PreparedRun, *, leaked_weight: float | None,
                           fidelity: float | None) -> list[str]:
    """The reasons the run's error bars cannot be trusted (:func:`qlat.quantum.systematics.warning_messages`:
    leaked weight, the Landau-Zener check of the path, the fidelity), each emitted once; the path check is
    recorded in the provenance."""
    from qlat.quantum.systematics import path_check, warning_messages

    crossing = path_check(run.request.model, run.request.schedule) if run.systematics == "estimate" else None
    if crossing is not None:
        run.provenance["landau_zener"] = crossing
    messages = warning_messages(leaked_weight=leaked_weight, landau_zener=crossing, fidelity=fidelity)
    if messages:
        from qlat.core.errors import warn

        for message in messages:
            warn(message)
    return messages


def _result_estimates(run: _PreparedRun, values: dict[str, tuple[float, float]], sources: dict[str, Any],
                      messages: Sequence[str]) -> dict[str, Estimate]:
    """One Estimate per observable key: value, error (shot noise or 0), the systematic with its sources and
    every warning.  ``n_samples`` is the shot count per measurement basis; the provenance names the bases
    (the energy needs Z…Z, X…X and Y…Y, i.e. 3 × shots in total)."""
    shots, prov = run.request.shots, run.provenance
    if shots is not None:
        from qlat.quantum.measurement import observable_bases
    estimates: dict[str, Estimate] = {}
    for o in run.request.observables:
        obs_prov = prov if shots is None else {**prov, "shots_per_basis": shots, "bases": observable_bases(o)}
        for key in o.keys:
            value, error = values[key]
            est = Estimate(
                value=value, error=error, name=key, unit=o.unit, n_samples=shots,
                backend=run.impl.label, provenance=obs_prov,
            )
            est = est.with_systematic(sources[key]) if key in sources else est
            for message in messages:
                est = est.with_warning(message, emit=False)
            estimates[key] = est
    return estimates


def _fidelity_estimate(run: _PreparedRun, fidelity: float | None, messages: Sequence[str]) -> Estimate | None:
    """|⟨E₀|ψ(T)⟩|² as an Estimate with the run's warnings (None when the simulator does not know it)."""
    if fidelity is None:
        return None
    est = Estimate(value=fidelity, error=0.0, name="fidelity", unit="1", backend=run.impl.label,
                   provenance=run.provenance)
    for message in messages:
        est = est.with_warning(message, emit=False)
    return est


def run_adiabatic(
    model: SchwingerModel,
    schedule: Any = None,
    *,
    observables: Sequence[str] | str = ("energy", "condensate"),
    backend: str = "statevector",
    shots: int | None = None,
    seed: int | None = None,
    noise: Any = None,
    order: int = 2,
    layout: str = "all-to-all",
    progress: bool = False,
    max_bond_dimension: int | None = None,
    systematics: str = "estimate",
) -> AdiabaticResult:
    """Prepare the vacuum of ``model`` adiabatically and estimate ``observables`` on ``backend``.

    Parameters
    ----------
    model: the Schwinger model (its parameters are the end point of the ramp).
    schedule: an :class:`~qlat.quantum.adiabatic.AdiabaticSchedule` (total time T, step dt,
        initial mass m₀); ``None`` takes :func:`~qlat.quantum.adiabatic.default_schedule` at the
        backend's ``default_dt`` (tdvp: 0.5; the others 0.05).
    observables: names of observables with a qubit realization (``qlat.core.OBSERVABLES``).
    backend: ``"statevector"`` (exact, N ≤ 26), ``"aer"`` (sampled, N ≤ 26) or ``"mps"``.
    shots: shots per measurement basis; required by sampling (``"aer"`` defaults to
        :data:`~qlat.quantum.aer.DEFAULT_SHOTS`), optional for ``"mps"`` (``None``: exact
        MPS expectation values), not allowed for ``"statevector"``.
    seed: integer ≥ 0 fixing the shot sampling (and noise trajectories).
    noise: ``None``, a spec ``"depolarizing:P1,P2"``, a :class:`~qlat.quantum.noise.NoiseSpec` or
        an Aer ``NoiseModel``; backend ``"aer"`` only.
    order: Trotter order (1 or 2, arXiv:2001.00485 uses the symmetric second order).
    layout: ``"all-to-all"`` or ``"line"`` (swap network) for the circuit; the ``"mps"`` backend
        simulates the (identical-state) all-to-all circuit whatever the layout.
    progress: show a progress bar (statevector and tdvp backends).
    systematics: ``"estimate"`` (default): every Estimate gets a systematic error with its sources,
        Trotter (dt vs 2dt) and adiabatic (T vs T/2), from statevector reruns of the schedule
        (:mod:`qlat.quantum.systematics`; N ≤ 22); ``"none"``: no estimate, and the provenance says
        so.  The exact-on-request alternative is :mod:`qlat.analysis.adiabatic_limits`.
    max_bond_dimension: cap on the MPS bond dimension (``"mps"`` and ``"tdvp"`` only).  ``"mps"``:
        ``None`` is no cap (exact up to Aer's 1e-16 truncation threshold); with a cap the values
        carry a truncation error that the reported error (0, or shot noise) does not include.
        ``"tdvp"``: ``None`` means 32, and the truncation error (χ vs χ/2) is in the systematic.

    Raises
    ------
    ParameterError: naming ``backend``, ``n_sites``, ``shots``, ``noise``, ``seed``,
        ``observables`` ... for bad input.
    """
    run = _prepare_run(model, schedule, observables=observables, backend=backend, shots=shots, seed=seed,
                       noise=noise, order=order, layout=layout, progress=progress,
                       max_bond_dimension=max_bond_dimension, systematics=systematics)
    start = time.perf_counter()
    values, fidelity = run.impl.simulate(run.request)
    run.params["wall_time_s"] = time.perf_counter() - start
    found = _estimate_systematics(run, values)
    run.params["systematics"] = systematics
    messages = _adiabaticity_warnings(run, leaked_weight=found.leaked_weight, fidelity=fidelity)
    fidelity_estimate = _fidelity_estimate(run, fidelity, messages)
    return AdiabaticResult(estimates=_result_estimates(run, values, found.sources, messages),
                           fidelity=fidelity_estimate, circuit=run.circuit, backend=backend, params=run.params)


def sampled_values(
    circuit: "QuantumCircuit",
    qobs: Sequence["QubitObservable"],
    *,
    shots: int,
    seed: int | None,
    method: str,
    noise_model: Any,
    max_bond_dimension: int | None,
) -> dict[str, tuple[float, float]]:
    """Sample every needed basis once and estimate each component with its shot-noise error."""
    from qlat.quantum.measurement import basis_rotation, estimate_from_samples, observable_bases

    bases = union_bases([observable_bases(o) for o in qobs])
    rotations = {b: basis_rotation(b) for b in bases}
    samples = sample_bases(
        circuit, rotations, shots=shots, seed=seed, method=method, noise_model=noise_model,
        max_bond_dimension=max_bond_dimension,
    )
    out: dict[str, tuple[float, float]] = {}
    for o in qobs:
        for key, op in zip(o.keys, o.operators):
            mean, err = estimate_from_samples(op, samples)
            out[key] = (float(mean), float(err))
    return out


def ground_state_fidelity(model: SchwingerModel, state: np.ndarray) -> float:
    r"""F = |⟨E₀|ψ⟩|² with the exact ground state of ``model`` in the zero-charge sector.

    The adiabatic evolution starts in the zero-charge sector and H conserves the charge, so the
    overlap is taken on the sector basis (:func:`qlat.exact.diagonalization.diagonalize_sector`).
    """
    from qlat.exact.diagonalization import diagonalize_sector

    psi = np.asarray(state).reshape(-1)
    require(psi.size == 2**model.n_qubits, "state", f"must have length 2^{model.n_qubits}", psi.size)
    spectrum = diagonalize_sector(model, k=1, sector="physical")
    overlap = np.vdot(spectrum.vectors[:, 0], psi[spectrum.basis])
    return float(min(1.0, abs(overlap) ** 2))

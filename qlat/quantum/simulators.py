"""The adiabatic simulator backends ``statevector``, ``aer`` and ``mps`` (one :class:`Backend` each).

Each is registered in :data:`qlat.core.registry.BACKENDS` and answers the common call
``estimate(model, observables, **options)`` by running :func:`qlat.quantum.adiabatic_run.run_adiabatic`
on itself; :meth:`AdiabaticSimulator.simulate` is the backend-specific part — from a prepared
:class:`SimulationRequest` to ``{key: (value, error)}`` and, where the backend has the state, the
ground-state fidelity.

- ``statevector`` (N ≤ 26): qlat's fast path (:func:`qlat.quantum.statevector.evolve_statevector`),
  exact expectation values; the fidelity with the exact ground state up to N = 20.
- ``aer`` (N ≤ 26): the exported circuit on Qiskit Aer, sampled with ``SamplerV2`` once per
  measurement basis (shot noise; optional noise model, :mod:`qlat.quantum.noise`).
- ``mps``: Aer's matrix-product-state simulator, exact MPS expectation values or sampling.
- ``tdvp`` (:mod:`qlat.quantum.tdvp`): TeNPy two-site TDVP on an MPS, no Trotter circuit.

A new simulator is one subclass here (or in its own module) with ``@BACKENDS.register``.
:class:`SimulationRequest` and the registry look-up (:func:`adiabatic_simulators`) live in
:mod:`qlat.quantum.simulation`, below the runner, so that the runner never imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qlat.core.registry import BACKENDS
from qlat.quantum.simulation import SimulationRequest, adiabatic_simulators
from qlat.quantum.statevector import MAX_QUBITS as STATEVECTOR_MAX_QUBITS
from qlat.theories.schwinger_qubit import SchwingerModel

if TYPE_CHECKING:  # pragma: no cover
    from qlat.core.estimate import Estimate

__all__ = ["AdiabaticSimulator", "AerShotsSimulator", "MPSSimulator", "SimulationRequest", "StatevectorSimulator",
           "adiabatic_simulators", "check_simulation", "require_simulator_memory"]

class AdiabaticSimulator:
    """Base of the simulators: capabilities as class attributes, :meth:`simulate` per backend.

    Attributes
    ----------
    name, label, description: registry name, the Estimates' ``backend`` label, one line of help.
    max_qubits: largest chain accepted (``None``: no fixed limit).
    shots: ``"never"`` (exact only), ``"required"`` (sampling only) or ``"optional"``.
    noise: whether a noise model can be attached.
    needs_circuit: whether :meth:`simulate` needs the built circuit (the statevector does not).
    bond_dimension: whether the state is an MPS whose bond dimension can be capped
        (``max_bond_dimension``).
    default_bond_dimension: the cap when none is given (``None``: no cap).
    default_dt: time step of the default schedule on this simulator (``None``: that of
        :func:`~qlat.quantum.adiabatic.default_schedule`, set by the Trotter error).
    """

    name = ""
    label = ""
    description = ""
    max_qubits: int | None = None
    shots = "never"
    noise = False
    needs_circuit = True
    bond_dimension = False
    default_bond_dimension: int | None = None
    default_dt: float | None = None
    accepts: tuple[str, ...] = ("SchwingerModel",)

    def supports(self, target: Any) -> bool:
        return isinstance(target, SchwingerModel)

    def observables(self, target: Any) -> list[str]:
        from qlat.theories.schwinger_observables import qubit_observable_names

        return qubit_observable_names(target)

    def estimate(self, target: Any, observables: Sequence[str], **options: Any) -> dict[str, "Estimate"]:
        """``run_adiabatic(target, observables=observables, backend=self.name, **options).estimates``."""
        from qlat.quantum.adiabatic_run import run_adiabatic

        return dict(run_adiabatic(target, observables=observables, backend=self.name, **options).estimates)

    def simulate(self, request: SimulationRequest) -> tuple[dict[str, tuple[float, float]], float | None]:
        """``({key: (value, error)}, fidelity or None)`` of the adiabatically prepared state."""
        raise NotImplementedError  # every registered subclass implements it

    def example(self, workdir: Any = None) -> tuple[Any, dict[str, Any]]:
        """N = 4 with a 4-step schedule (seconds on every simulator)."""
        from qlat.quantum.adiabatic import AdiabaticSchedule

        options: dict[str, Any] = {"schedule": AdiabaticSchedule(total_time=2.0, dt=0.5, ramp="sin2")}
        if self.shots != "never":
            options.update(shots=200, seed=1)
        return SchwingerModel(4, 0.5, 0.2, theta=0.3), options

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _keyed_operators(request: SimulationRequest) -> dict[str, Any]:
    return {key: op for o in request.observables for key, op in zip(o.keys, o.operators)}


@BACKENDS.register("statevector")
class StatevectorSimulator(AdiabaticSimulator):
    """qlat's charge-sector statevector evolution; exact expectation values."""

    name = "statevector"
    label = "statevector"
    description = "qlat's fast statevector evolution; exact expectation values"
    max_qubits = STATEVECTOR_MAX_QUBITS
    shots = "never"
    needs_circuit = False

    def simulate(self, request: SimulationRequest) -> tuple[dict[str, tuple[float, float]], float | None]:
        from qlat.quantum.adiabatic_run import FIDELITY_MAX_SITES, ground_state_fidelity
        from qlat.quantum.statevector import evolve_statevector, expectation_values

        state = evolve_statevector(request.model, request.schedule, order=request.order, progress=request.progress)
        request.artifacts["state"] = state
        ops = _keyed_operators(request)
        exact = expectation_values(state, ops)
        values = {key: (float(exact[key]), 0.0) for key in ops}
        fidelity = ground_state_fidelity(request.model, state) if request.model.n_sites <= FIDELITY_MAX_SITES else None
        return values, fidelity


@BACKENDS.register("aer")
class AerShotsSimulator(AdiabaticSimulator):
    """The exported circuit on Qiskit Aer, sampled per measurement basis."""

    name = "aer"
    label = "aer-shots"
    description = "Qiskit Aer, sampled with SamplerV2 per measurement basis (shot noise, optional noise model)"
    max_qubits = STATEVECTOR_MAX_QUBITS
    shots = "required"
    noise = True

    def simulate(self, request: SimulationRequest) -> tuple[dict[str, tuple[float, float]], float | None]:
        from qlat.quantum.adiabatic_run import sampled_values, simulator_seed
        from qlat.quantum.aer import aer_method

        assert request.circuit is not None and request.shots is not None
        method = aer_method(self.name, request.model.n_qubits, noisy=request.noise_model is not None)
        return sampled_values(
            request.circuit, request.observables, shots=request.shots, seed=simulator_seed(request.seed),
            method=method, noise_model=request.noise_model, max_bond_dimension=request.max_bond_dimension,
        ), None


@BACKENDS.register("mps")
class MPSSimulator(AdiabaticSimulator):
    """Aer's matrix-product-state simulator (the all-to-all circuit whatever the layout)."""

    name = "mps"
    label = "aer-mps"
    description = "Qiskit Aer matrix-product-state simulator; exact expectation values or sampling"
    max_qubits = None
    shots = "optional"
    bond_dimension = True

    def simulate(self, request: SimulationRequest) -> tuple[dict[str, tuple[float, float]], float | None]:
        from qlat.quantum.adiabatic_run import sampled_values, simulator_seed
        from qlat.quantum.aer import mps_expectations
        from qlat.quantum.trotter import adiabatic_circuit

        # A swap network interleaves the chain mid-layer, which an MPS cannot hold compactly: the
        # MPS always runs the all-to-all circuit (the same state).
        circuit = request.circuit
        if circuit is None or request.layout != "all-to-all":
            circuit = adiabatic_circuit(request.model, request.schedule, order=request.order, layout="all-to-all")
        if request.shots is None:
            ops = _keyed_operators(request)
            exact = mps_expectations(circuit, ops, max_bond_dimension=request.max_bond_dimension)
            return {key: (exact[key], 0.0) for key in ops}, None
        return sampled_values(
            circuit, request.observables, shots=request.shots, seed=simulator_seed(request.seed),
            method="matrix_product_state", noise_model=None, max_bond_dimension=request.max_bond_dimension,
        ), None


def require_simulator_memory(backend: str, n_sites: int, *, bond_dim: int | None = None,
                             sites_parameter: str = "n_sites", bond_parameter: str = "bond_dim") -> None:
    """Refuse a chain the MPS simulators cannot hold (:func:`qlat.exact.schwinger_mpo.require_chain_memory`):
    the MPS at ``bond_dim`` or the simulator's ``default_bond_dimension`` (complex), plus the Pauli operators
    when it runs circuits (mps).  The statevector backends have their own qubit limits (``max_qubits``)."""
    spec = adiabatic_simulators()[backend]
    if not spec.bond_dimension:
        return
    if bond_dim is None:
        bond_dim = getattr(spec, "default_bond_dimension", None)
    from qlat.exact.schwinger_mpo import require_chain_memory

    require_chain_memory(n_sites, bond_dim=bond_dim, itemsize=16, pauli=spec.needs_circuit,
                         what=f"the {backend} simulation", sites_parameter=sites_parameter,
                         bond_parameter=bond_parameter)


def check_simulation(backend: str, *, total_time: float | None = None, dt: float | None = None,
                     initial_mass: float | None = None, shots: int | None = None, seed: int | None = None,
                     noise: str | None = None, bond_dim: int | None = None,
                     names: Mapping[str, str] | None = None) -> None:
    """Check an adiabatic simulation's options against the simulator's declared capabilities, before any work.

    ``backend`` must be a registered simulator; T, dt > 0 with dt <= T dividing T in at most
    :data:`qlat.quantum.adiabatic.MAX_STEPS` steps; m₀ >= 0; shots > 0 only for a sampling simulator,
    ``noise`` only for one with a noise model, ``bond_dim`` in [4, 4096] only for an MPS simulator.
    A failure is one :class:`~qlat.core.errors.ParameterError` naming the parameter as ``names`` shows it
    (e.g. the command-line flags; default: the parameter names).
    """
    import math

    from qlat.core.errors import ParameterError, require
    from qlat.quantum.adiabatic import MAX_STEPS

    def name(key: str) -> str:
        return (names or {}).get(key, key)

    simulators = adiabatic_simulators()
    require(backend in simulators, name("backend"), f"must be one of {', '.join(simulators)}", backend)
    if total_time is not None:
        require(math.isfinite(total_time) and total_time > 0, name("total_time"), "must be > 0", total_time)
    if dt is not None:
        require(math.isfinite(dt) and dt > 0, name("dt"), "must be > 0", dt)
        if total_time is not None:
            require(dt <= total_time, name("dt"), f"must be <= {name('total_time')} ({total_time})", dt)
            steps = total_time / dt
            require(steps <= MAX_STEPS, name("dt"), f"gives {steps:.3g} Trotter steps; at most {MAX_STEPS:,} allowed",
                    dt)
            require(abs(steps - round(steps)) <= 1e-9 * steps, name("dt"), f"must divide {name('total_time')} "
                    f"({total_time})", dt)
    if initial_mass is not None:
        require(math.isfinite(initial_mass) and initial_mass >= 0, name("initial_mass"), "must be >= 0",
                initial_mass)
    if shots is not None:
        require(shots > 0, name("shots"), "must be > 0", shots)
    if seed is not None:
        require(seed >= 0, name("seed"), "must be >= 0", seed)
    spec = simulators[backend]
    if spec.shots == "never" and shots is not None:
        samplers = [n for n, b in simulators.items() if b.shots != "never"]
        raise ParameterError(name("shots"), f"backend {backend} is exact and takes no shots; sampling backends: "
                             f"{', '.join(samplers)}", shots)
    if not spec.noise and noise is not None:
        noisy = [n for n, b in simulators.items() if b.noise]
        raise ParameterError(name("noise"), f"backend {backend} takes no noise model; backends with noise: "
                             f"{', '.join(noisy)}", noise)
    if bond_dim is not None:
        mps_like = [n for n, b in simulators.items() if b.bond_dimension]
        require(spec.bond_dimension, name("bond_dim"), f"applies to the MPS backends ({', '.join(mps_like)})",
                bond_dim)
        require(4 <= bond_dim <= 4096, name("bond_dim"), "must be an integer in [4, 4096]", bond_dim)


def samples_shots(backend: str, shots: int | None) -> bool:
    """Whether a run of the registered simulator ``backend`` draws shots (then its seed must be drawn,
    if none was given, and recorded)."""
    from qlat.quantum.simulation import adiabatic_simulators

    policy = adiabatic_simulators()[backend].shots
    return policy == "required" or (policy == "optional" and shots is not None)

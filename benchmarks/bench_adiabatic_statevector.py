"""Adiabatic vacuum preparation: qlat's fast statevector path vs its numpy predecessor and Qiskit.

For each N (default 12, 16, 20) at a = 0.5, m = 0.1, θ = 0 (rotated formulation), schedule
T = 20, dt = 0.1 (200 second-order Trotter steps, m₀ = 1, sin² ramp), the script times, in the
same process:

1. **fast**: :func:`qlat.quantum.statevector.evolve_statevector` (zero-charge sector, compiled
   in-place pair-update kernels of :mod:`qlat.quantum.sector_trotter_layers`) plus the energy by
   :func:`expectation_values` (on the sector);
1b. **numpy baseline**: the path it replaced (:class:`NumpySectorEvolver` below: numpy
   gathers/scatters with pair-index arrays, energy from ``SparsePauliOp.to_matrix`` over 2^N),
   timed interleaved with (1), best of 3 each; its state must equal the fast one to 1e-12;
2. **qiskit**: the straightforward Qiskit route — one ``PauliEvolutionGate`` of H(t_k) per step
   with ``SuzukiTrotter(order=2)`` synthesis, ``transpile`` for ``AerSimulator``, energy from
   Aer's ``EstimatorV2``.  (Its product formula orders the Pauli terms differently, so its
   energy differs from the fast path by a Trotter error; the difference is reported.)
3. **check**: qlat's own circuit (:func:`qlat.quantum.trotter.adiabatic_circuit`, the one
   exported to OpenQASM) on Aer's statevector method; the fast path must reproduce its energy
   to 1e-8 and its state to |⟨a|b⟩| = 1 − 1e-10 (this also times Aer on the optimized circuit).

It reports the speed-up ratios (``speedup_vs_numpy_baseline`` is goal 1 of issue 12) and a
memory-bandwidth figure: the fast path must at least read
and write the sector state once per layer, so ``layers × 2 × 16 B × dim`` bytes over its wall
time is an effective bandwidth (a lower bound on its traffic), compared with ``numpy.copyto`` of
an array of the same size on the same machine (read + write).

Usage::

    .venv/bin/python benchmarks/bench_adiabatic_statevector.py [--sites 12 16 20] [--quick]
        [--skip-qiskit-above N] [--out benchmarks/results/adiabatic_statevector.json]

``--quick``: T = 2 (20 steps), sites 8 10 12 unless given — a smoke run in seconds.

``--slow-steps K --slow-steps-from N0``: for N ≥ N0 the two Aer paths run only the first K
steps (a schedule T' = K·dt with the same dt) and their wall time is extrapolated linearly to
the full step count (the cost per step does not depend on the coefficients); the 1e-8 check is
then done on that K-step schedule (the fast path is re-run on it).  Rows say
``"slow_paths_extrapolated_from_steps": K``.  At N = 20 the full Aer runs take tens of minutes
on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine, write_results

from qlat.quantum.adiabatic import AdiabaticSchedule
from qlat.theories.schwinger_qubit import SchwingerModel, bare_vacuum_bits

RESULTS = Path(__file__).resolve().parent / "results" / "adiabatic_statevector.json"


class NumpySectorEvolver:
    """The numpy fast path qlat had before the compiled kernels (the baseline of issue 12).

    Same layers as :func:`qlat.quantum.trotter.trotter_plan` on the sorted zero-charge sector:
    diagonal layers as a static phase vector times phase tables gathered by index, hopping
    layers as ``np.take`` gathers of precomputed pair indices, complex arithmetic on buffers,
    and scatters back.
    """

    def __init__(self, plan, basis: np.ndarray) -> None:
        comps = plan.basis.components
        self.plan, self.basis = plan, basis
        diags = [c.diagonal(basis) for c in comps]
        self.static_diag = sum((d for d, s in zip(diags, plan.basis.static) if s), np.zeros(basis.size))
        self.static_weight = [k for k, s in enumerate(plan.basis.static) if s]
        self.static_phase: dict[float, np.ndarray] = {}
        self.dynamic = []
        for k, (d, s) in enumerate(zip(diags, plan.basis.static)):
            if s or not np.any(d != 0.0):
                continue
            values, inverse = np.unique(np.round(d, 12), return_inverse=True)
            exact = np.zeros(values.size)
            exact[inverse] = d
            self.dynamic.append((k, exact, inverse.astype(np.intp)))
        self.hop_arrays = [c.hopping for c in comps]
        self.pairs = []
        for bond in range(plan.n_qubits - 1):
            bits = (basis >> bond) & 3
            ia = np.flatnonzero(bits == 1)
            self.pairs.append((ia, np.searchsorted(basis, basis[ia] ^ (np.int64(3) << bond))))
        size = max(p[0].size for p in self.pairs)
        self.buf = [np.empty(size, dtype=np.complex128) for _ in range(4)]
        self.phase = np.empty(basis.size, dtype=np.complex128)

    def run(self, psi: np.ndarray) -> np.ndarray:
        for layer in self.plan.layers:
            w = layer.weights(self.plan.basis)
            if layer.kind == "diag":
                tau = float(w[self.static_weight[0]])
                if tau not in self.static_phase:
                    self.static_phase[tau] = np.exp(-1j * tau * self.static_diag)
                psi *= self.static_phase[tau]
                for k, values, inverse in self.dynamic:
                    np.take(np.exp(-1j * float(w[k]) * values), inverse, out=self.phase)
                    psi *= self.phase
                continue
            angles = sum(float(g) * h for g, h in zip(w, self.hop_arrays))
            a, b, t, u = self.buf
            for bond in range(0 if layer.kind == "hop_even" else 1, self.plan.n_qubits - 1, 2):
                ia, ib = self.pairs[bond]
                phi = 2.0 * float(angles[bond])
                m = ia.size
                av, bv, tv, uv = a[:m], b[:m], t[:m], u[:m]
                c, s = math.cos(phi), -1j * math.sin(phi)
                np.take(psi, ia, out=av)
                np.take(psi, ib, out=bv)
                np.multiply(av, c, out=tv)
                np.multiply(bv, s, out=uv)
                tv += uv
                np.multiply(bv, c, out=bv)
                np.multiply(av, s, out=av)
                bv += av
                psi[ia] = tv
                psi[ib] = bv
        return psi


def numpy_baseline(model: SchwingerModel, schedule: AdiabaticSchedule) -> tuple[np.ndarray, float]:
    """Final full state and energy by the numpy baseline (energy via ``to_matrix`` over 2^N)."""
    from qlat.exact.diagonalization import physical_sector_indices
    from qlat.quantum.trotter import trotter_plan
    from qlat.theories.schwinger_qubit import bare_vacuum_index

    n = model.n_sites
    basis = physical_sector_indices(n)
    psi = np.zeros(basis.size, dtype=np.complex128)
    psi[np.searchsorted(basis, bare_vacuum_index(n))] = 1.0
    NumpySectorEvolver(trotter_plan(model, schedule, order=2), basis).run(psi)
    state = np.zeros(1 << n, dtype=np.complex128)
    state[basis] = psi
    energy = float(np.real(np.vdot(state, model.hamiltonian().to_matrix(sparse=True) @ state)))
    return state, energy


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _timed_cpu(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds of the whole process: all threads, e.g. Qiskit's)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start, time.process_time() - cpu


def copy_bandwidth(n_elements: int, *, repeats: int = 5) -> float:
    """Bytes per second of ``np.copyto`` on complex128 arrays of ``n_elements`` (read + write)."""
    src = np.ones(n_elements, dtype=np.complex128)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # warm up (page faults)
    best = math.inf
    inner = max(1, int(2e8 // (16 * n_elements)))  # ~200 MB per timing
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            np.copyto(dst, src)
        best = min(best, (time.perf_counter() - start) / inner)
    return 2 * 16 * n_elements / best


def fast_path(model: SchwingerModel, schedule: AdiabaticSchedule, *, repeats: int = 3,
              baseline: bool = True) -> dict:
    """Best of ``repeats`` of the fast path, interleaved with the numpy baseline when asked."""
    from qlat.exact.diagonalization import physical_sector_indices
    from qlat.quantum.statevector import evolve_statevector, expectation_values
    from qlat.quantum.trotter import trotter_plan

    t_evolve = t_energy = t_base = cpu_fast = cpu_base = math.inf
    base_state = None
    base_energy = math.nan
    for _ in range(repeats):  # best of a few, interleaved: the machine is shared
        state, t, c1 = _timed_cpu(evolve_statevector, model, schedule, order=2)
        t_evolve = min(t_evolve, t)
        energy, t, c2 = _timed_cpu(expectation_values, state, {"H": model.hamiltonian()})
        t_energy = min(t_energy, t)
        cpu_fast = min(cpu_fast, c1 + c2)
        if baseline:
            (base_state, base_energy), t, c = _timed_cpu(numpy_baseline, model, schedule)
            t_base = min(t_base, t)
            cpu_base = min(cpu_base, c)
    n_layers = len(trotter_plan(model, schedule, order=2).layers)
    dim = int(physical_sector_indices(model.n_sites).size)
    moved = n_layers * 2 * 16 * dim
    out = {
        "state": state,
        "energy": energy["H"],
        "time_evolve_s": t_evolve,
        "time_energy_s": t_energy,
        "time_total_s": t_evolve + t_energy,
        "cpu_time_total_s": cpu_fast,
        "repeats_best_of": repeats,
        "n_layers": n_layers,
        "sector_dim": dim,
        "state_bytes": 16 * dim,
        "bytes_moved_lower_bound": moved,
        "effective_bandwidth_GBps": moved / t_evolve / 1e9,
    }
    if baseline:
        out["numpy_baseline"] = {
            "time_total_s": t_base,
            "cpu_time_total_s": cpu_base,
            "energy": base_energy,
            "max_abs_state_diff": float(np.max(np.abs(base_state - state))),
            "energy_diff": abs(base_energy - energy["H"]),
        }
        out["speedup_vs_numpy_baseline"] = t_base / (t_evolve + t_energy)
        out["speedup_vs_numpy_baseline_cpu_time"] = cpu_base / cpu_fast
    return out


def qiskit_path(model: SchwingerModel, schedule: AdiabaticSchedule) -> dict:
    """PauliEvolutionGate per step + SuzukiTrotter(2) + transpile + Aer EstimatorV2."""
    from qiskit import QuantumCircuit, transpile
    from qiskit.circuit.library import PauliEvolutionGate
    from qiskit.synthesis import SuzukiTrotter
    from qiskit_aer import AerSimulator
    from qiskit_aer.primitives import EstimatorV2

    def build() -> QuantumCircuit:
        n = model.n_sites
        qc = QuantumCircuit(n)
        for q, bit in enumerate(bare_vacuum_bits(n)):
            if bit:
                qc.x(q)
        synthesis = SuzukiTrotter(order=2, reps=1)
        for k in range(schedule.n_steps):
            t_mid = (k + 0.5) * schedule.dt
            ham = schedule.terms_at(model, t_mid).to_sparse_pauli_op()
            qc.append(PauliEvolutionGate(ham, time=schedule.dt, synthesis=synthesis), range(n))
        return qc

    qc, t_build = _timed(build)
    isa, t_transpile = _timed(transpile, qc, AerSimulator(method="statevector"), optimization_level=1,
                              seed_transpiler=0)
    estimator = EstimatorV2(options={"backend_options": {"method": "statevector"}})
    result, t_run = _timed(lambda: estimator.run([(isa, model.hamiltonian())]).result())
    return {
        "energy": float(result[0].data.evs),
        "time_build_s": t_build,
        "time_transpile_s": t_transpile,
        "time_run_s": t_run,
        "time_total_s": t_build + t_transpile + t_run,
        "transpiled_ops": {str(k): int(v) for k, v in isa.count_ops().items()},
    }


def exported_circuit_check(model: SchwingerModel, schedule: AdiabaticSchedule, fast_state: np.ndarray) -> dict:
    from qlat.quantum.aer import aer_statevector
    from qlat.quantum.statevector import expectation_values
    from qlat.quantum.trotter import adiabatic_circuit

    circuit, t_build = _timed(adiabatic_circuit, model, schedule, order=2)
    state, t_run = _timed(aer_statevector, circuit)
    energy = expectation_values(state, {"H": model.hamiltonian()})["H"]
    return {
        "energy": energy,
        "overlap_abs": float(abs(np.vdot(fast_state, state))),
        "time_build_s": t_build,
        "time_aer_s": t_run,
        "time_total_s": t_build + t_run,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=None)
    parser.add_argument("--quick", action="store_true", help="T = 2 (20 steps), small N: a smoke run")
    parser.add_argument("--skip-qiskit-above", type=int, default=None,
                        help="skip the slow Qiskit path for N above this")
    parser.add_argument("--slow-steps", type=int, default=None,
                        help="time the Aer paths on this many steps and extrapolate (for N >= --slow-steps-from)")
    parser.add_argument("--slow-steps-from", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sites = args.sites or ([8, 10, 12] if args.quick else [12, 16, 20])
    total_time = 2.0 if args.quick else 20.0
    schedule = AdiabaticSchedule(total_time, 0.1, initial_mass=1.0, ramp="sin2")

    machine = describe_machine()
    # warm-up: imports, Aer start-up, first transpile (not part of any timing below)
    warm = SchwingerModel(4, 0.5, 0.1)
    warm_schedule = AdiabaticSchedule(0.2, 0.1)
    exported_circuit_check(warm, warm_schedule, fast_path(warm, warm_schedule)["state"])  # also compiles
    qiskit_path(warm, warm_schedule)
    rows = []
    for n in sites:
        model = SchwingerModel(n, 0.5, 0.1, theta=0.0)
        fast = fast_path(model, schedule)
        scale = 1.0
        short = schedule
        if args.slow_steps is not None and n >= args.slow_steps_from and args.slow_steps < schedule.n_steps:
            short = AdiabaticSchedule(args.slow_steps * schedule.dt, schedule.dt,
                                      initial_mass=schedule.initial_mass, ramp=schedule.ramp)
            scale = schedule.n_steps / short.n_steps
        reference = fast if short is schedule else fast_path(model, short, repeats=1, baseline=False)
        check = exported_circuit_check(model, short, reference["state"])
        row = {
            "n_sites": n,
            "fast": {k: v for k, v in fast.items() if k != "state"},
            "speedup_vs_numpy_baseline": fast["speedup_vs_numpy_baseline"],
            "speedup_vs_numpy_baseline_cpu_time": fast["speedup_vs_numpy_baseline_cpu_time"],
            "fast_equals_numpy_baseline": bool(fast["numpy_baseline"]["max_abs_state_diff"] < 1e-12),
            "exported_circuit_on_aer": check,
            "slow_paths_extrapolated_from_steps": None if short is schedule else short.n_steps,
            "energy_diff_fast_vs_exported": abs(reference["energy"] - check["energy"]),
            "reproduces_exported_circuit": bool(abs(reference["energy"] - check["energy"]) < 1e-8
                                                and abs(check["overlap_abs"] - 1.0) < 1e-10),
            "copy_bandwidth_GBps": copy_bandwidth(fast["sector_dim"]) / 1e9,
        }
        row["bandwidth_fraction_of_copy"] = fast["effective_bandwidth_GBps"] / row["copy_bandwidth_GBps"]
        check["time_total_full_schedule_s"] = check["time_total_s"] * scale
        row["speedup_vs_exported_circuit_on_aer"] = check["time_total_full_schedule_s"] / fast["time_total_s"]
        if args.skip_qiskit_above is None or n <= args.skip_qiskit_above:
            slow = qiskit_path(model, short)
            slow["time_total_full_schedule_s"] = slow["time_total_s"] * scale
            row["qiskit"] = slow
            row["speedup_vs_qiskit"] = slow["time_total_full_schedule_s"] / fast["time_total_s"]
            row["energy_diff_fast_vs_qiskit_trotter"] = abs(reference["energy"] - slow["energy"])
        rows.append(row)
        line = (f"N={n:2d}  fast {fast['time_total_s']:8.3f} s  numpy baseline "
                f"{fast['numpy_baseline']['time_total_s']:7.3f} s (x{fast['speedup_vs_numpy_baseline']:.1f}, "
                f"CPU x{fast['speedup_vs_numpy_baseline_cpu_time']:.1f}, "
                f"|dpsi|={fast['numpy_baseline']['max_abs_state_diff']:.0e})  "
                f"qlat circuit on Aer {check['time_total_full_schedule_s']:8.2f} s "
                f"(x{row['speedup_vs_exported_circuit_on_aer']:.1f}, dE={row['energy_diff_fast_vs_exported']:.1e})")
        if "qiskit" in row:
            line += (f"  Qiskit PauliEvolution path {row['qiskit']['time_total_full_schedule_s']:8.2f} s "
                     f"(x{row['speedup_vs_qiskit']:.1f}, Trotter dE={row['energy_diff_fast_vs_qiskit_trotter']:.1e})")
        line += (f"  bandwidth {fast['effective_bandwidth_GBps']:.2f} GB/s = "
                 f"{100 * row['bandwidth_fraction_of_copy']:.0f}% of numpy copy")
        if scale != 1.0:
            line += f"  [Aer times extrapolated from {short.n_steps} steps]"
        print(line, flush=True)

    out = {
        "benchmark": "adiabatic_statevector",
        "description": "qlat fast statevector path vs Qiskit PauliEvolutionGate+SuzukiTrotter(2)+Aer EstimatorV2; "
                       "rotated Schwinger model a=0.5, m=0.1, theta=0.",
        "command": "benchmarks/bench_adiabatic_statevector.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "schedule": {"total_time": schedule.total_time, "dt": schedule.dt, "n_steps": schedule.n_steps,
                     "initial_mass": schedule.initial_mass, "ramp": schedule.ramp, "order": 2},
        "bandwidth_model": "bytes_moved_lower_bound = layers * 2 (read+write) * 16 B * sector_dim; "
                           "copy bandwidth = 2 * 16 B * sector_dim / time of np.copyto",
        "machine": machine,
        "load_average_end": list(os.getloadavg()),
        "results": rows,
    }
    write_results(args.out, out)
    return 0 if all(r["reproduces_exported_circuit"] and r["fast_equals_numpy_baseline"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

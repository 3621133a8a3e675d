r"""Profiles behind the unmet speed goals of issue 12: where the remaining time goes.

One section per goal, each with its numbers and a one-line ``bound`` derived from them:

- **goal1_statevector** (N = 16, 20): the real compiled hopping kernel
  (:func:`qlat.quantum.sector_trotter_layers.apply_hop_layer`) timed for one Trotter pass of each parity,
  for the fused diagonal phase alone, for each bond alone and for each of the kernel's three
  code paths alone (single pairs from short runs < 8, contiguous runs inside a block, block-pair
  runs of the high bonds), by running the kernel on a copy of the sector layout whose tables keep
  only those entries.  Bytes: a bond rotates ``n_pairs`` pairs, touching 2·n_pairs amplitudes of
  16 B (re + im), read and written; the one-read-and-write-per-pass limit is 2·16 B·dim at the
  ``np.copyto`` bandwidth measured (CPU time) on a state of the same size.  Also the time per pass inside
  :func:`evolve_statevector` (600 hopping passes, 200 fused diagonals at T = 20, dt = 0.1).
- **goal2_ed** (N = 20, one BLAS thread): build / eigsh / observables of what ``qlat schwinger
  exact`` runs; inside eigsh, the number of matvecs (a counting ``LinearOperator`` in the same
  ARPACK call: same v0, tol, ncv), the time of as many bare CSR matvecs, hence ARPACK's own work
  (Lanczos basis orthogonalization, implicit restarts, reverse-communication overhead), and the
  cProfile of the call.
- **goal3_phi4_hmc** (L = 16, 32, 16 chains, τ = 0.5, 10 leapfrog steps): one
  :meth:`qlat.samplers.hmc.HMC.trajectory` against its parts timed alone on the same arrays —
  the two ``torch.rand`` draws, Box–Muller, the compiled integrator ``_phi4_step``, the whole
  :func:`fused_hmc_step` — and the cProfile of many trajectories; the reference
  (benchmarks/reference_hmc_numba.py) per trajectory.

All timings are CPU time of this (single) thread (``time.thread_time``), best of ``repeats``
batches, with the wall time beside them; the machine is shared, so the CPU time is the fair number.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        nice -n 10 .venv/bin/python benchmarks/profile_bounds.py [--goals 1 2 3] [--quick]

Writes ``benchmarks/results/speed_profiles.json`` (machine, command, load average).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import math
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

RESULTS = HERE / "results" / "speed_profiles.json"


def measure(fn: Callable[[], Any], *, min_cpu: float = 0.05, repeats: int = 5) -> dict[str, float]:
    """Best-of-``repeats`` per-call CPU (thread) and wall seconds of ``fn()``, batches of ≥ ``min_cpu`` s."""
    fn()  # warm up (compilation, caches)
    start = time.thread_time()
    fn()
    once = max(time.thread_time() - start, 1e-7)
    inner = max(1, int(min_cpu / once))
    best_cpu = best_wall = math.inf
    for _ in range(repeats):
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(inner):
            fn()
        best_cpu = min(best_cpu, (time.thread_time() - cpu) / inner)
        best_wall = min(best_wall, (time.perf_counter() - wall) / inner)
    return {"cpu_s": best_cpu, "wall_s": best_wall, "calls_per_batch": inner}


def top_functions(profile: cProfile.Profile, n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` functions with the largest own time (tottime) in a cProfile run."""
    stats = pstats.Stats(profile, stream=io.StringIO())
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:n]  # type: ignore[attr-defined]
    out = []
    for (file, line, name), (_cc, ncalls, tottime, cumtime, _callers) in rows:
        where = name if file == "~" else f"{Path(file).name}:{line}({name})"
        out.append({"function": where, "calls": ncalls, "tottime_s": tottime, "cumtime_s": cumtime,
                    "fraction_of_total": tottime / total if total else None})
    return out


# ----------------------------------------------------------------------------- goal 1
def _subset_layout(layout: Any, *, bonds: set[int] | None = None, paths: set[str] | None = None) -> Any:
    """A copy of a SectorLayout whose pair tables keep only ``bonds`` and code ``paths``.

    Paths: ``"pairs"`` (single pairs of the short runs), ``"runs"`` (long runs inside a block),
    ``"high"`` (block pairs of the high bonds).  The CSR pointers are recomputed.
    """
    paths = {"pairs", "runs", "high"} if paths is None else paths

    def keep(bond_array: np.ndarray, path: str) -> np.ndarray:
        if path not in paths:
            return np.zeros(bond_array.size, dtype=bool)
        return np.ones(bond_array.size, dtype=bool) if bonds is None else np.isin(bond_array, list(bonds))

    fields: dict[str, np.ndarray] = {}
    for prefix, path, arrays in (("pair", "pairs", ("a", "b", "bond")), ("low", "runs", ("a", "b", "len", "bond")),
                                 ("high", "high", ("a", "b", "bond"))):
        mask = keep(getattr(layout, f"{prefix}_bond"), path)
        cum = np.r_[0, np.cumsum(mask)].astype(np.int64)
        fields[f"{prefix}_ptr"] = cum[getattr(layout, f"{prefix}_ptr")]
        for a in arrays:
            fields[f"{prefix}_{a}"] = np.ascontiguousarray(getattr(layout, f"{prefix}_{a}")[mask])
    return dataclasses.replace(layout, **fields)


def _pairs_per_bond(layout: Any, n_qubits: int) -> dict[int, dict[str, int]]:
    """Pairs of each bond of the layout's parity, by code path, and its run lengths."""
    blocks_per_j = np.bincount(layout.block_j, minlength=layout.block_len_j.size)
    out: dict[int, dict[str, int]] = {}
    for bond in range(layout.parity, n_qubits - 1, 2):
        row = {"single_pairs": 0, "long_runs": 0, "long_run_pairs": 0, "high_block_pairs": 0, "high_pairs": 0}
        for j in range(layout.block_len_j.size):
            sl = slice(layout.pair_ptr[j], layout.pair_ptr[j + 1])
            row["single_pairs"] += int(np.sum(layout.pair_bond[sl] == bond)) * int(blocks_per_j[j])
            sl = slice(layout.low_ptr[j], layout.low_ptr[j + 1])
            sel = layout.low_bond[sl] == bond
            row["long_runs"] += int(sel.sum()) * int(blocks_per_j[j])
            row["long_run_pairs"] += int(layout.low_len[sl][sel].sum()) * int(blocks_per_j[j])
        for q in range(layout.class_len.size):
            sl = slice(layout.high_ptr[q], layout.high_ptr[q + 1])
            k = int(np.sum(layout.high_bond[sl] == bond))
            row["high_block_pairs"] += k
            row["high_pairs"] += k * int(layout.class_len[q])
        row["n_pairs"] = row["single_pairs"] + row["long_run_pairs"] + row["high_pairs"]
        row["path"] = ("high" if row["high_pairs"] else
                       "pairs" if not row["long_run_pairs"] else "runs" if not row["single_pairs"] else "pairs+runs")
        out[bond] = row
    return out


def profile_statevector(n: int, *, repeats: int) -> dict[str, Any]:
    from bench_adiabatic_statevector import copy_bandwidth

    from qlat.quantum import sector_trotter_layers as sk
    from qlat.quantum.adiabatic import AdiabaticSchedule
    from qlat.quantum.statevector import _SectorEvolver, evolve_statevector
    from qlat.quantum.trotter import trotter_plan
    from qlat.theories.schwinger_qubit import SchwingerModel

    model = SchwingerModel(n, 0.5, 0.1, theta=0.0)
    schedule = AdiabaticSchedule(20.0, 0.1, initial_mass=1.0, ramp="sin2")
    plan = trotter_plan(model, schedule, order=2)
    evolver = _SectorEvolver(plan, n // 2)
    dim = evolver.basis.size
    rng = np.random.default_rng(1)
    psi = rng.standard_normal(dim) + 1j * rng.standard_normal(dim)
    psi /= np.linalg.norm(psi)
    re, im = np.ascontiguousarray(psi.real), np.ascontiguousarray(psi.imag)
    # the weights of the first diagonal and hopping layers of the real plan
    diag_layer = next(layer for layer in plan.layers if layer.kind == "diag")
    hop_layer = next(layer for layer in plan.layers if layer.kind == "hop_even")
    g = evolver._layer_weights(diag_layer, plan.basis)[evolver.active]
    table = np.exp(-1j * (g @ evolver.values))
    angles = evolver._layer_weights(hop_layer, plan.basis) @ evolver.hop_arrays
    phase = (table, evolver.cls)
    # the limit in the same clock as the kernel timings: CPU time of np.copyto on a state-sized array
    src = np.ones(dim, dtype=np.complex128)
    dst = np.empty_like(src)
    copy_bw = max(2 * 16 * dim / measure(lambda: np.copyto(dst, src), repeats=15)["cpu_s"] for _ in range(3))
    copy_bw_wall = copy_bandwidth(dim)  # the benchmark's own (wall-clock) figure, for comparison
    limit_s = 2 * 16 * dim / copy_bw  # one read + one write of the state

    def timed(layout: Any, with_phase: bool = False) -> dict[str, float]:
        return measure(lambda: sk.apply_hop_layer(re, im, layout, angles, phase=phase if with_phase else None),
                       repeats=repeats)

    passes: dict[str, Any] = {}
    for parity, name in ((0, "even"), (1, "odd")):
        layout = evolver.layouts[parity]
        full = timed(layout)
        fused = timed(layout, with_phase=True)
        empty_layout = _subset_layout(layout, paths=set())
        empty = timed(empty_layout)["cpu_s"]  # the kernel's loops over classes and blocks, no rotation
        phase_only = timed(empty_layout, with_phase=True)
        # net times: minus the empty kernel, so the parts add up to the pass
        per_path = {p: timed(_subset_layout(layout, paths={p}))["cpu_s"] - empty for p in ("pairs", "runs", "high")}
        counts = _pairs_per_bond(layout, n)
        bonds = []
        for bond, row in counts.items():
            t = timed(_subset_layout(layout, bonds={bond}))
            net = t["cpu_s"] - empty
            bytes_touched = 2 * row["n_pairs"] * 16 * 2
            bonds.append({"bond": bond, **row, "cpu_s": net, "wall_s": t["wall_s"],
                          "ns_per_pair": 1e9 * net / row["n_pairs"],
                          "bytes_touched": bytes_touched,
                          "touched_GBps": bytes_touched / net / 1e9,
                          "fraction_of_pass_sum": None})
        bond_sum = sum(b["cpu_s"] for b in bonds)
        for b in bonds:
            b["fraction_of_pass_sum"] = b["cpu_s"] / (bond_sum + empty)
        path_pairs = {"pairs": sum(r["single_pairs"] for r in counts.values()),
                      "runs": sum(r["long_run_pairs"] for r in counts.values()),
                      "high": sum(r["high_pairs"] for r in counts.values())}
        passes[name] = {
            "low_bits": layout.low_bits,
            "pass_cpu_s": full["cpu_s"], "pass_wall_s": full["wall_s"],
            "pass_with_fused_phase_cpu_s": fused["cpu_s"],
            "empty_kernel_cpu_s": empty,
            "phase_only_cpu_s": phase_only["cpu_s"] - empty,
            "fraction_of_one_read_write_limit": limit_s / full["cpu_s"],
            "sum_of_bonds_alone_net_cpu_s": bond_sum,
            "sum_of_paths_net_plus_empty_cpu_s": sum(per_path.values()) + empty,
            "pairs_rotated": sum(path_pairs.values()),
            "ns_per_pair_whole_pass": 1e9 * full["cpu_s"] / sum(path_pairs.values()),
            "paths": {p: {"pairs": path_pairs[p], "cpu_s": per_path[p],
                          "ns_per_pair": 1e9 * per_path[p] / path_pairs[p] if path_pairs[p] else None,
                          "fraction_of_pass": per_path[p] / full["cpu_s"]} for p in per_path},
            "bonds": bonds,
        }
    diag_alone = measure(lambda: sk.apply_diagonal(re, im, table, evolver.cls), repeats=repeats)
    # the whole evolution, for the time per pass inside the real program
    best_cpu = best_wall = math.inf
    for _ in range(2):
        cpu, wall = time.thread_time(), time.perf_counter()
        evolve_statevector(model, schedule, order=2)
        best_cpu, best_wall = min(best_cpu, time.thread_time() - cpu), min(best_wall, time.perf_counter() - wall)
    cpu = time.thread_time()
    _SectorEvolver(trotter_plan(model, schedule, order=2), n // 2)  # sector layouts already cached
    setup_cpu = time.thread_time() - cpu
    n_even = sum(layer.kind == "hop_even" for layer in plan.layers)
    n_odd = sum(layer.kind == "hop_odd" for layer in plan.layers)
    n_diag = sum(layer.kind == "diag" for layer in plan.layers)
    predicted = (n_even * passes["even"]["pass_cpu_s"] + n_odd * passes["odd"]["pass_cpu_s"]
                 + n_diag * (passes["even"]["pass_with_fused_phase_cpu_s"] - passes["even"]["pass_cpu_s"]))
    return {
        "n_sites": n, "sector_dim": int(dim), "state_bytes": 16 * int(dim),
        "copy_bandwidth_GBps": copy_bw / 1e9,
        "copy_bandwidth_model": "2 * 16 B * dim / CPU time of np.copyto (best of 3 x 15 batches)",
        "copy_bandwidth_wall_bench_GBps": copy_bw_wall / 1e9,
        "one_read_write_limit_per_pass_s": limit_s,
        "passes": passes,
        "diagonal_alone_cpu_s": diag_alone["cpu_s"],
        "evolve": {"layers": len(plan.layers), "hop_even": n_even, "hop_odd": n_odd, "diag": n_diag,
                   "cpu_s": best_cpu, "wall_s": best_wall,
                   "predicted_from_passes_cpu_s": predicted,
                   "setup_cpu_s (plan + diagonals + classes, layouts cached)": setup_cpu,
                   "cpu_per_hopping_pass_s": best_cpu / (n_even + n_odd),
                   "bench_bandwidth_fraction_cpu": (len(plan.layers) * 2 * 16 * dim / best_cpu) / copy_bw},
    }


def goal1(sites: list[int], repeats: int) -> dict[str, Any]:
    rows = [profile_statevector(n, repeats=repeats) for n in sites]
    big = rows[-1]
    lines = []
    for name, p in big["passes"].items():
        worst = sorted(p["bonds"], key=lambda b: -b["fraction_of_pass_sum"])[:3]
        lines.append(f"{name} pass {1e3 * p['pass_cpu_s']:.2f} ms = "
                     f"{100 * p['fraction_of_one_read_write_limit']:.0f}% of the read+write limit; paths "
                     + ", ".join(f"{k} {100 * v['fraction_of_pass']:.0f}% ({v['ns_per_pair'] or 0:.2f} ns/pair)"
                                 for k, v in p["paths"].items())
                     + "; slowest bonds " + ", ".join(f"{b['bond']} ({b['path']}, {b['ns_per_pair']:.2f} ns/pair, "
                                                     f"{100 * b['fraction_of_pass_sum']:.0f}%)" for b in worst))
    even, odd = big["passes"]["even"], big["passes"]["odd"]
    both = (even, odd)
    t_pass = sum(p["pass_cpu_s"] for p in both)
    pairs_share = sum(p["paths"]["pairs"]["cpu_s"] for p in both) / t_pass
    empty_share = sum(p["empty_kernel_cpu_s"] for p in both) / t_pass
    pair_ns = 1e9 * sum(p["paths"]["pairs"]["cpu_s"] for p in both) / sum(p["paths"]["pairs"]["pairs"] for p in both)
    run_pairs = sum(p["paths"][k]["pairs"] for p in both for k in ("runs", "high"))
    run_ns = 1e9 * sum(p["paths"][k]["cpu_s"] for p in both for k in ("runs", "high")) / run_pairs
    rotated = sum(p["pairs_rotated"] for p in both) / 2
    need_ns = 1e9 * big["one_read_write_limit_per_pass_s"] / 0.3 / rotated
    fraction = 2 * big["one_read_write_limit_per_pass_s"] / t_pass
    return {
        "command_section": "--goals 1",
        "claimed_bound": "short pair runs of the lowest bonds (lengths 1, 2, 4 ... in the sorted sector basis)",
        "results": rows,
        "summary": lines,
        "required_ns_per_pair_for_30_percent": need_ns,
        "bound": (f"N={big['n_sites']}: a hopping pass rotates {rotated:.0f} pairs (each amplitude "
                  f"{2 * rotated / big['sector_dim']:.1f} times) at {1e9 * t_pass / 2 / rotated:.2f} ns/pair = "
                  f"{100 * fraction:.0f}% of the one-read+write limit; 30% needs {need_ns:.2f} ns/pair. The single-pair "
                  f"path (runs < 8 of the low bonds) takes {100 * pairs_share:.0f}% of the pass at {pair_ns:.2f} ns/pair, "
                  f"the contiguous runs (long low runs and high block pairs) {run_ns:.2f} ns/pair, the kernel's empty "
                  f"block loops {100 * empty_share:.0f}% — "
                  + ("the claimed bound is confirmed: the short runs dominate" if pairs_share > 0.5 else
                     "the claimed bound is only part of it: the short runs take less than half")
                  + (f"; and even with every pair at the contiguous rate a pass would reach only "
                     f"{100 * need_ns * 0.3 / run_ns:.0f}%: rotating each amplitude once per bond of the parity "
                     f"(~N/4 times a pass) bounds it, so 30% needs several bonds applied per visit of a block "
                     f"(fused bonds) as well as longer runs." if run_ns > need_ns else
                     "; contiguous rotation alone would meet 30%.")),
    }


# ----------------------------------------------------------------------------- goal 2
def goal2(n: int, repeats: int) -> dict[str, Any]:
    import scipy.sparse.linalg
    from threadpoolctl import threadpool_info

    from qlat.exact import diagonalization as ed
    from qlat.quantum.exact_backend import DEFAULT_OBSERVABLES, exact_estimates
    from qlat.quantum.observables import qubit_observable
    from qlat.theories.schwinger_qubit import SchwingerModel

    model = SchwingerModel(n, 0.5, 0.1, theta=0.3)
    terms = model.terms()
    exact_estimates(SchwingerModel(8, 0.5, 0.1))  # import / compile everything first

    def best_of(fn: Callable[[], Any], k: int) -> tuple[Any, float, float]:
        out, cpu_best, wall_best = None, math.inf, math.inf
        for _ in range(k):
            cpu, wall = time.thread_time(), time.perf_counter()
            out = fn()
            cpu_best, wall_best = min(cpu_best, time.thread_time() - cpu), min(wall_best, time.perf_counter() - wall)
        return out, cpu_best, wall_best

    _, t_total_cpu, t_total_wall = best_of(lambda: exact_estimates(model), 1)
    (matrix, basis), t_build_cpu, t_build_wall = best_of(lambda: ed.sparse_hamiltonian(terms), repeats)
    (values, vectors), t_eig_cpu, t_eig_wall = best_of(lambda: ed.lowest_eigenpairs(matrix, 2), repeats)
    spectrum = ed.SectorSpectrum(energies=values, vectors=vectors, basis=basis, sector="physical", n_qubits=n)
    ops = {}
    for name in DEFAULT_OBSERVABLES:
        if name != "gap":
            obs = qubit_observable(name, model)
            ops.update(dict(zip(obs.keys, obs.terms)))
    _, t_obs_cpu, t_obs_wall = best_of(lambda: ed.sector_expectations(spectrum, ops), repeats)

    dim = matrix.shape[0]
    ncv = min(dim - 1, max(2 * 2 + 2, ed.LANCZOS_VECTORS))
    v0 = np.random.default_rng(12345).standard_normal(dim)
    counter = {"n": 0, "cpu": 0.0}

    def matvec(x: np.ndarray) -> np.ndarray:
        start = time.thread_time()
        y = matrix @ x
        counter["cpu"] += time.thread_time() - start
        counter["n"] += 1
        return y

    op = scipy.sparse.linalg.LinearOperator((dim, dim), matvec=matvec, dtype=np.float64)
    with ed._one_blas_thread():
        blas_threads = [p.get("num_threads") for p in threadpool_info() if p.get("user_api") == "blas"]
        cpu, wall = time.thread_time(), time.perf_counter()
        values_op, _ = scipy.sparse.linalg.eigsh(op, k=2, which="SA", v0=v0, tol=1e-12, ncv=ncv)
        t_op_cpu, t_op_wall = time.thread_time() - cpu, time.perf_counter() - wall
    n_matvec = counter["n"]
    counter.update(n=0, cpu=0.0)
    with ed._one_blas_thread():  # what a direct scipy user calls: eigsh defaults (ncv = 20, tol = 0)
        cpu = time.thread_time()
        values_default, _ = scipy.sparse.linalg.eigsh(op, k=2, which="SA", v0=v0)
        t_default_cpu = time.thread_time() - cpu
    default = {"n_matvec": counter["n"], "cpu_s": t_default_cpu, "matvec_cpu_s": counter["cpu"],
               "arpack_own_cpu_s": t_default_cpu - counter["cpu"],
               "same_eigenvalues": bool(np.allclose(np.sort(values_default), values, rtol=0, atol=1e-10))}
    x = np.random.default_rng(0).standard_normal(dim)
    bare = measure(lambda: matrix @ x, repeats=repeats)
    t_matvec_total = bare["cpu_s"] * n_matvec
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    ed.lowest_eigenpairs(matrix, 2)
    profile.disable()
    nnz = int(matrix.nnz)
    matvec_bytes = nnz * (8 + 4) + (dim + 1) * 4 + 2 * dim * 8
    arpack_cpu = t_eig_cpu - t_matvec_total
    rest = t_total_cpu - (t_build_cpu + t_eig_cpu + t_obs_cpu)
    bound = (f"N={n}: eigsh is {100 * t_eig_cpu / t_total_cpu:.0f}% of exact_estimates "
             f"({t_eig_cpu:.2f} of {t_total_cpu:.2f} s CPU; build {t_build_cpu:.2f} s, observables {t_obs_cpu:.2f} s); "
             f"inside eigsh {n_matvec} matvecs take {t_matvec_total:.2f} s "
             f"({100 * t_matvec_total / t_eig_cpu:.0f}%, {bare['cpu_s'] * 1e3:.2f} ms each = "
             f"{matvec_bytes / bare['cpu_s'] / 1e9:.1f} GB/s of CSR traffic) and ARPACK's own work "
             f"{arpack_cpu:.2f} s ({100 * arpack_cpu / t_eig_cpu:.0f}%) — "
             + ("the claimed bound (ARPACK's orthogonalization and restarts) is confirmed" if arpack_cpu > t_matvec_total
                else "this contradicts the claimed bound: the sparse matvec, not ARPACK's orthogonalization, dominates")
             + f". The eigsh call alone with scipy's defaults takes {default['cpu_s']:.2f} s ({default['n_matvec']} "
               f"matvecs), {default['cpu_s'] / t_total_cpu:.1f}x qlat's whole exact_estimates: 3x over a direct "
               f"eigsh needs exact_estimates <= {default['cpu_s'] / 3:.2f} s, i.e. fewer Lanczos steps or cheaper "
               "steps, not a faster build or observables.")
    return {
        "command_section": "--goals 2",
        "claimed_bound": "ARPACK re-orthogonalization dominates",
        "n_sites": n, "sector_dim": dim, "nnz": nnz, "ncv": ncv, "tol": 1e-12, "k": 2,
        "blas_threads_inside_eigsh": blas_threads,
        "exact_estimates": {"cpu_s": t_total_cpu, "wall_s": t_total_wall},
        "split_cpu_s": {"build_sparse_hamiltonian": t_build_cpu, "eigsh": t_eig_cpu,
                        "sector_expectations_24_observables": t_obs_cpu, "rest": rest},
        "split_wall_s": {"build_sparse_hamiltonian": t_build_wall, "eigsh": t_eig_wall,
                         "sector_expectations_24_observables": t_obs_wall},
        "n_observable_keys": len(ops),
        "eigsh": {
            "n_matvec": n_matvec,
            "lanczos_restarts_estimate": (n_matvec - ncv) / (ncv - 2),
            "counting_linear_operator_cpu_s": t_op_cpu, "counting_linear_operator_wall_s": t_op_wall,
            "matvec_cpu_inside_counting_operator_s": counter["cpu"],
            "eigenvalues_match_plain_eigsh": bool(np.allclose(np.sort(values_op), values, rtol=0, atol=1e-10)),
            "bare_matvec_cpu_s": bare["cpu_s"],
            "matvec_total_cpu_s": t_matvec_total,
            "matvec_bytes_each": matvec_bytes,
            "matvec_GBps": matvec_bytes / bare["cpu_s"] / 1e9,
            "arpack_own_cpu_s": arpack_cpu,
            "arpack_fraction": arpack_cpu / t_eig_cpu,
            "arpack_per_matvec_s": arpack_cpu / n_matvec,
            "orthogonalization_model": "per Lanczos step ARPACK (dsaitr) reads the j current basis vectors "
                                       "about 4 times (V^T r, V h, and the DGKS correction), j ~ (k + ncv)/2 on "
                                       "average: 4 * 8 B * dim * (k + ncv)/2",
            "orthogonalization_bytes_per_step_model": 4 * 8 * dim * (2 + ncv) // 2,
            "arpack_own_GBps_if_orthogonalization": 4 * 8 * dim * (2 + ncv) / 2 / (arpack_cpu / n_matvec) / 1e9,
        },
        "scipy_default_eigsh_one_thread": default,
        "cprofile_eigsh_top": top_functions(profile, 8),
        "bound": bound,
    }


# ----------------------------------------------------------------------------- goal 3
def _phi4_case(L: int, chains: int, repeats: int) -> dict[str, Any]:
    """The goal-3 profile of one lattice size (module docstring)."""
    import reference_hmc_numba as ref
    import torch

    from qlat.core.lattice import Lattice
    from qlat.samplers import hmc_kernels as hk
    from qlat.samplers.hmc import HMC
    from qlat.samplers.hmc_core import mean_acceptance
    from qlat.theories import Phi4Theory

    n_steps, tau = 10, 0.5
    eps = tau / n_steps
    theory = Phi4Theory(Lattice((L, L)), m2=-4.0, lam=8.0)
    hmc = HMC(trajectory_length=tau, n_steps=n_steps)
    state = hmc.init_state(theory, chains=chains, seed=1)
    gen = state.generator()
    fields = state.fields.clone()
    for _ in range(50):
        fields, *_ = hmc.trajectory(theory, fields, gen, eps)
    holder = {"f": fields}

    def trajectory() -> None:
        holder["f"] = hmc.trajectory(theory, holder["f"], gen, eps)[0]

    t_traj = measure(trajectory, min_cpu=0.2, repeats=repeats)
    n = fields.numel()
    kernel, params = theory.hmc_kernel()
    schedule = hk.integrator_schedule("leapfrog", n_steps)

    def draws() -> None:
        torch.rand(2 * ((n + 1) // 2), dtype=torch.float64, generator=gen)
        torch.rand(chains, dtype=torch.float64, generator=gen)

    t_rand = measure(draws, repeats=repeats)
    f_np = holder["f"].numpy().copy()
    mu = torch.rand(2 * ((n + 1) // 2), dtype=torch.float64, generator=gen).numpy()
    au = torch.rand(chains, dtype=torch.float64, generator=gen).numpy()
    t_fused = measure(lambda: hk.fused_hmc_step(kernel, params, f_np, mu, au, step_size=eps, schedule=schedule),
                      repeats=repeats)
    t_box = measure(lambda: hk.standard_normal_from_uniforms(mu, n), repeats=repeats)
    p0 = hk.standard_normal_from_uniforms(mu, n).reshape(f_np.shape)
    q, p = f_np.copy(), p0.copy()
    dh, acc = np.empty(chains), np.empty(chains, dtype=np.bool_)
    kinds, coeffs = schedule
    m2, lam = params

    def integrator() -> None:
        np.copyto(q, f_np)
        np.copyto(p, p0)
        hk._phi4_step(q, p, au, 4.0 + m2, lam, eps, kinds, coeffs, dh, acc)

    t_kernel = measure(integrator, repeats=repeats)
    t_copy = measure(lambda: (np.copyto(q, f_np), np.copyto(p, p0)), repeats=repeats)
    kernel_alone = t_kernel["cpu_s"] - t_copy["cpu_s"]
    t_accept = measure(lambda: mean_acceptance(dh), repeats=repeats)
    profile = cProfile.Profile(time.thread_time)
    count = max(200, int(0.5 / t_traj["cpu_s"]))
    profile.enable()
    for _ in range(count):
        trajectory()
    profile.disable()
    q_ref = holder["f"].numpy().copy()
    ref.phi4_hmc(q_ref.copy(), theory.m2, theory.lam, eps, n_steps, 1, 0)
    n_ref = max(20, int(0.2 / max(t_kernel["cpu_s"], 1e-6)))
    ref_cpu = math.inf
    for _ in range(3):  # qlat and the reference interleaved, best of each: the load changes under both
        t_ref = measure(lambda: ref.phi4_hmc(q_ref, theory.m2, theory.lam, eps, n_steps, n_ref, 1), min_cpu=0.2,
                        repeats=repeats)
        ref_cpu = min(ref_cpu, t_ref["cpu_s"])
        again = measure(trajectory, min_cpu=0.2, repeats=repeats)
        if again["cpu_s"] < t_traj["cpu_s"]:
            t_traj = again
    ref_per_traj = ref_cpu / n_ref
    overhead = t_traj["cpu_s"] - t_fused["cpu_s"] - t_rand["cpu_s"]
    fused_other = t_fused["cpu_s"] - kernel_alone - t_box["cpu_s"]
    per = t_traj["cpu_s"]
    return {
        "L": L, "chains": chains, "n_steps": n_steps, "trajectory_length": tau,
        "trajectory_cpu_s": per, "trajectory_wall_s": t_traj["wall_s"],
        "qlat_trajectories_per_cpu_s": chains / per,
        "reference_trajectory_cpu_s": ref_per_traj,
        "reference_trajectories_per_cpu_s": chains / ref_per_traj,
        "ratio_qlat_over_reference_cpu": ref_per_traj / per,
        "split_cpu_s": {
            "integrator_kernel__phi4_step": kernel_alone,
            "box_muller": t_box["cpu_s"],
            "fused_hmc_step_rest (field copy, allocations, dispatch)": fused_other,
            "torch_rand_two_draws": t_rand["cpu_s"],
            "trajectory_rest (torch/numpy wrapping, hook lookup, mean acceptance)": overhead,
        },
        "split_fraction": {
            "integrator_kernel": kernel_alone / per,
            "box_muller": t_box["cpu_s"] / per,
            "fused_hmc_step_rest": fused_other / per,
            "torch_rand": t_rand["cpu_s"] / per,
            "trajectory_rest": overhead / per,
        },
        "mean_acceptance_cpu_s": t_accept["cpu_s"],
        "box_muller_ns_per_normal": 1e9 * t_box["cpu_s"] / n,
        "kernel_ns_per_site_per_md_update": 1e9 * kernel_alone / (n * int(kinds.size)),
        "md_updates_per_trajectory": int(kinds.size),
        "kernel_over_reference_per_trajectory": kernel_alone / ref_per_traj,
        "limit_if_only_kernel_traj_per_cpu_s": chains / kernel_alone,
        "limit_ratio_over_reference_if_only_kernel": ref_per_traj / kernel_alone,
        "ratio_over_reference_if_only_kernel_and_rng": ref_per_traj / (kernel_alone + t_box["cpu_s"] + t_rand["cpu_s"]),
        "trajectory_cpu_s_needed_for_2x": ref_per_traj / 2,
        "cprofile_trajectories": count,
        "cprofile_top": top_functions(profile, 10),
    }


def goal3(sizes: list[int], chains: int, repeats: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    rows = [_phi4_case(L, chains, repeats) for L in sizes]
    parts = []
    for r in rows:
        f = r["split_fraction"]
        parts.append(f"L={r['L']}: {1e6 * r['trajectory_cpu_s']:.0f} us/trajectory = integrator kernel "
                     f"{100 * f['integrator_kernel']:.0f}% + Box-Muller {100 * f['box_muller']:.0f}% + torch.rand "
                     f"{100 * f['torch_rand']:.0f}% + Python/torch/numpy around it "
                     f"{100 * (f['fused_hmc_step_rest'] + f['trajectory_rest']):.0f}%; ratio to the reference "
                     f"{r['ratio_qlat_over_reference_cpu']:.2f}x; with no Python/torch overhead at all "
                     f"{r['ratio_over_reference_if_only_kernel_and_rng']:.2f}x, with the integrator kernel alone "
                     f"{r['limit_ratio_over_reference_if_only_kernel']:.2f}x")
    reachable = all(r["ratio_over_reference_if_only_kernel_and_rng"] >= 2.0 for r in rows)
    parts.append("bound: " + ("removing the per-trajectory overhead alone would reach 2x" if reachable else
                              "removing all per-trajectory overhead would not reach 2x: the compiled integrator and the "
                              "momentum generation (torch.rand + Box-Muller) themselves bound it"))
    return {
        "command_section": "--goals 3",
        "claimed_bound": "(none recorded) phi4 1.2-1.6x the numba reference at 16 chains",
        "results": rows,
        "bound": "; ".join(parts),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goals", type=int, nargs="+", default=[1, 2, 3], choices=[1, 2, 3])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run in seconds")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    machine = describe_machine()
    record: dict[str, Any] = {
        "benchmark": "speed_profiles",
        "description": "profiles behind the unmet speed goals 1-3 of issue 12 (CPU time of one thread, best of "
                       f"{args.repeats} batches; wall time beside it)",
        "command": " ".join(["OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 10 .venv/bin/python "
                             "benchmarks/profile_bounds.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine,
    }
    if args.out.exists():  # keep the sections not rerun
        import json

        old = json.loads(args.out.read_text())
        record.update({k: v for k, v in old.items() if k.startswith("goal") and int(k[4]) not in args.goals})
    if 1 in args.goals:
        record["goal1_statevector"] = goal1([10, 12] if args.quick else [16, 20], args.repeats)
        print("goal 1:", *record["goal1_statevector"]["summary"], record["goal1_statevector"]["bound"], sep="\n  ",
              flush=True)
    if 2 in args.goals:
        record["goal2_ed"] = goal2(14 if args.quick else 20, 1 if args.quick else 2)
        print("goal 2:", record["goal2_ed"]["bound"], flush=True)
    if 3 in args.goals:
        record["goal3_phi4_hmc"] = goal3([8, 16] if args.quick else [16, 32], 16, args.repeats)
        print("goal 3:", record["goal3_phi4_hmc"]["bound"], flush=True)
    record["load_average_end"] = list(os.getloadavg())
    write_results(args.out, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Start-up time of the ``qlat`` command line (goal 4 of issue 12), in fresh processes.

Each command runs as a new subprocess, the cases interleaved round by round (best of
``--repeats``, default 7: the machine is shared, so every case sees the same load), and for each
run the script records

- the **wall time** (``time.perf_counter`` around ``subprocess.run``), and
- the **CPU time** of the child, user + sys, from the deltas of
  ``resource.getrusage(RUSAGE_CHILDREN)``.  On a loaded 2-core machine the wall clock mostly
  measures the other processes; the CPU time is the fair number (both are reported).

Cases (goal in brackets):

1. ``python -c pass`` — the interpreter floor (no goal);
2. ``qlat --help`` [≤ 0.3 s];
3. ``qlat schwinger exact --sites 7`` — a bad flag (odd N), must exit with status 2 [≤ 0.3 s];
4. ``qlat schwinger exact --sites 8 --json`` — ED of an 8-site chain [≤ 0.45 s]; its stdout must
   be JSON.

The children inherit this process's environment (the BLAS thread variables are recorded in
``machine.thread_env`` and in the command).  Then ``python -X importtime`` of case 4 (3 runs, per-module minimum): the 10 most expensive
top-level imports by cumulative time, the 10 largest by self time, the total import time, and
whether Qiskit (or numba, torch) was imported at all.

    nice -n 10 .venv/bin/python benchmarks/bench_startup.py [--repeats 7]

Writes ``benchmarks/results/startup.json`` (the machine, the load average before and after, the
command, all the runs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from machine import describe_machine, write_results  # noqa: E402

RESULTS = HERE / "results" / "startup.json"
PYTHON = ROOT / ".venv" / "bin" / "python"
QLAT = ROOT / ".venv" / "bin" / "qlat"

#: (name, argv after the program, expected exit status, goal in seconds or None, program)
CASES: tuple[tuple[str, list[str], int, float | None, Path], ...] = (
    ("python -c pass", ["-c", "pass"], 0, None, PYTHON),
    ("qlat --help", ["--help"], 0, 0.3, QLAT),
    ("qlat schwinger exact --sites 7 (bad flag)", ["schwinger", "exact", "--sites", "7"], 2, 0.3, QLAT),
    ("qlat schwinger exact --sites 8 --json", ["schwinger", "exact", "--sites", "8", "--json"], 0, 0.45, QLAT),
)

#: Modules whose presence in the exact command's import list is reported.
HEAVY = ("qiskit", "qiskit_aer", "numba", "torch", "scipy", "numpy")


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(program: Path, args: list[str]) -> tuple[float, float, int, str]:
    """(wall s, child user+sys CPU s, exit status, stdout) of one fresh process."""
    cpu = _child_cpu()
    start = time.perf_counter()
    proc = subprocess.run([str(program), *args], capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    return wall, _child_cpu() - cpu, proc.returncode, proc.stdout


def importtime(args: list[str], *, runs: int = 3) -> dict[str, Any]:
    """``python -X importtime`` of ``qlat ARGS``: per-module minimum over ``runs`` runs.

    Lines read ``import time: self [us] | cumulative | name``, the name indented two spaces
    per nesting level; level 0 are the imports done by the program itself.
    """
    best: dict[str, list[float]] = {}
    level: dict[str, int] = {}
    for _ in range(runs):
        proc = subprocess.run([str(PYTHON), "-X", "importtime", str(QLAT), *args], capture_output=True, text=True,
                              cwd=ROOT, check=False)
        seen: dict[str, list[float]] = {}
        for line in proc.stderr.splitlines():
            if not line.startswith("import time:") or "[us]" in line:
                continue
            self_us, cum_us, name = line[len("import time:"):].split("|", 2)
            depth = (len(name) - len(name.lstrip(" "))) // 2 - 1  # one space after '|'
            key = name.strip()
            seen[key] = [float(self_us), float(cum_us)]
            level[key] = depth
        for key, (s, c) in seen.items():
            old = best.get(key)
            best[key] = [s, c] if old is None else [min(old[0], s), min(old[1], c)]
    top_level = sorted(((k, v) for k, v in best.items() if level[k] == 0), key=lambda kv: -kv[1][1])
    by_self = sorted(best.items(), key=lambda kv: -kv[1][0])
    roots = {k.split(".")[0] for k in best}
    return {
        "command": f"{PYTHON.relative_to(ROOT)} -X importtime {QLAT.relative_to(ROOT)} {' '.join(args)}",
        "runs_min_of": runs,
        "n_modules": len(best),
        "total_import_s": sum(v[1] for _, v in top_level) / 1e6,
        "top10_top_level_cumulative_s": [{"module": k, "cumulative_s": v[1] / 1e6, "self_s": v[0] / 1e6}
                                         for k, v in top_level[:10]],
        "top10_self_s": [{"module": k, "self_s": v[0] / 1e6, "cumulative_s": v[1] / 1e6, "level": level[k]}
                         for k, v in by_self[:10]],
        "imported": {m: m in roots for m in HEAVY},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    machine = describe_machine()
    for program, case_args in ((PYTHON, ["-c", "pass"]), (QLAT, ["--help"])):  # warm the page cache
        run_once(program, case_args)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in CASES}
    problems: list[str] = []
    for _ in range(args.repeats):  # interleaved rounds
        for name, case_args, status, _goal, program in CASES:
            wall, cpu, rc, out = run_once(program, case_args)
            runs[name].append({"wall_s": wall, "cpu_s": cpu})
            if rc != status:
                problems.append(f"{name}: exit status {rc}, expected {status}")
            if "--json" in case_args and rc == 0:
                try:
                    json.loads(out)
                except ValueError:
                    problems.append(f"{name}: stdout is not JSON")
    load_mid = list(os.getloadavg())
    imports = importtime(list(CASES[-1][1]))
    rows = []
    floor = min(r["cpu_s"] for r in runs[CASES[0][0]])
    floor_wall = min(r["wall_s"] for r in runs[CASES[0][0]])
    print(f"{'command':44} {'wall best':>9} {'median':>7} {'CPU best':>9} {'goal':>6}  met (wall / CPU)")
    for name, case_args, status, goal, _program in CASES:
        wall = sorted(r["wall_s"] for r in runs[name])
        cpu = sorted(r["cpu_s"] for r in runs[name])
        row = {
            "case": name,
            "argv": [str(_program.relative_to(ROOT)), *case_args],
            "expected_exit_status": status,
            "goal_s": goal,
            "best_wall_s": wall[0],
            "median_wall_s": wall[len(wall) // 2],
            "best_cpu_s": cpu[0],
            "median_cpu_s": cpu[len(cpu) // 2],
            "best_wall_minus_interpreter_s": wall[0] - floor_wall,
            "best_cpu_minus_interpreter_s": cpu[0] - floor,
            "met_wall": None if goal is None else wall[0] <= goal,
            "met_cpu": None if goal is None else cpu[0] <= goal,
            "runs": runs[name],
        }
        rows.append(row)
        met = "" if goal is None else f"{'yes' if row['met_wall'] else 'NO'} / {'yes' if row['met_cpu'] else 'NO'}"
        print(f"{name:44} {wall[0]:8.3f}s {wall[len(wall) // 2]:6.3f}s {cpu[0]:8.3f}s "
              f"{'' if goal is None else f'{goal:5.2f}s'}  {met}")
    print(f"\nimports of '{CASES[-1][0]}': {imports['total_import_s']:.3f} s in {imports['n_modules']} modules; "
          + ", ".join(f"{m} {'yes' if v else 'no'}" for m, v in imports["imported"].items()))
    for item in imports["top10_top_level_cumulative_s"]:
        print(f"  {item['module']:40} {item['cumulative_s'] * 1e3:7.1f} ms (self {item['self_s'] * 1e3:5.1f} ms)")
    for p in problems:
        print("PROBLEM:", p)
    write_results(args.out, {
        "benchmark": "startup",
        "description": "qlat CLI start-up in fresh subprocesses (goal 4 of issue 12): best of interleaved rounds, "
                       "wall time and child user+sys CPU time (getrusage RUSAGE_CHILDREN deltas); the CPU time is "
                       "the fair number on a shared machine.",
        "command": " ".join([*(f"{k}={v}" for k, v in machine["thread_env"].items()),
                             "nice -n 10 .venv/bin/python benchmarks/bench_startup.py",
                             *(argv if argv is not None else sys.argv[1:])]),
        "repeats_best_of": args.repeats,
        "machine": machine,
        "load_average_mid": load_mid,
        "load_average_end": list(os.getloadavg()),
        "results": rows,
        "importtime_exact_sites_8": imports,
        "problems": problems,
        "all_goals_met_cpu": all(r["met_cpu"] for r in rows if r["goal_s"] is not None),
        "all_goals_met_wall": all(r["met_wall"] for r in rows if r["goal_s"] is not None),
    })
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Record one light-mass cross-check run: ``benchmarks/results/light_mass_crosscheck_<preset>.json``.

Runs ``qlat crosscheck light-mass --preset P --seed S --json`` in a subprocess and stores its JSON
with the machine (:func:`benchmarks.machine.describe_machine`), the command, the wall time and the
CPU time of the run and its children (the Hamiltonian column runs in a second process).

    PYTHONPATH=$PWD nice -n 10 python benchmarks/record_light_mass.py --preset quick --seed 0
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe_machine, write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--note", default="")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    command = ["qlat", "crosscheck", "light-mass", "--preset", args.preset, "--seed", str(args.seed)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    if args.preset in ("quick", "full"):
        with tempfile.TemporaryDirectory() as scratch:  # the CLI's csv/json/png: the record below has them
            done = subprocess.run([sys.executable, "-m", "qlat", *command[1:], "--json", "--out", scratch], env=env,
                                  check=True, capture_output=True, text=True)
    else:  # a preset of the Python API only (LIGHT_MASS_PRESETS), run in a child process as the CLI would
        command = ["python", "-c", f"light_mass({args.preset!r}, seed={args.seed})"]
        code = ("import json, sys\nfrom qlat.analysis.light_mass_crosscheck import light_mass\n"
                "from qlat.core.jsonio import jsonable\n"
                "if __name__ == '__main__':\n"
                f"    r = light_mass({args.preset!r}, seed={args.seed})\n"
                "    json.dump(jsonable(r.to_dict()), sys.stdout)\n")
        done = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write(done.stderr)
    record = {"benchmark": f"light_mass_crosscheck_{args.preset}", "machine": describe_machine(),
              "command": " ".join(command), "wall_seconds": round(wall, 1),
              "cpu_user_seconds": round(usage.ru_utime, 1), "cpu_system_seconds": round(usage.ru_stime, 1),
              "note": args.note, **json.loads(done.stdout)}
    out = args.out or Path(__file__).resolve().parent / "results" / f"light_mass_crosscheck_{args.preset}.json"
    write_results(out, record)
    print(f"wall {wall:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s")


if __name__ == "__main__":
    main()

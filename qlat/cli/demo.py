"""``qlat demo``: the main job — adiabatic Schwinger-model vacua on the local simulator vs ED.

The runs and the check are :func:`qlat.analysis.demo.run_demo`. Prepares the vacuum of the N = 8, a = 0.5, m = 0.1 Schwinger model at θ = 0, π/4, π/2 by the
adiabatic schedule of arXiv:2001.00485 (library default T, dt; second-order Trotter) on the fast
statevector simulator, repeats θ = 0 with shot noise on Qiskit Aer, and compares every number with
exact diagonalization.  Writes ``demo.json`` and ``demo.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from qlat.cli._common import add_out_flag, add_seed_flag, ensure_output_dir, resolve_seed
from qlat.core.errors import require

#: Position in ``qlat --help``.
HELP_ORDER = 20
HELP = "adiabatic Schwinger vacuum on the local simulator, checked against ED"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help=HELP)
    add_out_flag(p, "demo.json and demo.png", default="demo-output")
    p.add_argument("--shots", type=int, default=4000, help="shots per basis of the Aer run at θ = 0 (>= 1)")
    add_seed_flag(p, "the shot sampling (make demo uses 2001, the README's numbers)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from qlat.analysis.demo import demo_header, run_demo

    require(args.shots >= 1, "--shots", "must be an integer >= 1", args.shots)
    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    ensure_output_dir(args.out, "--out")
    resolve_seed(args)
    t0 = time.perf_counter()
    print(demo_header())
    result = run_demo(shots=args.shots, seed=args.seed)
    print(result.table())
    files = result.write(args.out)
    print(f"\nwrote {files['json']} and {files['plot']} ({time.perf_counter() - t0:.1f} s)")
    print(result.check_line())
    return 0 if result.passed else 1

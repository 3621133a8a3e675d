"""``qlat calibrate``: measure whether every estimator's error bar covers the exact answer.

Runs the calibration cases of :mod:`qlat.analysis.calibration` (seeded, randomized points with
known answers, hard ones included) and prints, per estimator, the coverage (fraction of the
unwarned points with |z| ≤ 1, 2, 3), the tightness (median σ_total/|Δ|), the points that warned
and whether the goal (|z| ≤ 2 for ≥ 90 %, median σ/|Δ| ≤ 5) is met.  Writes
``calibration.json`` (every point, every summary, the seed) and ``calibration.png`` (z histograms
against the normal curve) to ``--out``, whatever the size.  ``make calibrate`` records the full run
in ``benchmarks/results/`` (``calibration.json``); the recorded quick runs there are
``calibration_quick.json`` and ``calibration_quick_dmrg.json`` (docs/cli.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: Position in ``qlat --help``.
HELP_ORDER = 47
#: One line in ``qlat --help``.
HELP = "measure the coverage and tightness of every estimator's error bar against exact answers"


def register(subparsers: Any) -> None:
    from qlat.cli._common import add_out_flag, add_progress_flag, add_seed_flag, with_flag_names

    p = subparsers.add_parser(
        "calibrate", help=HELP,
        description="Run seeded, randomized points with known answers for every registered estimator and report "
        "its coverage (|z| <= 1, 2, 3 over the points that did not warn) and tightness (median sigma/|Delta|). "
        "Goal: |z| <= 2 for >= 90 % of the unwarned points and median sigma/|Delta| <= 5.")
    p.add_argument("--estimators", nargs="+", metavar="NAME", default=None,
                   help="which estimators (default: all registered; an unknown name lists them)")
    p.add_argument("--size", choices=("test", "quick", "full"), default="quick",
                   help="test (seconds per estimator), quick (minutes, default) or full (the recorded run)")
    add_seed_flag(p, "the random points (make calibrate records seed 0)")
    add_out_flag(p, "calibration.json and calibration.png (at every --size)", default="calibration")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names({"estimators": "--estimators", "size": "--size", "seed": "--seed"})(cmd))


def cmd(args: argparse.Namespace) -> int:
    import json
    import sys

    from qlat.analysis.calibration import load_cases, run_calibration
    from qlat.cli._common import ensure_output_dir, jsonable, print_json, resolve_seed, show_progress
    from qlat.core.errors import require
    from qlat.core.files import atomic_write_bytes

    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    known = load_cases()
    unknown = [n for n in args.estimators or () if n not in known]
    require(not unknown, "--estimators", f"unknown; registered: {', '.join(sorted(known))}", unknown,
            hint="a new family is one module in qlat/analysis/calibration/ with @calibration_case(...)")
    ensure_output_dir(args.out, "--out")
    resolve_seed(args)
    show = show_progress(args)

    def progress(message: str) -> None:
        if show:
            sys.stderr.write(f"qlat calibrate: {message}\n")

    report = run_calibration(estimators=args.estimators, size=args.size, seed=args.seed, progress=progress)
    out = Path(args.out)
    files = {"json": str(out / "calibration.json"), "plot": str(out / "calibration.png")}
    payload = {**report.to_dict(), "files": files,
               "command": f"qlat calibrate --size {args.size} --seed {args.seed}"
               + (f" --estimators {' '.join(args.estimators)}" if args.estimators else "")}
    atomic_write_bytes(out / "calibration.json", (json.dumps(jsonable(payload), indent=2) + "\n").encode("utf-8"))
    report.plot(str(out / "calibration.png"))
    if args.json:
        print_json(payload)
    else:
        sys.stdout.write(f"qlat calibrate ({args.size}, seed {args.seed}): coverage of the exact answer by "
                         "value ± sqrt(stat² + syst²) over the points that did not warn\n")
        sys.stdout.write(report.table() + "\n")
        sys.stdout.write(f"wrote {files['json']}, {files['plot']}\n")
    return 0

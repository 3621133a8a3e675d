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
    p.add_argument("--update", action="store_true",
                   help="re-record only --estimators into the calibration.json already in --out (same --size and "
                   "--seed; without --seed the recorded one): their points and rows are replaced, the others kept")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    add_progress_flag(p)
    p.set_defaults(func=with_flag_names({"estimators": "--estimators", "size": "--size", "seed": "--seed",
                                         "update": "--update", "out": "--out"})(cmd))


def cmd(args: argparse.Namespace) -> int:
    import sys

    from qlat.analysis.calibration import check_update, load_cases, read_recorded, record_calibration
    from qlat.cli._common import (
        announce_seed,
        check_out_folder,
        ensure_output_dir,
        print_json,
        resolve_seed,
        show_progress,
    )
    from qlat.core.errors import require

    require(args.seed is None or args.seed >= 0, "--seed", "must be an integer >= 0", args.seed)
    known = load_cases()
    unknown = [n for n in args.estimators or () if n not in known]
    require(not unknown, "--estimators", f"unknown; registered: {', '.join(sorted(known))}", unknown,
            hint="a new family is one module in qlat/analysis/calibration/ with @calibration_case(...)")
    if args.update:
        require(bool(args.estimators), "--update", "needs --estimators (the estimators to re-record)", None)
        check_out_folder(args.out, "--out")
        recorded = read_recorded(args.out)["params"]
        resolve_seed(args, stored=recorded.get("seed"), announce=False)
        check_update(recorded, size=args.size, seed=args.seed)
    ensure_output_dir(args.out, "--out")
    resolve_seed(args)
    announce_seed(args)
    show = show_progress(args)

    def progress(message: str) -> None:
        if show:
            sys.stderr.write(f"qlat calibrate: {message}\n")

    command = (f"qlat calibrate --size {args.size} --seed {args.seed}"
               + (f" --estimators {' '.join(args.estimators)}" if args.estimators else "")
               + (" --update" if args.update else ""))
    report, payload = record_calibration(args.out, command=command, estimators=args.estimators, size=args.size,
                                 seed=args.seed, update=args.update, progress=progress)
    if args.json:
        print_json(payload)
    else:
        files = payload["files"]
        sys.stdout.write(f"qlat calibrate ({args.size}, seed {args.seed}): coverage of the exact answer by "
                         "value ± sqrt(stat² + syst²) over the points that did not warn\n")
        sys.stdout.write(report.table() + "\n")
        if args.update:
            sys.stdout.write(f"re-recorded {', '.join(args.estimators)}; kept the other rows; commands: "
                             f"{'; '.join(payload['commands'])}\n")
        sys.stdout.write(f"wrote {files['json']}, {files['plot']}\n")
    return 0

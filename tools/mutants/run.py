#!/usr/bin/env python
"""Deliberate bugs that the fast suite must catch: apply each to a copy of the tree, expect red.

Every property the tests guard has a mutant here: the bug that would break it (drop the
Metropolis step, scale a result by 1.25, inflate an error by 20 ...).  The mutants are listed in
``tools/mutants/*.toml``, one file per area::

    [[mutant]]
    name = "hmc-no-metropolis"
    file = "qlat/samplers/hmc.py"
    find = "accept = ..."          # exact text, must occur `count` times (default 1)
    replace = "accept = True"
    tests = ["tests/samplers/test_physics.py"]     # what must turn red (pytest arguments)
    why = "HMC without its accept/reject test samples the wrong distribution"

Usage::

    python tools/mutants/run.py                 # every mutant, each against its listed tests
    python tools/mutants/run.py --only NAME ... # some of them
    python tools/mutants/run.py --full          # each against the whole fast suite (slow)
    python tools/mutants/run.py --check         # only check that every mutant still applies

Each run copies the tracked and untracked (not ignored) files into a temporary folder, applies one
mutant there and runs pytest with ``PYTHONPATH`` pointing at the copy (the working tree is never
touched).  Exit status 0 when every mutant was caught, 1 when one survived or no longer applies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str
    find: str
    replace: str
    tests: list[str]
    why: str = ""
    count: int = 1
    source: str = field(default="", compare=False)

    def problem(self, root: Path = ROOT) -> str | None:
        """Why this mutant does not apply to the tree at ``root`` (None when it does)."""
        path = root / self.file
        if not path.is_file():
            return f"{self.file} does not exist"
        found = path.read_text().count(self.find)
        if found != self.count:
            return f"'{self.find[:60]}' occurs {found} times in {self.file}, expected {self.count}"
        if self.find == self.replace:
            return "find and replace are equal"
        return None

    def apply(self, root: Path) -> None:
        path = root / self.file
        path.write_text(path.read_text().replace(self.find, self.replace))


def load_mutants(directory: Path = HERE) -> list[Mutant]:
    mutants: list[Mutant] = []
    for spec in sorted(directory.glob("*.toml")):
        with spec.open("rb") as fh:
            data = tomllib.load(fh)
        for entry in data.get("mutant", []):
            mutants.append(Mutant(**entry, source=spec.name))
    names = [m.name for m in mutants]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SystemExit(f"mutants: duplicate names {dupes}")
    return mutants


def copy_tree(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def run_one(mutant: Mutant, *, full: bool, timeout: float) -> tuple[str, float, str]:
    """('caught' | 'SURVIVED' | 'broken' | 'timeout', seconds, last output lines)."""
    with tempfile.TemporaryDirectory(prefix=f"qlat-mutant-{mutant.name}-") as tmp:
        root = Path(tmp)
        copy_tree(root)
        problem = mutant.problem(root)
        if problem:
            return "broken", 0.0, problem
        mutant.apply(root)
        env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        args = [] if full else list(mutant.tests)
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout", time.perf_counter() - start, ""
        seconds = time.perf_counter() - start
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        if proc.returncode == 1:
            return "caught", seconds, tail
        if proc.returncode == 0:
            return "SURVIVED", seconds, tail
        return "broken", seconds, f"pytest exit {proc.returncode}: {tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    parser.add_argument("--full", action="store_true", help="run the whole fast suite for every mutant")
    parser.add_argument("--check", action="store_true", help="only check that every mutant applies")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant (default 900)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    mutants = load_mutants()
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in mutants})
        if unknown:
            print(f"--only: unknown mutants {unknown}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in args.only]
    if args.list:
        for m in mutants:
            print(f"{m.name:<40s} {m.source:<16s} {m.why}")
        return 0
    bad = [(m, m.problem()) for m in mutants if m.problem()]
    for m, problem in bad:
        print(f"{m.name}: does not apply: {problem}")
    if args.check:
        print(f"{len(mutants) - len(bad)}/{len(mutants)} mutants apply")
        return 1 if bad else 0
    failed = bool(bad)
    for m in mutants:
        if any(m is b for b, _ in bad):
            continue
        verdict, seconds, tail = run_one(m, full=args.full, timeout=args.timeout)
        print(f"{verdict:<9s} {m.name:<40s} {seconds:6.1f} s  {m.why}", flush=True)
        if verdict != "caught":
            failed = True
            if tail:
                print("          " + tail.replace("\n", "\n          "))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

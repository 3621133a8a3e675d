"""Bad input on every sub-command: exit 2, one line naming the flag as typed, no traceback, and
nothing created or altered in the working directory (issue 7, acceptance 2).

Each case is (argv, text that must appear in the one-line message — usually the flag).  The
commands run in-process in an empty temporary working directory whose listing (names, sizes,
modification times) must be the same afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qlat.cli.main import main

S = ["schwinger"]
EX = S + ["exact"]
AD = S + ["adiabatic", "--sites", "4"]
SC = S + ["scan", "--sites", "4", "--exact-only", "--out", "scan-out"]
SA = ["sample", "u1", "--L", "4", "--beta", "1", "--n", "20", "--no-progress"]
SP = ["sample", "phi4", "--L", "4", "--m2", "-1", "--lam", "1", "--n", "20", "--no-progress"]

CASES: list[tuple[list[str], str]] = [
    # --- qlat itself
    (["nonsense"], "invalid choice"),
    ([], "COMMAND"),
    (["--bogus-flag"], "--bogus-flag"),
    # --- schwinger exact
    (EX + ["--sites", "7"], "--sites"),
    (EX + ["--sites", "0"], "--sites"),
    (EX + ["--sites", "-4"], "--sites"),
    (EX + ["--sites", "x"], "--sites"),
    (EX + ["--sites", "26"], "--sites"),
    (EX + ["--spacing", "0"], "--spacing"),
    (EX + ["--spacing", "-1"], "--spacing"),
    (EX + ["--spacing", "nan"], "--spacing"),
    (EX + ["--spacing", "inf"], "--spacing"),
    (EX + ["--mass", "nan"], "--mass"),
    (EX + ["--mass", "inf"], "--mass"),
    (EX + ["--coupling", "0"], "--coupling"),
    (EX + ["--coupling", "-2"], "--coupling"),
    (EX + ["--coupling", "1e200"], "--coupling"),
    (EX + ["--theta", "nan"], "--theta"),
    (EX + ["--theta", "inf"], "--theta"),
    (EX + ["--formulation", "magnetic"], "--formulation"),
    (EX + ["--unknown"], "--unknown"),
    # --- schwinger adiabatic
    (AD + ["--backend", "qpu9000"], "--backend"),
    (AD + ["--time", "0"], "--time"),
    (AD + ["--time", "-1"], "--time"),
    (AD + ["--time", "nan"], "--time"),
    (AD + ["--dt", "0"], "--dt"),
    (AD + ["--dt", "-0.1"], "--dt"),
    (AD + ["--time", "1", "--dt", "2"], "--dt"),
    (AD + ["--time", "1", "--dt", "0.3"], "--dt"),
    (AD + ["--time", "1", "--dt", "1e-9"], "--dt"),
    (AD + ["--order", "3"], "--order"),
    (AD + ["--layout", "ring"], "--layout"),
    (AD + ["--ramp", "bogus"], "--ramp"),
    (AD + ["--initial-mass", "-1"], "--initial-mass"),
    (AD + ["--initial-mass", "nan"], "--initial-mass"),
    (AD + ["--backend", "aer", "--shots", "0"], "--shots"),
    (AD + ["--backend", "aer", "--shots", "-5"], "--shots"),
    (AD + ["--backend", "aer", "--shots", "2.5"], "--shots"),
    (AD + ["--backend", "aer", "--shots", "1000000000000"], "--shots"),
    (AD + ["--backend", "statevector", "--shots", "100"], "--shots"),
    (AD + ["--backend", "statevector", "--noise", "depolarizing:0.01,0.01"], "--noise"),
    (AD + ["--backend", "mps", "--noise", "depolarizing:0.01,0.01"], "--noise"),
    (AD + ["--backend", "aer", "--noise", "bogus"], "--noise"),
    (AD + ["--backend", "aer", "--noise", "depolarizing:2,0.1"], "--noise"),
    (AD + ["--backend", "aer", "--noise", "depolarizing:-0.1,0.1"], "--noise"),
    (AD + ["--backend", "aer", "--noise", "depolarizing:0.1"], "--noise"),
    (AD + ["--seed", "-1"], "--seed"),
    (AD + ["--seed", "x"], "--seed"),
    (S + ["adiabatic", "--sites", "40", "--backend", "statevector"], "--sites"),
    (S + ["adiabatic", "--sites", "28", "--backend", "aer"], "--sites"),
    (S + ["adiabatic", "--sites", "3"], "--sites"),
    (AD + ["--spacing", "0"], "--spacing"),
    (AD + ["--theta", "nan"], "--theta"),
    (AD + ["--bond-dim", "16"], "--bond-dim"),
    (AD + ["--backend", "tdvp", "--bond-dim", "2"], "--bond-dim"),
    (AD + ["--backend", "fake:fake_manila", "--bond-dim", "16"], "--bond-dim"),
    # --- schwinger scan (must not leave the --out folder behind)
    (SC + ["--thetas", "nan"], "--thetas"),
    (SC + ["--thetas", "inf"], "--thetas"),
    (S + ["scan", "--sites", "3", "--exact-only", "--out", "scan-out"], "--sites"),
    (S + ["scan", "--sites", "30", "--exact-only", "--out", "scan-out"], "--sites"),
    (SC + ["--spacing", "-0.5"], "--spacing"),
    (SC + ["--continuum", "--continuum-sites", "7"], "--continuum-sites"),
    (SC + ["--continuum", "--continuum-volumes", "-5"], "--continuum-volumes"),
    (S + ["scan", "--sites", "4", "--out", "scan-out", "--backend", "bogus"], "--backend"),
    (S + ["scan", "--sites", "4", "--out", "scan-out", "--dt", "0"], "--dt"),
    (SC + ["--mass", "nan"], "--mass"),
    (SC + ["--workers", "0"], "--workers"),
    (SC + ["--continuum", "--continuum-method", "bogus"], "--continuum-method"),
    (SC + ["--continuum", "--continuum-method", "dmrg", "--continuum-spacings", "0.3"], "--continuum-spacings"),
    (S + ["scan", "--sites", "402", "--backend", "dmrg", "--out", "scan-out"], "--sites"),
    (S + ["scan", "--sites", "8", "--backend", "dmrg", "--bond-dim", "3", "--out", "scan-out"], "--bond-dim"),
    (SC + ["--bond-dim", "16"], "--bond-dim"),
    (SC + ["--scheduler", "localhost:8786"], "--scheduler"),
    (SC + ["--cluster", "lsf"], "--cluster"),
    (SC + ["--cluster-config", "cluster.json"], "--cluster-config"),
    (SC + ["--cluster", "slurm", "--cluster-config", "no-such.json"], "--cluster-config"),
    (SC + ["--workers", "2", "--scheduler", "tcp://x:1"], "--scheduler"),
    # --- schwinger spectrum | theta-pi | theta-dependence | string-tension (issue 23; nothing created)
    (S + ["spectrum", "--spacings", "-0.5"], "--spacings"),
    (S + ["spectrum", "--masses", "-0.1"], "--masses"),
    (S + ["spectrum", "--levels", "1"], "--levels"),
    (S + ["spectrum", "--dmrg-levels", "40"], "--dmrg-levels"),
    (S + ["spectrum", "--method", "qpu"], "--method"),
    (S + ["spectrum", "--volumes", "7", "9"], "--volumes"),
    (S + ["spectrum", "--sites", "8", "10", "11"], "--sites"),
    (S + ["spectrum", "--method", "ed", "--spacings", "0.1"], "--volumes"),
    (S + ["spectrum", "--bond-dim", "2"], "--bond-dim"),
    (S + ["spectrum", "--spacing-degree", "9"], "--spacing-degree"),
    (S + ["theta-pi", "--volumes", "10"], "--volumes"),
    (S + ["theta-pi", "--masses", "0.33"], "--masses"),
    (S + ["theta-pi", "--spacings", "nan"], "--spacings"),
    (S + ["theta-pi", "--min-volume", "-1"], "--min-volume"),
    (S + ["theta-dependence", "--thetas", "4"], "--thetas"),
    (S + ["theta-dependence", "--volumes", "8"], "--volumes"),
    (S + ["theta-dependence", "--spacings", "0.5", "0.4"], "--spacings"),
    (S + ["string-tension", "--charges", "0.7"], "--charges"),
    (S + ["string-tension", "--separations", "8", "10", "40"], "--separations"),
    (S + ["string-tension", "--length", "-1"], "--length"),
    (S + ["string-tension", "--thetas", "inf"], "--thetas"),
    # --- demo, circuits
    (["demo", "--shots", "0", "--out", "demo-out"], "--shots"),
    (["demo", "--shots", "-3", "--out", "demo-out"], "--shots"),
    (["demo", "--seed", "-1", "--out", "demo-out"], "--seed"),
    (["circuits"], "ACTION"),
    (["circuits", "bogus"], "invalid choice"),
    # --- sample
    (["sample", "bogus", "--n", "20"], "theory"),
    (SA[:-1] + ["--sampler", "bogus"], "--sampler"),
    (["sample", "u1", "--L", "4", "--n", "20"], "--beta"),
    (SA + ["--beta", "0"], "--beta"),
    (["sample", "u1", "--L", "4", "--beta", "-1", "--n", "20"], "--beta"),
    (["sample", "u1", "--L", "4", "--beta", "nan", "--n", "20"], "--beta"),
    (["sample", "u1", "--L", "1", "--beta", "1", "--n", "20"], "--L"),
    (["sample", "u1", "--L", "4", "--ndim", "5", "--beta", "1", "--n", "20"], "--ndim"),
    (["sample", "u1", "--L", "4", "--ndim", "1", "--beta", "1", "--n", "20"], "--L/--ndim"),
    (SA[:7] + ["--n", "2"], "--n"),
    (SA[:7] + ["--n", "-5"], "--n"),
    (SA + ["--chains", "0"], "--chains"),
    (SA + ["--seed", "-1"], "--seed"),
    (SA + ["--chunk", "0"], "--chunk"),
    (SA + ["--start", "warm"], "--start"),
    (SA + ["--threads", "0"], "--threads"),
    (SA + ["--tau", "0"], "--tau"),
    (SA + ["--tau", "nan"], "--tau"),
    (SA + ["--steps", "0"], "--steps"),
    (SA + ["--integrator", "euler"], "--integrator"),
    (SA + ["--target-acceptance", "1.5"], "--target-acceptance"),
    (SA + ["--thermalize", "-1"], "--thermalize"),
    (SA + ["--every", "0"], "--every"),
    (SA + ["--sampler", "heatbath", "--tau", "1"], "--tau"),
    (SA + ["--sampler", "heatbath", "--target-acceptance", "0.5"], "--target-acceptance"),
    (SA + ["--sampler", "metropolis", "--step-size", "0"], "--step-size"),
    (SA + ["--sampler", "hmc", "--step-size", "0.5"], "--step-size"),
    (SA + ["--m2", "1"], "--m2"),
    (SP + ["--beta", "1"], "--beta"),
    (SP[:-1] + ["--sampler", "heatbath"], "--sampler"),
    (["sample", "phi4", "--L", "4", "--m2", "1", "--n", "20"], "--lam"),
    (["sample", "phi4", "--L", "4", "--m2", "1", "--lam", "-1", "--n", "20"], "--lam"),
    (["sample", "phi4", "--L", "4", "--m2", "-1", "--lam", "0", "--n", "20"], "--m2"),
    (["sample", "u1", "--L", "5", "--beta", "1", "--n", "20", "--sampler", "metropolis"], "--L/--ndim"),
    (SA + ["--out", "no-such-dir/x.h5"], "--out"),
    (["sample", "u1", "--L", "64", "--beta", "1", "--n", "1000000000", "--out", "big.h5"], "--n"),
    (["sample", "u1", "--L", "512", "--beta", "1", "--n", "100", "--chains", "64"], "--L"),
    # --- flow
    (["flow", "train", "u1", "--L", "6", "--beta", "1", "--steps", "2", "--out", "m"], "--L"),
    (["flow", "train", "u1", "--L", "8", "--beta", "-1", "--steps", "2", "--out", "m"], "--beta"),
    (["flow", "train", "phi4", "--L", "8", "--m2", "-4", "--steps", "2", "--out", "m"], "--lam"),
    (["flow", "train", "u1", "--L", "8", "--beta", "1", "--layers", "0", "--out", "m"], "--layers"),
    (["flow", "train", "u1", "--L", "8", "--beta", "1", "--batch", "1", "--out", "m"], "--batch"),
    (["flow", "train", "u1", "--L", "8", "--beta", "1", "--lr", "-1", "--out", "m"], "--lr"),
    (["flow", "train", "bogus", "--out", "m"], "theory"),
    (["flow", "eval", "no-such-model"], "no-such-model"),
    # --- calibrate
    (["calibrate", "--estimators", "no-such-estimator"], "--estimators"),
    (["calibrate", "--size", "huge"], "--size"),
    (["calibrate", "--seed", "-1"], "--seed"),
    (["calibrate", "--seed", "x"], "--seed"),
    # --- crosscheck
    (["crosscheck", "light-mass-bogus"], "invalid choice"),
    (["crosscheck", "heavy-mass", "--preset", "huge"], "--preset"),
    (["crosscheck", "heavy-mass", "--seed", "-1", "--out", "cc"], "--seed"),
    # --- sample: the Wilson-fermion Schwinger model
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--mass", "-3", "--n", "20"], "--mass"),
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--mass", "0", "--nf", "3", "--n", "20"], "--nf"),
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--kappa", "-0.1", "--n", "20"], "--kappa"),
    (["sample", "schwinger", "--L", "5", "--beta", "1", "--mass", "0", "--n", "20"], "--L"),
    # --- measure
    (["measure", "no-such-file.h5"], "no-such-file.h5"),
    (["measure"], "file"),
]


def _listing(root: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*"))


@pytest.mark.parametrize("argv, needle", CASES, ids=[" ".join(a)[:80] for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing.txt").write_text("a user's file\n")
    before = _listing(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit from inside parse_args
        code = exc.code
    captured = capsys.readouterr()
    err = [line for line in captured.err.splitlines() if line.strip() and not line.startswith("qlat: warning")]
    assert code == 2, (code, captured.err[-1500:])
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    assert len(err) == 1, err
    assert err[0].startswith("qlat: error:"), err
    assert needle in err[0], err
    assert _listing(tmp_path) == before, "a failed command created or altered files"


def test_the_corpus_is_large_and_covers_every_subcommand():
    from qlat.cli.main import command_modules

    assert len(CASES) >= 100
    covered = {argv[0] for argv, _ in CASES if argv}
    missing = set(command_modules()) - covered - {"jobs", "slmc"}
    assert not missing, f"no bad-input case for: {sorted(missing)}"


def test_measure_of_a_file_that_is_not_ours_leaves_it_untouched(tmp_path, capsys):
    victim = tmp_path / "notes.h5"
    victim.write_bytes(b"")
    stamp = os.stat(victim).st_mtime_ns
    assert main(["measure", str(victim)]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err
    assert victim.read_bytes() == b"" and os.stat(victim).st_mtime_ns == stamp

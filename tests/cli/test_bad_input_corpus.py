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
FT = ["flow", "train", "u1", "--L", "8", "--beta", "1", "--steps", "2", "--no-progress", "--out", "m"]
TT = ["flow", "train", "u1", "--layout", "tree", "--layers", "0", "--beta", "1", "--steps", "2", "--out", "m"]
ST = ["slmc", "train", "--L", "4", "--J", "1", "--T", "0.1", "--no-progress", "--out", "m"]
SH = ["slhmc", "train", "--L", "4", "--beta", "2", "--mass", "0.1", "--no-progress", "--out", "m"]

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
    (S + ["spectrum", "--continuum", "spline"], "--continuum"),
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
    (["sample", "bogus", "--n", "20"], "THEORY"),
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
    (SA + ["--out", "no-such-dir/x"], "--out"),
    (SA + ["--out", "x.h5"], "--out: must be a folder, not a file name"),
    (["sample", "u1", "--L", "64", "--beta", "1", "--n", "1000000000", "--out", "big"], "--n"),
    (["sample", "u1", "--L", "512", "--beta", "1", "--n", "100", "--chains", "64"], "--L"),
    # --- flow
    (["flow", "train", "u1", "--L", "6", "--beta", "1", "--steps", "2", "--out", "m"], "--L"),
    (["flow", "train", "u1", "--L", "8", "--beta", "-1", "--steps", "2", "--out", "m"], "--beta"),
    (["flow", "train", "phi4", "--L", "8", "--m2", "-4", "--steps", "2", "--out", "m"], "--lam"),
    (["flow", "train", "u1", "--L", "8", "--beta", "1", "--layers", "0", "--out", "m"], "--layers"),
    (["flow", "train", "u1", "--L", "8", "--beta", "1", "--batch", "1", "--out", "m"], "--batch"),
    (["flow", "train", "u1", "--L", "8", "--beta", "1", "--lr", "-1", "--out", "m"], "--lr"),
    (["flow", "train", "bogus", "--out", "m"], "THEORY"),
    (["flow", "eval", "no-such-model"], "no-such-model"),
    # the tree flow (docs/tree-flow.md): --layout, --tail, --trainable, --init
    (FT + ["--layout", "ring"], "--layout"),
    (FT + ["--tail", "2"], "--tail"),  # a tail exists only with --layout tree
    (FT + ["--tail", "x"], "--tail"),
    (TT + ["--tail", "-1"], "--tail"),
    (FT + ["--layers", "-1"], "--layers"),
    (FT + ["--trainable", "bogus"], "--trainable"),
    (FT + ["--trainable", "tail"], "--trainable"),  # a stripes flow has no tail
    (TT + ["--trainable", "shared"], "--trainable"),  # nor a tail-less tree
    (["flow", "train", "phi4", "--L", "8", "--m2", "-4", "--lam", "8", "--layout", "tree", "--steps", "2", "--out", "m"], "--layout"),
    (["flow", "train", "phi4", "--L", "8", "--m2", "-4", "--lam", "8", "--tail", "2", "--steps", "2", "--out", "m"], "--tail"),
    (FT + ["--init", "no-such-model"], "--init"),
    (FT + ["--init", "existing.txt"], "--init"),
    (TT + ["--L", "100000"], "--L: training a flow"),
    (TT + ["--batch", "10000000000"], "--batch: training a flow"),
    # --- calibrate
    (["calibrate", "--estimators", "no-such-estimator"], "--estimators"),
    (["calibrate", "--size", "huge"], "--size"),
    (["calibrate", "--seed", "-1"], "--seed"),
    (["calibrate", "--seed", "x"], "--seed"),
    (["calibrate", "--size", "test", "--estimators", "hmc", "--update", "--out", "no-such-dir"],
     "--update: there is no no-such-dir/calibration.json to update"),
    (["calibrate", "--size", "test", "--estimators", "hmc", "--update", "--out", "."], "--update: there is no"),
    (["calibrate", "--size", "test", "--update", "--out", "."], "--update: needs --estimators"),
    # --- crosscheck
    (["crosscheck", "light-mass-bogus"], "invalid choice"),
    (["crosscheck", "heavy-mass", "--preset", "huge"], "--preset"),
    (["crosscheck", "heavy-mass", "--preset", "long", "--out", "cc"], "--preset: long is a light-mass preset"),
    (["crosscheck", "heavy-mass", "--seed", "-1", "--out", "cc"], "--seed"),
    # --- sample: the Wilson-fermion Schwinger model
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--mass", "-3", "--n", "20"], "--mass"),
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--mass", "0", "--nf", "3", "--n", "20"], "--nf"),
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--kappa", "-0.1", "--n", "20"], "--kappa"),
    (["sample", "schwinger", "--L", "5", "--beta", "1", "--mass", "0", "--n", "20"], "--L"),
    # --- measure
    (["measure", "no-such-file.h5"], "no-such-file.h5"),
    (["measure"], "FILE"),
    # --- issue 24: absurd sizes refused with the estimate, before anything is allocated or created
    # (the memory available is pinned to 8 GiB below, so the refusals do not depend on the machine)
    (EX + ["--method", "dmrg", "--sites", "100000000"], "--sites"),
    (EX + ["--method", "dmrg", "--sites", "2000", "--bond-dim", "4096"], "--bond-dim"),
    (EX + ["--method", "dmrg", "--sites", "8", "--bond-dim", "1"], "--bond-dim"),
    (S + ["adiabatic", "--sites", "10000000", "--backend", "tdvp"], "--sites"),
    (S + ["adiabatic", "--sites", "400", "--backend", "tdvp", "--bond-dim", "4096"], "--bond-dim"),
    (S + ["adiabatic", "--sites", "100000", "--backend", "mps", "--bond-dim", "8"], "--sites"),
    (S + ["adiabatic", "--sites", "100000", "--backend", "mps"], "--sites"),
    (S + ["adiabatic", "--sites", "1000", "--backend", "fake:fake_manila"], "--sites"),
    (S + ["adiabatic", "--sites", "100000", "--backend", "ibm:ibm_torino"], "--sites"),
    (S + ["scan", "--sites", "400", "--backend", "dmrg", "--bond-dim", "4096", "--out", "scan-out"], "--bond-dim"),
    (SC + ["--continuum", "--continuum-method", "dmrg", "--continuum-volumes", "1000000", "--continuum-spacings",
           "0.5", "0.25", "0.2", "0.125"], "--continuum-volumes"),
    (["sample", "schwinger", "--sampler", "det-hmc", "--L", "64", "--beta", "1", "--mass", "0", "--n", "20",
      "--out", "x", "--no-progress"], "--L"),
    (["sample", "u1", "--L", "8000", "--chains", "1", "--chunk", "1", "--beta", "1", "--n", "20", "--out", "x"],
     "--L/--chains/--chunk"),
    (["sample", "u1", "--L", "100000", "--beta", "1", "--n", "20", "--out", "x"], "--L/--chains/--chunk"),
    # --- issue 24: validation before anything is created or started (scan: no scan-out, no Dask workers)
    (S + ["scan", "--sites", "4", "--thetas", "0", "--out", "scan-out", "--ramp", "bogus"], "--ramp"),
    (S + ["scan", "--sites", "4", "--thetas", "0", "--out", "scan-out", "--workers", "2", "--ramp", "bogus"],
     "--ramp"),
    (S + ["scan", "--sites", "4", "--thetas", "0", "--out", "scan-out", "--time", "1", "--dt", "0.3"], "--dt"),
    (SC + ["--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    (SC + ["--scheduler", "tcp://no-such-host.invalid:8786"], "--scheduler"),
    (SC + ["--scheduler", "tcp://localhost"], "--scheduler"),
    (SC + ["--cluster", "slurm", "--cluster-config", "existing.txt"], "--cluster-config"),
    (["sample", "schwinger", "--L", "4", "--beta", "1", "--mass", "0", "--nf", "1", "--sampler", "pf-hmc", "--n",
      "20", "--out", "x"], "--nf"),
    # --- issue 24: misleading messages
    (["measure", "."], "FILE: is a folder"),
    (["measure", "existing.txt", "--obs", "plaquette"], "not an HDF5 file"),
    (SA + ["--out", "existing.txt"], "--out: exists and is not a folder"),
    (["crosscheck", "heavy-mass", "--out", "existing.txt"], "--out: exists and is not a folder"),
    (["calibrate", "--size", "test", "--out", "existing.txt"], "--out: exists and is not a folder"),
    (["demo", "--out", "existing.txt"], "--out: exists and is not a folder"),
    (["circuits", "export", "--out", "existing.txt"], "--out: exists and is not a folder"),
    (["circuits", "export", "--dir", "existing.txt"], "--dir: exists and is not a folder"),  # the old name
    (["circuits", "export", "--check", "--out", "no-such-dir"], "--out"),
    (["circuits", "export", "--check", "--out", "."], "--out"),
    (["circuits", "export", "--job", "abcdef", "--out", "out"], "QLAT_DATA_DIR: there is no job store"),
    (["circuits", "export", "--job", "abcdef", "--out", "out", "--store", "s.sqlite"], "--store: there is no job"),
    (["jobs", "show", "abcdef"], "QLAT_DATA_DIR: there is no job store"),
    (["jobs", "status", "abcdef"], "QLAT_DATA_DIR"),
    (["jobs", "fetch", "abcdef"], "QLAT_DATA_DIR"),
    (["jobs", "cancel", "abcdef"], "QLAT_DATA_DIR"),
    (["jobs", "show", "abcdef", "--store", "s.sqlite"], "--store: there is no job store"),
    (["jobs", "list", "--store", "existing.txt"], "not a SQLite database"),
    (["jobs", "list", "--store", "."], "is a folder"),
    (["jobs", "list", "--limit", "0"], "--limit"),
    (["jobs", "show"], "JOB"),
    # --- issue 24: flow train / slmc train refuse before their --out folder exists (absurd sizes included)
    (FT + ["--L", "100000"], "--L: training a flow"),
    (FT + ["--hidden", "1000000000"], "--hidden: training a flow"),
    (FT + ["--batch", "10000000000"], "--batch: training a flow"),
    (FT + ["--layers", "100000000"], "--layers: training a flow"),
    (FT + ["--checkpoint-every", "0"], "--checkpoint-every"),
    (FT + ["--seed", "-1"], "--seed"),
    (FT + ["--hidden", "8,x"], "--hidden"),
    (FT[:-2] + ["--out", "m.json"], "--out: must be a folder"),
    (FT[:-2] + ["--out", "existing.txt"], "--out: exists and is not a folder"),
    (FT[:-2] + ["--out", "no-such-dir/m"], "--out: its parent folder does not exist"),
    (ST + ["--layers", "-1"], "--layers"),
    (ST + ["--heads", "0"], "--heads"),
    (ST + ["--radius", "-1"], "--radius"),
    (ST + ["--shells", "0"], "--shells"),
    (ST + ["--shells", "50"], "--shells"),
    (ST + ["--epochs", "-1"], "--epochs"),
    (ST + ["--lr", "nan"], "--lr"),
    (ST + ["--batch", "0"], "--batch"),
    (ST + ["--init", "no-such-model"], "--init"),
    (ST + ["--init", "existing.txt"], "--init"),
    (ST + ["--model", "cubic"], "--model"),
    (ST + ["--seed", "-1"], "--seed"),
    (ST + ["--L", "100000"], "--L: training on a"),
    (ST + ["--chains", "10000000000"], "--chains: training on a"),
    (ST + ["--heads", "100000000"], "--heads: training on a"),
    (ST[:-2] + ["--out", "m.h5"], "--out: must be a folder"),
    (SH + ["--layers", "-1"], "--layers"),
    (SH + ["--heads", "0"], "--heads"),
    (SH + ["--nf", "3"], "--nf"),
    (SH + ["--L", "5"], "--L"),
    (SH + ["--L", "100000"], "--L"),
    (SH + ["--heads", "100000000"], "--layers/--heads/--hidden"),
    (SH + ["--chains", "10000000000"], "--n/--chains/--rounds"),
    (SH + ["--lr", "nan"], "--lr"),
    (SH + ["--val-fraction", "1"], "--val-fraction"),
    (SH + ["--seed", "-1"], "--seed"),
    (SH[:-2] + ["--out", "m.h5"], "--out: must be a folder"),
    (["flow", "eval", "m", "--n", "10"], "--n"),
    (["flow", "eval", "m", "--seed", "-1"], "--seed"),
    # --- the grammar (docs/cli.md): --out is a folder on every command, options after the COMMAND
    (["schwinger", "adiabatic", "--sites", "4", "--out", "result.json"], "--out: must be a folder"),
    (["schwinger", "adiabatic", "--sites", "4", "--out", "existing.txt"], "--out: exists and is not a folder"),
    (SC[:-2] + ["--out", "scan.json"], "--out: must be a folder"),
    (["demo", "--out", "demo.json"], "--out: must be a folder"),
    (["crosscheck", "heavy-mass", "--out", "cc.csv"], "--out: must be a folder"),
    (["calibrate", "--size", "test", "--out", "c.json"], "--out: must be a folder"),
    (["circuits", "export", "--out", "c.qasm"], "--out: must be a folder"),
    (["--seed", "1", "sample"], "--seed: unrecognized option"),
    (["-q", "sample", "bogus", "--n", "20"], "THEORY"),
]


def _listing(root: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*"))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working directory with one user file, its own QLAT_DATA_DIR (not created) and 8 GiB of
    memory available as far as qlat's size estimates know (so the size refusals are machine-independent)."""
    import qlat.core.resources

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QLAT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(qlat.core.resources, "available_memory", lambda: 8 * 2**30)
    (tmp_path / "existing.txt").write_text("a user's file\n")
    return tmp_path


def _assert_refused(argv, needle, root, capsys):
    before = _listing(root)
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
    assert _listing(root) == before, "a failed command created or altered files"


@pytest.mark.parametrize("argv, needle", CASES, ids=[" ".join(a)[:80] for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(argv, needle, workdir, capsys):
    _assert_refused(argv, needle, workdir, capsys)


def test_the_corpus_is_large_and_covers_every_subcommand():
    from qlat.cli.main import command_modules

    assert len(CASES) >= 100
    covered = {argv[0] for argv, _ in CASES if argv}
    missing = set(command_modules()) - covered
    assert not missing, f"no bad-input case for: {sorted(missing)}"


def test_measure_of_a_file_that_is_not_ours_leaves_it_untouched(tmp_path, capsys):
    victim = tmp_path / "notes.h5"
    victim.write_bytes(b"")
    stamp = os.stat(victim).st_mtime_ns
    assert main(["measure", str(victim)]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err
    assert victim.read_bytes() == b"" and os.stat(victim).st_mtime_ns == stamp


# --- issue 24: files qlat reads back (handed in, edited, damaged or written by another run) ----------------
def _write(name: str, text: str):
    def setup(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return setup


def _store(name: str = "s.sqlite", **columns: str):
    """A job store with one job (ref abcdef…), its columns then overwritten with ``columns`` (raw SQL text)."""
    def setup(root: Path) -> None:
        import sqlite3

        from qlat.core.estimate import Estimate
        from qlat.quantum.ibm.store import JobStore

        store = JobStore(root / name)
        ref = "abcdef" + "0" * 26
        store.record_pending(ref=ref, backend="fake:fake_manila", device="fake_manila", local=True, mode="job",
                             primitive="executor", kind="estimator", params={"shots": 100}, recipe={"kind": "x"},
                             circuit_hash="h")
        store.record_submitted(ref, "runtime-1")
        store.record_results(ref, {"energy": Estimate(-1.0, 0.1, name="energy", unit="g")})
        if columns:
            conn = sqlite3.connect(root / name)
            for column, text in columns.items():
                conn.execute(f"UPDATE jobs SET {column} = ?", (text,))
            conn.commit()
            conn.close()
    return setup


def _scan_folder(manifest: str):
    return _write("scan-out/qlat-run.json", manifest)


_ENSEMBLE: list[bytes] = []


def _ensemble(root: Path) -> None:
    """A small finished ensemble e.h5 (sampled once per session, then copied)."""
    if not _ENSEMBLE:
        assert main(["sample", "u1", "--L", "4", "--beta", "1", "--n", "10", "--chains", "1", "--out", "e",
                     "--seed", "1", "--no-progress", "--json"]) == 0
        _ENSEMBLE.append((root / "e" / "ensemble.h5").read_bytes())
    else:
        (root / "e").mkdir()
        (root / "e" / "ensemble.h5").write_bytes(_ENSEMBLE[0])


_MODELS: dict[str, dict[str, bytes]] = {}


def _model(kind: str, edit=None):
    """A trained model folder ``m`` (flow: u1 4×4; slmc: linear, 2×1 open chain), trained once per session
    and copied; ``edit(card)`` changes its card (a hand-edited or foreign model card)."""
    import json

    def setup(root: Path) -> None:
        if kind not in _MODELS:
            argv = (["flow", "train", "u1", "--L", "4", "--beta", "1", "--steps", "2", "--layers", "2",
                     "--eval-n", "16", "--seed", "1", "--no-progress", "--out", "trained"] if kind == "flow" else
                    ["slmc", "train", "--shape", "2x1", "--boundary", "open", "--J", "1", "--T", "0.2", "--model",
                     "linear", "--n", "4", "--chains", "2", "--thermalize", "2", "--epochs", "2", "--seed", "1",
                     "--no-progress", "--out", "trained"])
            assert main(argv) == 0
            _MODELS[kind] = {p.name: p.read_bytes() for p in (root / "trained").iterdir() if p.is_file()}
            import shutil

            shutil.rmtree(root / "trained")
        (root / "m").mkdir()
        for name, data in _MODELS[kind].items():
            (root / "m" / name).write_bytes(data)
        if edit is not None:
            card_path = root / "m" / ("model.json" if kind == "flow" else "card.json")
            card = json.loads(card_path.read_text())
            edit(card)
            card_path.write_text(json.dumps(card))
    return setup


def _set(path: str, value):
    """An edit of a card: ``path`` ("theory.beta") set to ``value`` (or removed if value is ...)."""
    def edit(card) -> None:
        *parents, last = path.split(".")
        for key in parents:
            card = card[key]
        if value is ...:
            del card[last]
        else:
            card[last] = value
    return edit


FSAMPLE = ["sample", "u1", "--L", "4", "--beta", "1", "--sampler", "flow", "--model", "m", "--n", "20",
           "--no-progress", "--out", "ens"]
DSAMPLE = ["sample", "double-exchange", "--shape", "2x1", "--boundary", "open", "--J", "1", "--T", "0.2",
           "--sampler", "slmc", "--model", "m", "--n", "20", "--no-progress", "--out", "ens"]
CC = SC + ["--cluster", "slurm", "--cluster-config", "cc.json"]
CHECK = ["circuits", "export", "--check", "--out", "c"]
FILE_CASES: list[tuple[object, list[str], str]] = [
    # cluster configs
    (_write("cc.json", '{"bogus_kw": 1}'), CC, "--cluster-config: cc.json: unknown key bogus_kw"),
    (_write("cc.json", '{"queu": "short"}'), CC, "did you mean queue"),
    (_write("cc.json", "[1, 2]"), CC, "--cluster-config: cc.json: must be an object"),
    (_write("cc.json", "{oops"), CC, "--cluster-config: cc.json: not valid JSON"),
    (_write("cc.json", '{"n_workers": "two"}'), CC, "n_workers"),
    (_write("cc.json", '{"n_workers": 0}'), CC, "n_workers"),
    (_write("cc.json/x", ""), CC, "--cluster-config: cc.json: is a folder"),
    # the circuits manifest
    (_write("c/manifest.json", "[1]"), CHECK, "--out: c/manifest.json: must be an object"),
    (_write("c/manifest.json", '{"circuits": [{"bytes": 3, "sha256": "' + "0" * 64 + '"}]}'), CHECK,
     "circuits[0].file: missing"),
    (_write("c/manifest.json", '{"circuits": [{"file": "../existing.txt", "bytes": 3, "sha256": "' + "0" * 64
            + '"}]}'), CHECK, "circuits[0].file: must be a file name without folders"),
    (_write("c/manifest.json", '{"circuits": "all"}'), CHECK, "circuits: must be an array"),
    (_write("c/manifest.json", "\x00\x01"), CHECK, "not valid JSON"),
    # job store rows
    (_store(results='{"energy": 5}'), ["jobs", "show", "abcdef", "--store", "s.sqlite"],
     "--store: s.sqlite: job abcdef000000 results.energy: must be an object"),
    (_store(results='{"energy": 5}'), ["jobs", "fetch", "abcdef", "--store", "s.sqlite"], "results"),
    (_store(results='{"energy": {"value": 1, "colour": "red"}}'), ["jobs", "fetch", "abcdef", "--store", "s.sqlite"],
     "not an Estimate"),
    (_store(results="[garbage"), ["jobs", "list", "--store", "s.sqlite"], "results: not valid JSON"),
    (_store(params="[]"), ["jobs", "list", "--store", "s.sqlite"], "params: must be an object"),
    (_store(status="exploded"), ["jobs", "status", "abcdef", "--store", "s.sqlite"], "status: must be one of"),
    (_store(params='{"isa_circuits": {"circuits": [{"name": "c", "sha256": "x", "qasm3_zlib_b64": "!!"}]}}'),
     ["circuits", "export", "--job", "abcdef", "--out", "out", "--store", "s.sqlite"], "--store"),
    (_write("s.sqlite", "SQLite format 3\x00" + "garbage" * 200), ["jobs", "list", "--store", "s.sqlite"],
     "--store: s.sqlite: is corrupted"),
    # output folders and files that hold something else (conflicting writers)
    (_scan_folder('{"command": "qlat flow train", "params": {}}'), SC, "--out: holds a 'qlat flow train' run"),
    (_scan_folder("[1]"), SC, "not a qlat run manifest"),
    (_write("scan-out/notes.txt", "mine"), SC, "--out: is not empty"),
    (_write("scan-out", "a file"), SC, "--out: exists and is not a folder"),
    (_ensemble, ["sample", "u1", "--L", "4", "--beta", "2", "--n", "10", "--chains", "1", "--out", "e"], "--beta"),
    (_ensemble, ["sample", "u1", "--L", "6", "--beta", "1", "--n", "10", "--chains", "1", "--out", "e"], "--L"),
    (_ensemble, ["sample", "u1", "--L", "4", "--beta", "1", "--n", "10", "--chains", "1", "--out", "e", "--seed", "2"],
     "--seed"),
    (_ensemble, ["measure", "e/ensemble.h5", "--obs", "bogus"], "--obs"),
    (_write("old.h5", "an ensemble of an older qlat"), ["sample", "u1", "--L", "4", "--beta", "1", "--n", "10",
                                                       "--out", "old.h5"], "--out: is a file; --out is a folder now"),
    (_write("empty.h5", ""), ["measure", "empty.h5"], "not an HDF5 file"),
    # issue 24: model cards handed in (flow: MODEL_DIR / --model; slmc: --model / --init), absurd sizes
    (_model("flow", _set("theory.beta", "abc")), ["flow", "eval", "m"],
     "MODEL_DIR: m/model.json: theory.beta: must be"),
    (_model("flow", _set("theory", None)), ["flow", "eval", "m"], "MODEL_DIR: m/model.json: theory: must be an object"),
    (_model("flow", _set("training.config", ...)), ["flow", "eval", "m"], "training.config: missing"),
    (_model("flow", _set("theory.beta", "abc")), FSAMPLE, "model.json: theory.beta: must be"),
    (_model("flow", _set("weights.file", "../existing.txt")), FSAMPLE, "weights.file"),
    (_model("flow", _set("theory.beta", "abc")), FT[:-1] + ["m"], "--out: m/model.json: theory.beta"),
    (_model("flow"), ["flow", "eval", "m", "--n", "100000000000"], "--n: 100000000000 flow samples"),
    (_model("flow"), ["flow", "eval", "m", "--chains", "10000000000"], "--chains:"),
    (_model("flow"), ["sample", "u1", "--L", "8", *FSAMPLE[4:]], "the flow model in"),  # for another lattice
    (_model("flow"), ["flow", "train", "u1", "--L", "4", "--beta", "2", "--steps", "2", "--layers", "2", "--seed",
                      "1", "--out", "m"], "--beta"),
    (_model("flow"), FT[:-2] + ["--layers", "2", "--mix", "4", "--init", "m", "--out", "n"], "--mix"),  # not m's
    (_model("flow"), FT[:-2] + ["--layout", "tree", "--layers", "0", "--init", "m", "--out", "n"], "--layout"),
    (_model("flow"), ["flow", "train", "phi4", "--L", "4", "--m2", "-4", "--lam", "8", "--init", "m", "--out", "n"],
     "--init: holds a flow for u1, not for phi4"),
    (_model("slmc", _set("config", ...)), DSAMPLE, "--model: m/card.json: config: missing"),
    (_model("slmc", _set("theory", None)), DSAMPLE, "--model: m/card.json: theory: must be an object"),
    (_model("slmc", _set("theory.T", "abc")), DSAMPLE, "--model: m/card.json: theory.T: must be"),
    (_model("slmc", _set("config.kind", "cubic")), DSAMPLE, "config.kind"),
    (_model("slmc", _set("config", ...)), ST + ["--init", "m"], "--init: m/card.json: config: missing"),
    (_model("slmc"), DSAMPLE[:3] + ["4x2"] + DSAMPLE[4:], "--model"),  # a model for another lattice: no ens left
    (_model("slmc"), ["slmc", "train", "--shape", "2x1", "--boundary", "open", "--J", "2", "--T", "0.2", "--model",
                      "linear", "--seed", "1", "--out", "m"], "--out: holds a run with other parameters"),
    (_scan_folder('{"command": "qlat schwinger scan", "params": {}}'), ST[:-1] + ["scan-out"],
     "--out: holds a 'qlat schwinger scan' run"),
]


@pytest.mark.parametrize("setup, argv, needle", FILE_CASES, ids=[" ".join(a)[:70] + f" [{n[:20]}]"
                                                                 for _, a, n in FILE_CASES])
def test_malformed_files_and_other_writers_are_one_line_and_untouched(setup, argv, needle, workdir, capsys):
    setup(workdir)
    capsys.readouterr()
    _assert_refused(argv, needle, workdir, capsys)


def test_bad_data_dir_is_named_as_such(workdir, monkeypatch, capsys):
    monkeypatch.setenv("QLAT_DATA_DIR", str(workdir / "existing.txt" / "data"))
    _assert_refused(["jobs", "show", "abcdef"], "QLAT_DATA_DIR: there is no job store", workdir, capsys)
    _assert_refused(["schwinger", "adiabatic", "--sites", "4", "--backend", "fake:fake_manila", "--time", "0.75",
                     "--dt", "0.75", "--shots", "100", "--seed", "1"],
                    "QLAT_DATA_DIR: cannot create the job store's folder", workdir, capsys)


# --- issue 24: read-only commands never create anything ---------------------------------------------------
READ_ONLY = [
    (["jobs", "list"], 0, "no jobs"),
    (["jobs", "list", "--json"], 0, '"jobs": []'),
    (["jobs", "list", "--store", "empty.sqlite"], 0, "no jobs"),
    (["jobs", "show", "abcdef"], 2, ""),
    (["jobs", "status", "abcdef", "--store", "empty.sqlite"], 2, ""),
    (["jobs", "fetch", "abcdef", "--store", "new/s.sqlite"], 2, ""),
    (["circuits", "export", "--job", "abcdef", "--out", "out"], 2, ""),
]


@pytest.mark.parametrize("argv, code, text", READ_ONLY, ids=[" ".join(a) for a, _, _ in READ_ONLY])
def test_read_only_commands_create_nothing(argv, code, text, workdir, capsys):
    (workdir / "empty.sqlite").write_bytes(b"")
    before = _listing(workdir)
    assert main(argv) == code
    captured = capsys.readouterr()
    assert text in captured.out and "Traceback" not in captured.err
    assert _listing(workdir) == before  # no store, no data folder, the empty file left empty


def test_reading_a_store_alters_nothing(workdir, capsys):
    _store()(workdir)
    before = _listing(workdir)
    for argv in (["jobs", "list"], ["jobs", "show", "abcdef"], ["jobs", "status", "abcdef"],
                 ["jobs", "fetch", "abcdef", "--json"]):
        assert main([*argv, "--store", "s.sqlite"]) == 0
    assert "-1.00(10)" not in capsys.readouterr().err
    assert _listing(workdir) == before

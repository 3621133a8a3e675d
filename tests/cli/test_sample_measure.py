"""``qlat sample`` / ``qlat measure``: resume bit for bit, interrupts, corrupted files, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from qlat.cli.main import main
from qlat.core.ensemble import Ensemble

ROOT = Path(__file__).resolve().parents[2]
QLAT = ROOT / ".venv" / "bin" / "qlat"
U1 = ["sample", "u1", "--L", "4", "--beta", "2", "--chains", "2", "--seed", "3", "--thermalize", "5",
      "--no-progress"]
PHI4 = ["sample", "phi4", "--L", "4", "--m2", "-1", "--lam", "2", "--sampler", "metropolis", "--chains", "3",
        "--seed", "5", "--thermalize", "3", "--no-progress"]


def run_json(argv, capsys) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def same_chain(a: Path, b: Path) -> None:
    with Ensemble.open(a) as ea, Ensemble.open(b) as eb:
        assert ea.n_samples == eb.n_samples
        assert np.array_equal(ea.configurations[:], eb.configurations[:])
        assert np.array_equal(ea.acceptance, eb.acceptance)
        assert np.array_equal(ea.delta_h, eb.delta_h, equal_nan=True)
        for k, v in ea.state_arrays.items():
            assert np.array_equal(v, eb.state_arrays[k])


@pytest.mark.parametrize("base", [U1, PHI4], ids=["u1-hmc", "phi4-metropolis"])
def test_resumed_run_is_the_uninterrupted_chain(tmp_path, capsys, base):
    whole, parts = tmp_path / "whole" / "ensemble.h5", tmp_path / "parts" / "ensemble.h5"
    first = run_json([*base, "--n", "24", "--chunk", "7", "--out", str(whole.parent)], capsys)
    run_json([*base, "--n", "10", "--chunk", "4", "--out", str(parts.parent)], capsys)
    again = run_json([*base, "--n", "24", "--chunk", "9", "--out", str(parts.parent)], capsys)
    same_chain(whole, parts)
    assert again["ensemble"]["n_samples"] == 24
    numbers = ("value", "error", "tau_int", "tau_int_error", "n_samples", "unit")
    for name, entry in first.items():
        if name not in ("ensemble", "exact"):
            assert {k: entry[k] for k in numbers} == {k: again[name][k] for k in numbers}
    # the exact references of a 2D U(1) theory are reported beside the Monte Carlo values
    if base is U1:
        assert set(first["exact"]) <= set(first) and first["exact"]["plaquette"]["error"] == 0.0
    # asking for fewer samples than stored samples nothing and reports what is there
    assert run_json([*base, "--n", "5", "--out", str(parts.parent)], capsys)["ensemble"]["n_samples"] == 24


def test_default_observables_are_the_means_of_the_stored_configurations(tmp_path, capsys):
    import torch

    from qlat.core.lattice import Lattice
    from qlat.theories import U1Theory

    path = tmp_path / "u1" / "ensemble.h5"
    out = run_json([*U1, "--n", "20", "--out", str(path.parent)], capsys)
    assert {"plaquette", "q2", "chi_t", "topological_charge", "acceptance"} <= set(out)
    theory = U1Theory(Lattice((4, 4)), beta=2.0)
    with Ensemble.open(path) as ens:
        fields = torch.from_numpy(ens.configurations[:].reshape(-1, *ens.field_shape))
        acc = ens.acceptance
        prov = ens.provenance
    assert prov["command_line"].startswith("qlat sample u1 --L 4 --beta 2.0 --chains 2")
    assert prov["start"] == "hot" and prov["seed"] == 3 and prov["sampler"]["name"] == "hmc"
    q = theory.topological_charge(fields).numpy()
    assert out["plaquette"]["value"] == pytest.approx(theory.mean_plaquette(fields).mean().item(), rel=1e-12)
    assert out["q2"]["value"] == pytest.approx(np.mean(q**2), rel=1e-12)
    assert out["chi_t"]["value"] == pytest.approx(np.mean(q**2) / 16, rel=1e-12)
    assert out["acceptance"]["value"] == pytest.approx(acc.mean(), rel=1e-12)
    for entry in (out["plaquette"], out["q2"]):
        assert entry["error"] > 0 and entry["tau_int"] >= 0.5 and entry["n_samples"] == 40

    path = tmp_path / "phi4" / "ensemble.h5"
    out = run_json([*PHI4, "--n", "20", "--out", str(path.parent)], capsys)
    with Ensemble.open(path) as ens:
        big_m = ens.configurations[:].reshape(20 * 3, -1).sum(axis=1)
    assert out["magnetization"]["value"] == pytest.approx(big_m.mean() / 16, rel=1e-12)
    assert out["chi2"]["value"] == pytest.approx((np.mean(big_m**2) - big_m.mean() ** 2) / 16, rel=1e-10)
    assert out["chi2"]["error"] > 0


def test_u1_beyond_two_dimensions_reports_the_plaquette_only(capsys):
    out = run_json(["sample", "u1", "--L", "3", "--ndim", "3", "--beta", "1", "--n", "6", "--chains", "1",
                    "--thermalize", "0", "--no-progress"], capsys)
    assert set(out) == {"plaquette", "acceptance", "ensemble"}
    assert out["ensemble"]["file"] is None  # no --out: a temporary file, removed


def test_measure_with_skip_and_components(tmp_path, capsys):
    path = tmp_path / "u1" / "ensemble.h5"
    run_json([*U1, "--n", "20", "--out", str(path.parent)], capsys)
    out = run_json(["measure", str(path), "--obs", "plaquette", "wilson_loop", "acceptance", "--skip", "5"], capsys)
    assert out["plaquette"]["n_samples"] == 30 and out["ensemble"]["skip"] == 5
    assert out["wilson_loop[0,0]"]["value"] == pytest.approx(out["plaquette"]["value"], rel=1e-12)
    assert main(["measure", str(path)]) == 0
    table = capsys.readouterr().out
    assert "plaquette" in table and "chi_t" in table


def test_bad_input_gives_exit_code_2(tmp_path, capsys):
    good = tmp_path / "good" / "ensemble.h5"
    run_json([*U1, "--n", "10", "--out", str(good.parent)], capsys)
    bad = [
        (["sample", "u1", "--L", "1", "--beta", "2", "--n", "5"], "--L"),
        (["sample", "u1", "--L", "4", "--beta", "0", "--n", "5"], "--beta"),
        (["sample", "u1", "--L", "4", "--beta", "-1", "--n", "5"], "--beta"),
        (["sample", "u1", "--L", "4", "--n", "5"], "--beta"),
        (["sample", "u1", "--L", "4", "--beta", "2", "--n", "0"], "--n"),
        (["sample", "u1", "--L", "4", "--beta", "2", "--n", "5", "--chains", "0"], "--chains"),
        (["sample", "xy", "--L", "4", "--n", "5"], "THEORY"),
        (["sample", "u1", "--beta", "2", "--n", "5", "--sampler", "gibbs"], "--sampler"),
        (["sample", "phi4", "--m2", "1", "--lam", "1", "--n", "5", "--sampler", "heatbath"], "heatbath"),
        (["sample", "phi4", "--m2", "1", "--lam", "1", "--beta", "2", "--n", "5"], "--beta"),
        (["sample", "phi4", "--m2", "1", "--lam", "-1", "--n", "5"], "lam"),
        (["sample", "u1", "--beta", "2", "--n", "5", "--sampler", "metropolis", "--tau", "1"], "--tau"),
        ([*U1, "--n", "10", "--out", str(good.parent), "--chains", "3"], "--chains"),
        ([*U1, "--n", "10", "--out", str(good.parent), "--tau", "0.5"], "--tau"),
        (["measure", str(good), "--obs", "plaquette", "magnetization"], "plaquette"),
        (["measure", str(good), "--obs", "nonsense"], "known"),
        (["measure", str(good), "--skip", "8"], "--skip"),
        (["measure", str(tmp_path / "missing.h5")], "no such ensemble file"),
    ]
    for argv, word in bad:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("qlat: error:") and err.count("\n") == 1 and word in err, (argv, err)


def test_corrupted_file_is_refused_by_measure_and_sample(tmp_path, capsys):
    path = tmp_path / "u1" / "ensemble.h5"
    run_json([*U1, "--n", "10", "--out", str(path.parent)], capsys)
    with h5py.File(path, "r") as f:
        offset = f["configurations"].id.get_chunk_info(0).byte_offset + 40
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x10]))
    for argv in (["measure", str(path)], [*U1, "--n", "20", "--out", str(path.parent)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "checksum mismatch" in err and err.count("\n") == 1


def _committed(path: Path) -> int:
    """Samples committed by a running writer (read without taking the HDF5 lock)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return int(json.loads(f.attrs["commit"])["n_samples"])
    except (OSError, KeyError, ValueError):
        return 0


def _start(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([str(QLAT), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)


def _wait_for(proc: subprocess.Popen, path: Path, samples: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _committed(path) < samples:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "writer too slow"
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_run_resumes_to_the_uninterrupted_chain(tmp_path, capsys, sig):
    killed, whole = tmp_path / "killed" / "ensemble.h5", tmp_path / "whole" / "ensemble.h5"
    proc = _start([*U1, "--n", "100000", "--chunk", "5", "--out", str(killed.parent)])
    try:
        _wait_for(proc, killed, 15)
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert "interrupted" in err and "rerun the same command to resume" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    with Ensemble.open(killed) as ens:  # valid: checksum verified
        done = ens.n_samples
    assert done >= 15 and done % 5 == 0
    total = done + 7
    run_json([*U1, "--n", str(total), "--chunk", "5", "--out", str(killed.parent)], capsys)
    run_json([*U1, "--n", str(total), "--chunk", "11", "--out", str(whole.parent)], capsys)
    same_chain(killed, whole)


def test_command_line_exit_code_for_bad_input():
    """The installed ``qlat`` script (the successful runs are the subprocesses above)."""
    bad = subprocess.run([str(QLAT), "sample", "u1", "--L", "1", "--beta", "2", "--n", "5"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.startswith("qlat: error: --L") and bad.stdout == ""
    assert "Traceback" not in bad.stderr


def test_sigterm_is_an_interrupt_deferred_while_a_chunk_is_written():
    from qlat.samplers.chains import Interrupts as _Interrupts

    interrupts = _Interrupts()
    before = signal.getsignal(signal.SIGTERM)
    written = []
    with interrupts.installed():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                written.append("chunk")  # the write finishes before the interrupt
    assert written == ["chunk"]
    assert signal.getsignal(signal.SIGTERM) == before


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["hmc", "heatbath"])
def test_u1_run_reproduces_the_exact_values(tmp_path, capsys, sampler):
    """End to end: sample, store, measure; ⟨cos θ_P⟩ and ⟨Q²⟩ at L = 8, β = 2 within 4σ of the exact ones."""
    from qlat.exact import u1_character_expansion as exact

    out = run_json(["sample", "u1", "--L", "8", "--beta", "2", "--sampler", sampler, "--n", "1000",
                    "--chains", "8", "--seed", "17", "--thermalize", "50", "--no-progress",
                    "--out", str(tmp_path / "u1")], capsys)
    for name, value in (("plaquette", exact.mean_plaquette(2.0, 8)), ("q2", exact.topological_q2(2.0, 8)),
                        ("chi_t", exact.topological_susceptibility(2.0, 8))):
        assert abs(out[name]["value"] - value) < 4 * out[name]["error"], (name, out[name], value)


@pytest.mark.slow
def test_free_phi4_run_reproduces_the_exact_susceptibility(tmp_path, capsys):
    from qlat.exact import free_scalar

    out = run_json(["sample", "phi4", "--L", "8", "--m2", "0.5", "--lam", "0", "--n", "1000", "--chains", "8",
                    "--seed", "19", "--thermalize", "50", "--no-progress", "--out", str(tmp_path / "f")], capsys)
    exact = free_scalar.susceptibility((8, 8), 0.5)
    assert abs(out["chi2"]["value"] - exact) < 4 * out["chi2"]["error"], (out["chi2"], exact)
    assert abs(out["magnetization"]["value"]) < 4 * out["magnetization"]["error"]

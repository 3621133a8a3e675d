"""Output folders: exactly one of two writers wins; resume only with the same parameters."""

import multiprocessing as mp
import os

import pytest

from qlat.core.errors import ParameterError
from qlat.core.outdir import LOCK, MANIFEST, claim_output_dir


def test_claim_writes_manifest_and_resumes_with_equal_parameters(tmp_path):
    out = tmp_path / "run"
    with claim_output_dir(out, command="flow train", params={"seed": 1, "L": 8}, flag="--out") as claim:
        assert not claim.resumed and (out / MANIFEST).exists()
        with pytest.raises(ParameterError, match="another qlat process"):
            claim_output_dir(out, command="flow train", params={"seed": 1, "L": 8}, flag="--out")
    again = claim_output_dir(out, command="flow train", params={"L": 8, "seed": 1}, flag="--out")
    assert again.resumed
    again.release()
    with pytest.raises(ParameterError, match=r"--out: holds a run with other parameters \(--seed: stored 1, now 2\)"):
        claim_output_dir(out, command="flow train", params={"seed": 2, "L": 8}, flag="--out", names={"seed": "--seed"})
    with pytest.raises(ParameterError, match="holds a 'flow train' run"):
        claim_output_dir(out, command="slmc train", params={}, flag="--out")


def test_refusals_leave_nothing_behind(tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    before = sorted(os.listdir(foreign))
    with pytest.raises(ParameterError, match="not empty"):
        claim_output_dir(foreign, command="scan", params={}, flag="--out")
    assert sorted(p for p in os.listdir(foreign) if p != LOCK) == before
    with pytest.raises(ParameterError, match="parent folder"):
        claim_output_dir(tmp_path / "a" / "b", command="scan", params={}, flag="--out")
    assert not (tmp_path / "a").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(ParameterError, match="not a folder"):
        claim_output_dir(tmp_path / "file", command="scan", params={}, flag="--out")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ParameterError, match="dangling"):
        claim_output_dir(tmp_path / "dangling", command="scan", params={}, flag="--out")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / MANIFEST).write_text("[1, 2]")
    with pytest.raises(ParameterError, match="not a qlat run manifest"):
        claim_output_dir(bad, command="scan", params={}, flag="--out")


def _race(out, seed, barrier, results):
    barrier.wait()
    try:
        claim = claim_output_dir(out, command="scan", params={"seed": seed}, flag="--out")
        results.put(("won", seed))
        barrier.wait()  # hold the claim until both have tried
        claim.release()
    except ParameterError as exc:
        results.put(("lost", str(exc)))
        barrier.wait()


def test_two_writers_with_different_parameters_exactly_one_wins(tmp_path):
    ctx = mp.get_context("fork")
    for round_ in range(10):
        out = tmp_path / f"race{round_}"
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_race, args=(out, s, barrier, results)) for s in (1, 2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(20)
        outcome = sorted(results.get(timeout=5)[0] for _ in procs)
        assert outcome == ["lost", "won"], outcome

"""Ensemble files: round trip, resumable appends, crash safety and tamper detection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest

from qlat.core.ensemble import Ensemble
from qlat.core.errors import CorruptFileError, ParameterError

FIELD_SHAPE = (2, 4, 4)
CHAINS = 3


@dataclass
class Batch:
    configurations: np.ndarray
    accepted: np.ndarray
    delta_h: np.ndarray


class Theory:
    """Only what Ensemble.create needs: params() and field_shape."""

    field_shape = FIELD_SHAPE

    def params(self):
        return {"name": "u1", "shape": [4, 4], "beta": 2.0}


class Sampler:
    def params(self):
        return {"name": "hmc", "tau": 1.0, "n_steps": 10, "integrator": "leapfrog"}


def make_batch(rng: np.random.Generator, m: int, *, nan_dh: bool = False) -> Batch:
    """HMC-like (accepted bool, ΔH) or, with ``nan_dh``, Metropolis-like (accepted fraction, NaN)."""
    if nan_dh:
        dh, acc = np.full((m, CHAINS), np.nan), rng.random((m, CHAINS))
    else:
        dh, acc = rng.normal(size=(m, CHAINS)), rng.random((m, CHAINS)) < 0.7
    return Batch(rng.normal(size=(m, CHAINS, *FIELD_SHAPE)), acc, dh)


def make_state(rng: np.random.Generator, step: int) -> dict[str, np.ndarray]:
    return {
        "fields": rng.normal(size=(CHAINS, *FIELD_SHAPE)),
        "rng_state": rng.integers(0, 255, size=16, dtype=np.uint8),
        "step_size": np.array(0.1 * step),
        "n_steps_done": np.array(step, dtype=np.int64),
    }


def new_ensemble(path: Path, **extra) -> Ensemble:
    return Ensemble.create(path, theory=Theory(), sampler=Sampler(), chains=CHAINS, seed=11,
                           provenance={"command_line": "qlat sample u1 ...", **extra})


def filled(path: Path, chunks=(4, 7, 5)) -> tuple[list[Batch], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    batches, state = [], {}
    with new_ensemble(path) as ens:
        for i, m in enumerate(chunks):
            batches.append(make_batch(rng, m, nan_dh=(i == 1)))
            state = make_state(rng, i + 1)
            ens.append(batches[-1], state)
    return batches, state


def test_round_trip(tmp_path):
    path = tmp_path / "e.h5"
    batches, state = filled(path)
    with Ensemble.open(path) as ens:
        assert ens.n_samples == 16 and ens.chains == CHAINS and ens.field_shape == FIELD_SHAPE
        configs = np.concatenate([b.configurations for b in batches])
        assert np.array_equal(ens.configurations[:], configs)
        assert np.array_equal(np.asarray(ens.configurations), configs)
        assert np.array_equal(ens.configurations[-1], configs[-1])
        assert np.array_equal(ens.configurations[2:9:3, 1], configs[2:9:3, 1])
        assert len(ens.configurations) == 16 and ens.configurations.shape == configs.shape
        with pytest.raises(IndexError):
            ens.configurations[16]
        assert np.array_equal(ens.acceptance, np.concatenate([b.accepted for b in batches]))
        assert np.array_equal(ens.delta_h, np.concatenate([b.delta_h for b in batches]), equal_nan=True)
        got = ens.state_arrays
        assert set(got) == set(state)
        for k in state:
            assert got[k].dtype == state[k].dtype and np.array_equal(got[k], state[k])
        prov = ens.provenance
        assert prov["theory"] == Theory().params() and prov["sampler"] == Sampler().params()
        assert prov["seed"] == 11 and prov["chains"] == CHAINS
        assert prov["command_line"] == "qlat sample u1 ..."
        assert {"qlat_version", "created_utc"} <= set(prov)
        assert len(ens.checksum) == 64


def test_theory_is_rebuilt_from_params(tmp_path):
    from qlat.core.lattice import Lattice
    from qlat.theories import U1Theory

    theory = U1Theory(Lattice((4, 4)), beta=2.0)
    with Ensemble.create(tmp_path / "t.h5", theory=theory, sampler=Sampler(), chains=2, seed=0) as ens:
        assert ens.field_shape == tuple(theory.field_shape)
        from qlat.samplers.stored import stored_theory

        assert stored_theory(ens) == theory


def test_checksum_does_not_depend_on_the_chunking(tmp_path):
    rng = np.random.default_rng(1)
    batch = make_batch(rng, 300)
    state = make_state(rng, 1)
    sums = []
    for name, cuts in (("a.h5", [0, 300]), ("b.h5", [0, 1, 130, 299, 300])):
        with new_ensemble(tmp_path / name) as ens:
            for lo, hi in zip(cuts[:-1], cuts[1:]):
                part = Batch(batch.configurations[lo:hi], batch.accepted[lo:hi], batch.delta_h[lo:hi])
                ens.append(part, state)
        with h5py.File(tmp_path / name, "r") as f:
            sums.append(json.loads(f.attrs["commit"])["blocks_digest"])
    assert sums[0] == sums[1]


def test_interrupted_append_leaves_the_last_commit(tmp_path):
    """A crash after the rows and the state were written but before the commit."""
    path = tmp_path / "e.h5"
    batches, state = filled(path)
    with h5py.File(path, "r+") as f:
        for name in ("configurations", "accepted", "delta_h"):
            f[name].resize(f[name].shape[0] + 5, axis=0)
            f[name][16:] = 1
        active = json.loads(f.attrs["commit"])["state"]
        inactive = "state_b" if active == "state_a" else "state_a"
        f[inactive]["fields"][()] = 0.0
    with Ensemble.open(path, mode="a") as ens:
        assert ens.n_samples == 16
        assert np.array_equal(ens.state_arrays["fields"], state["fields"])
        more = make_batch(np.random.default_rng(5), 2)
        ens.append(more, make_state(np.random.default_rng(6), 9))
    with Ensemble.open(path) as ens:
        assert ens.n_samples == 18
        assert np.array_equal(ens.configurations[16:], more.configurations)
        assert np.array_equal(ens.configurations[:4], batches[0].configurations)


def _flip_byte(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([b[0] ^ 0x01]))


def _chunk_offset(path: Path, dataset: str) -> int:
    with h5py.File(path, "r") as f:
        return f[dataset].id.get_chunk_info(0).byte_offset


@pytest.mark.parametrize("dataset", ["configurations", "accepted", "delta_h"])
def test_flipped_byte_is_detected(tmp_path, dataset):
    path = tmp_path / "e.h5"
    filled(path)
    _flip_byte(path, _chunk_offset(path, dataset) + 17)
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        Ensemble.open(path)


def test_edited_provenance_is_detected(tmp_path):
    path = tmp_path / "e.h5"
    filled(path)
    with h5py.File(path, "r+") as f:
        prov = json.loads(f.attrs["provenance"])
        prov["theory"]["beta"] = 3.0
        f.attrs["provenance"] = json.dumps(prov, sort_keys=True, separators=(",", ":"))
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        Ensemble.open(path)


def test_edited_state_is_detected(tmp_path):
    path = tmp_path / "e.h5"
    filled(path)
    with h5py.File(path, "r+") as f:
        active = json.loads(f.attrs["commit"])["state"]
        f[active]["step_size"][()] = 0.123
    with pytest.raises(CorruptFileError, match="checksum mismatch"):
        Ensemble.open(path)


def test_truncated_file_is_detected(tmp_path):
    path = tmp_path / "e.h5"
    filled(path)
    size = path.stat().st_size
    for keep in (size // 2, size - 100):
        cut = tmp_path / f"cut{keep}.h5"
        cut.write_bytes(path.read_bytes()[:keep])
        with pytest.raises(CorruptFileError, match="truncated"):
            Ensemble.open(cut)


def test_missing_dataset_and_foreign_files_are_detected(tmp_path):
    path = tmp_path / "e.h5"
    filled(path)
    with h5py.File(path, "r+") as f:
        del f["delta_h"]
    with pytest.raises(CorruptFileError, match="'delta_h' is missing"):
        Ensemble.open(path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(CorruptFileError, match="not a qlat ensemble"):
        Ensemble.open(other)
    text = tmp_path / "text.h5"
    text.write_text("hello\n")
    with pytest.raises(CorruptFileError, match="not an HDF5 file"):
        Ensemble.open(text)
    with pytest.raises(CorruptFileError, match="not an HDF5 file"):
        Ensemble.open(text, mode="a")
    assert text.read_text() == "hello\n"  # never rewritten
    with pytest.raises(CorruptFileError, match="not a qlat ensemble"):
        Ensemble.open(other, mode="a")
    with h5py.File(other, "r") as f:  # a foreign HDF5 file is left as it was
        assert list(f) == ["x"]


def test_bad_use_gives_a_clear_error(tmp_path):
    path = tmp_path / "e.h5"
    filled(path)
    with pytest.raises(ParameterError, match="path"):
        new_ensemble(path)
    with pytest.raises(ParameterError, match="path"):
        Ensemble.open(tmp_path / "missing.h5")
    with pytest.raises(ParameterError, match="mode"):
        Ensemble.open(path, mode="w")
    rng = np.random.default_rng(2)
    with Ensemble.open(path) as ens, pytest.raises(ParameterError, match="read-only"):
        ens.append(make_batch(rng, 2), make_state(rng, 1))
    with Ensemble.open(path, mode="a") as ens:
        bad = make_batch(rng, 2)
        bad.configurations = bad.configurations[:, :2]
        with pytest.raises(ParameterError, match="batch.configurations"):
            ens.append(bad, make_state(rng, 1))
        assert ens.n_samples == 16
    with pytest.raises(ParameterError, match="chains"):
        Ensemble.create(tmp_path / "x.h5", theory=Theory(), sampler=Sampler(), chains=0, seed=1)


WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    sys.path.insert(0, {tests!r})
    from tests.core.test_ensemble import new_ensemble, make_batch, make_state
    from pathlib import Path
    rng = np.random.default_rng(0)
    with new_ensemble(Path({path!r})) as ens:
        for i in range(10_000):
            ens.append(make_batch(rng, 3), make_state(rng, i))
            print(ens.n_samples, flush=True)
            time.sleep(0.01)
    """
)


def test_sigkilled_writer_leaves_a_valid_file(tmp_path):
    path = tmp_path / "killed.h5"
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(tests=root, path=str(path))],
                            stdout=subprocess.PIPE, text=True, cwd=root)
    try:
        for _ in range(5):
            line = proc.stdout.readline()
            assert line, "writer died early"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    with Ensemble.open(path, mode="a") as ens:
        n = ens.n_samples
        assert n >= 15 and n % 3 == 0
        ens.append(make_batch(np.random.default_rng(1), 3), make_state(np.random.default_rng(1), 0))
    with Ensemble.open(path) as ens:
        assert ens.n_samples == n + 3


def test_any_flipped_bit_is_an_error_or_harmless(tmp_path):
    """Flip bits all over the HDF5 metadata and at random places: the file either opens with the
    very same data (the bit was in unused space) or gives CorruptFileError — nothing else."""
    path = tmp_path / "e.h5"
    filled(path)
    with Ensemble.open(path) as ens:
        reference = ens.configurations[:]
    data = path.read_bytes()
    rng = np.random.default_rng(3)
    offsets = np.concatenate([np.arange(0, min(3000, len(data)), 29), rng.choice(len(data), 50, replace=False)])
    outcomes = {"same": 0, "corrupt": 0}
    for offset in offsets:
        damaged = bytearray(data)
        damaged[offset] ^= 1 << int(rng.integers(8))
        target = tmp_path / "damaged.h5"
        target.write_bytes(bytes(damaged))
        try:
            with Ensemble.open(target) as ens:
                assert np.array_equal(ens.configurations[:], reference), offset
            outcomes["same"] += 1
        except CorruptFileError:
            outcomes["corrupt"] += 1
    assert outcomes["corrupt"] > 0

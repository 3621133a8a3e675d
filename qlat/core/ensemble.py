"""Ensembles on disk: configurations, acceptance and ΔH history, chain state and provenance in HDF5.

File layout (format ``qlat-ensemble``, version 1; h5py only, no pickle anywhere)::

    /configurations   float64 (n, chains, *field_shape), chunked, grows along axis 0
    /accepted         float64 (n, chains)        1/0 = HMC trajectory accepted or not; for local
                                                 algorithms the accepted fraction of the sweep
    /delta_h          float64 (n, chains)        ΔH of the HMC trajectory (NaN for Metropolis)
    /state_a, /state_b  groups of plain arrays from ``ChainState.to_arrays()`` (double buffer)
    attrs: format, format_version, provenance (JSON: theory, sampler, seed, chains,
           field_shape, qlat version, creation time, command line, ...), commit (JSON)

The ``commit`` attribute is written last at every append and says what is valid: the number of
samples ``n_samples``, which state group holds the chain state after sample ``n_samples``, and
the checksum.  An append (1) writes the new rows past the committed ones, (2) writes the state
into the *inactive* state group, (3) flushes, (4) rewrites ``commit`` and flushes again.  A
process killed anywhere before (4) leaves the previous commit intact (each flush is followed by
an fsync, so the order also holds on disk): the extra rows and the half
written state group are ignored on reading and cut away by the next append, so a run resumes
from its last finished chunk.  (A kill in the middle of an HDF5 metadata write can still tear the
file; HDF5 has no journal.  That is rare — writes are short next to sampling — and is detected.)

Checksum (tamper-evident, not a signature): with rows hashed in blocks of ``hash_block`` samples,
d₀ = sha256("qlat-ensemble-v1"), d_{k+1} = sha256(d_k ‖ rows of block k) over the complete
blocks, and the checksum = sha256(provenance JSON ‖ n_samples ‖ d_K ‖ remaining rows ‖ state
arrays).  It is verified on :meth:`Ensemble.open`: a truncated file, a flipped byte in the data, an
edited provenance, a missing dataset or a non-qlat HDF5 file raise
:class:`~qlat.core.errors.CorruptFileError` with a message saying which.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from qlat.core.errors import CorruptFileError, ParameterError, QlatError, require, require_int
from qlat.core.provenance import provenance as _base_provenance

FORMAT = "qlat-ensemble"
FORMAT_VERSION = 1
_STATE_GROUPS = ("state_a", "state_b")
_ROW_DATASETS = ("configurations", "accepted", "delta_h")
_TARGET_CHUNK_BYTES = 1 << 20


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def canonical_json(data: Mapping[str, Any]) -> str:
    """JSON with sorted keys and no spaces: the stored and hashed form of parameters."""
    from qlat.core.jsonio import canonical

    return canonical(data)


def _rows_bytes(configs: np.ndarray, accepted: np.ndarray, delta_h: np.ndarray) -> bytes:
    return (
        np.ascontiguousarray(configs, dtype="<f8").tobytes()
        + np.ascontiguousarray(accepted, dtype="<f8").tobytes()
        + np.ascontiguousarray(delta_h, dtype="<f8").tobytes()
    )


def _state_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.digest()


def _block_digest(prev: bytes, rows: bytes) -> bytes:
    return hashlib.sha256(prev + rows).digest()


_D0 = hashlib.sha256(b"qlat-ensemble-v1").digest()


class _Rows:
    """Read-only, lazy view of the committed rows of a dataset (``ens.configurations[a:b]``)."""

    def __init__(self, dataset: Any, n: int) -> None:
        self._ds = dataset
        self._n = n

    @property
    def shape(self) -> tuple[int, ...]:
        return (self._n, *self._ds.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self._ds.dtype

    def __len__(self) -> int:
        return self._n

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self._ds[: self._n]
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        first, rest = (key[0], key[1:]) if isinstance(key, tuple) else (key, ())
        if isinstance(first, slice):
            start, stop, step = first.indices(self._n)
            if step != 1:
                return self._ds[start:stop][(slice(None, None, step), *rest)]
            return self._ds[(slice(start, stop), *rest)]
        if isinstance(first, (int, np.integer)):
            i = int(first) + (self._n if first < 0 else 0)
            if not 0 <= i < self._n:
                raise IndexError(f"sample {first} out of range for {self._n} samples")
            return self._ds[(i, *rest)]
        if first is Ellipsis:
            return self._ds[: self._n][key]
        raise TypeError("index the configurations with an integer or a slice on the first axis")

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self._n):
            yield self._ds[i]


class Ensemble:
    """A Markov-chain ensemble stored in an HDF5 file; use :meth:`create` or :meth:`open`.

    Attributes are read from the file: :attr:`n_samples`, :attr:`chains`, :attr:`field_shape`,
    :attr:`configurations` (lazy, ``(n, chains, *field_shape)``), :attr:`acceptance` and
    :attr:`delta_h` (``(n, chains)`` arrays), :attr:`state_arrays` (the chain state after the
    last sample, as plain arrays), :attr:`provenance`, :attr:`theory_params` and
    :attr:`sampler_params`, :attr:`checksum`.  The file holds parameters and arrays only: the
    theory, sampler and chain state objects are rebuilt by the sampler layer
    (:func:`qlat.samplers.stored.stored_run`).  Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, handle: Any, path: Path, mode: str) -> None:
        self._f = handle
        self.path = path
        self.mode = mode
        self._prov_text: str = ""
        self._prov: dict[str, Any] = {}
        self._commit: dict[str, Any] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        *,
        theory: Any,
        sampler: Any,
        chains: int,
        seed: int,
        field_shape: tuple[int, ...] | None = None,
        provenance: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> "Ensemble":
        """Create a new, empty ensemble file (opened for appending).

        ``theory`` and ``sampler`` are stored by their ``params()`` (JSON) and rebuilt by
        :func:`qlat.samplers.stored.stored_run` through the registries; ``provenance`` adds items (e.g. the
        command line and run options) to the standard record of
        :func:`qlat.core.provenance.provenance`.  An existing file is refused unless
        ``overwrite``.

        Creation is exclusive: the file is written under a unique temporary name in the same
        directory and then hard-linked to ``path``, which fails if ``path`` appeared meanwhile —
        of two processes creating the same file at the same moment exactly one wins, the other
        gets a ``ParameterError`` and nothing it wrote is left behind.
        """
        path = Path(path)
        require_int(chains, "chains", minimum=1)
        require_int(seed, "seed", minimum=0)
        require(overwrite or not path.exists(), "path", "exists already (open it to resume)", str(path))
        shape = tuple(int(s) for s in (field_shape if field_shape is not None else theory.field_shape))
        record = _base_provenance(**dict(provenance or {}))
        record.update(
            theory=dict(theory.params()),
            sampler=dict(sampler.params()),
            seed=int(seed),
            chains=int(chains),
            field_shape=list(shape),
        )
        text = canonical_json(record)
        sample_bytes = 8 * int(chains) * int(np.prod(shape, dtype=np.int64))
        block = int(max(1, min(256, _TARGET_CHUNK_BYTES // max(sample_bytes, 1))))
        import tempfile

        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".qlat-creating", dir=path.parent)
        except OSError as exc:
            raise ParameterError("path", f"cannot create a file there ({exc.strerror or exc})", str(path)) from None
        os.close(fd)
        tmp = Path(tmp_name)
        import h5py

        handle = None
        try:
            cls._write_empty(tmp, text=text, chains=int(chains), shape=shape, block=block)
            # Open (and so lock) the file before it appears under its name: from the first moment
            # another process can see it, HDF5's lock keeps it from opening the file for writing.
            handle = h5py.File(tmp, "r+")
            if overwrite:
                os.replace(tmp, path)  # the file appears complete or not at all
            else:
                try:
                    os.link(tmp, path)  # atomic and exclusive: fails if another writer got there first
                except FileExistsError:
                    raise ParameterError(
                        "path", "was created by another process at the same moment; nothing was written "
                        "(rerun to resume it, or choose another file)", str(path)) from None
        except OSError as exc:
            if handle is not None:
                handle.close()
            raise ParameterError("path", f"cannot write there ({exc.strerror or exc})", str(path)) from None
        except BaseException:
            if handle is not None:
                handle.close()
            raise
        finally:
            tmp.unlink(missing_ok=True)
        return cls._from_handle(handle, path, "a", verify=True)

    @staticmethod
    def _write_empty(tmp: Path, *, text: str, chains: int, shape: tuple[int, ...], block: int) -> None:
        import h5py

        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["provenance"] = text
            f.attrs["hash_block"] = block
            f.create_dataset("configurations", shape=(0, chains, *shape), maxshape=(None, chains, *shape),
                             dtype="<f8", chunks=(block, chains, *shape))
            f.create_dataset("accepted", shape=(0, chains), maxshape=(None, chains), dtype="<f8",
                             chunks=(max(block, 64), chains))
            f.create_dataset("delta_h", shape=(0, chains), maxshape=(None, chains), dtype="<f8",
                             chunks=(max(block, 64), chains))
            for g in _STATE_GROUPS:
                f.create_group(g)
            commit = {"n_samples": 0, "state": None, "blocks_digest": _D0.hex()}
            commit["checksum"] = _checksum(text, commit, b"", {})
            f.attrs["commit"] = canonical_json(commit)

    @classmethod
    def open(cls, path: str | os.PathLike, *, mode: str = "r", verify: bool = True) -> "Ensemble":
        """Open an ensemble for reading (``mode="r"``) or appending (``"a"``), checking it.

        With ``verify`` (the default) every committed byte is re-hashed and compared with the
        stored checksum, which costs one read of the file.

        Raises
        ------
        CorruptFileError
            truncated or non-HDF5 file, not a qlat ensemble, missing dataset, bad checksum.
        ParameterError
            unknown ``mode``, missing file, or a file opened for writing by another process.
        """
        import h5py

        require(mode in ("r", "a"), "mode", "must be 'r' or 'a'", mode)
        path = Path(path)
        require(path.is_file(), "path", "no such ensemble file", str(path))
        if not os.access(path, os.R_OK):
            raise ParameterError("path", "cannot be read (permission denied)", str(path))
        # Never open a file for writing before it is known to be ours: HDF5 would rewrite an empty
        # or foreign file's superblock.  Check the signature and the format attribute read-only.
        if not h5py.is_hdf5(path):
            raise CorruptFileError(f"{path}: not an HDF5 file (qlat never modifies a file it did not write)")
        if mode == "a":
            cls.open(path, mode="r", verify=False).close()  # a foreign HDF5 file fails here, untouched
            if not os.access(path, os.W_OK):
                raise ParameterError("path", "cannot be written (permission denied)", str(path))
        try:
            handle = h5py.File(path, "r+" if mode == "a" else "r")
        except OSError as exc:
            message = str(exc)
            if "lock file" in message.lower():  # HDF5: "unable to lock file, errno = 11"
                raise ParameterError("path", "is open for writing by another process", str(path)) from None
            raise CorruptFileError(
                f"{path}: not a readable HDF5 file (truncated or damaged): {message}"
            ) from None
        return cls._from_handle(handle, path, mode, verify=verify)

    @classmethod
    def _from_handle(cls, handle: Any, path: Path, mode: str, *, verify: bool) -> "Ensemble":
        """The Ensemble on an open h5py handle, header loaded and (optionally) verified."""
        ens = cls(handle, path, mode)
        try:
            ens._load_header()
            if verify:
                ens.verify()
        except QlatError:
            handle.close()
            raise
        except (OSError, KeyError, ValueError, TypeError, AttributeError, RuntimeError) as exc:  # damaged metadata
            handle.close()
            raise CorruptFileError(f"{path}: damaged ensemble file ({type(exc).__name__}: {exc})") from None
        except BaseException:
            handle.close()
            raise
        return ens

    def _corrupt(self, what: str) -> CorruptFileError:
        return CorruptFileError(f"{self.path}: {what}")

    def _load_header(self) -> None:
        f = self._f
        if f.attrs.get("format") != FORMAT:
            raise self._corrupt(f"not a qlat ensemble (HDF5 attribute format={f.attrs.get('format')!r})")
        version = int(f.attrs.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise self._corrupt(f"unsupported ensemble format version {version} (this qlat reads {FORMAT_VERSION})")
        for name in ("provenance", "commit", "hash_block"):
            if name not in f.attrs:
                raise self._corrupt(f"attribute '{name}' is missing")
        for name in (*_ROW_DATASETS, *_STATE_GROUPS):
            if name not in f:
                raise self._corrupt(f"dataset '{name}' is missing")
        try:
            self._prov_text = str(f.attrs["provenance"])
            self._prov = json.loads(self._prov_text)
            self._commit = json.loads(str(f.attrs["commit"]))
            n = int(self._commit["n_samples"])
            chains = int(self._prov["chains"])
            shape = tuple(int(s) for s in self._prov["field_shape"])
        except (ValueError, KeyError, TypeError) as exc:
            raise self._corrupt(f"provenance or commit record is not valid ({exc})") from None
        self._block = int(f.attrs["hash_block"])
        if self._block < 1:
            raise self._corrupt("hash_block must be >= 1")
        expected = {
            "configurations": (chains, *shape),
            "accepted": (chains,),
            "delta_h": (chains,),
        }
        for name, tail in expected.items():
            ds = f[name]
            if tuple(ds.shape[1:]) != tail:
                raise self._corrupt(f"dataset '{name}' has shape {ds.shape}, expected (n, {', '.join(map(str, tail))})")
            if ds.shape[0] < n:
                raise self._corrupt(f"dataset '{name}' holds {ds.shape[0]} samples but {n} were committed (truncated)")
        if self._commit.get("state") not in (None, *_STATE_GROUPS):
            raise self._corrupt(f"commit names an unknown state group {self._commit.get('state')!r}")

    # ------------------------------------------------------------------ checksum
    def _read_rows(self, start: int, stop: int) -> bytes:
        f = self._f
        return _rows_bytes(f["configurations"][start:stop], f["accepted"][start:stop], f["delta_h"][start:stop])

    def _compute_blocks_digest(self, n_blocks: int) -> bytes:
        d = _D0
        for k in range(n_blocks):
            d = _block_digest(d, self._read_rows(k * self._block, (k + 1) * self._block))
        return d

    def verify(self) -> None:
        """Re-hash the committed data and compare with the stored checksum (CorruptFileError if not)."""
        n = self.n_samples
        try:
            n_blocks = n // self._block
            d = self._compute_blocks_digest(n_blocks)
            tail = self._read_rows(n_blocks * self._block, n)
            state = self.state_arrays
        except (OSError, KeyError, ValueError) as exc:
            raise self._corrupt(f"data cannot be read (truncated or damaged): {exc}") from None
        if d.hex() != self._commit.get("blocks_digest"):
            raise self._corrupt("checksum mismatch in the stored samples (configurations, acceptance or ΔH altered)")
        if _checksum(self._prov_text, self._commit, tail, state) != self._commit.get("checksum"):
            raise self._corrupt("checksum mismatch (samples of the last block, provenance, chain state or sample "
                                "count altered)")

    # ------------------------------------------------------------------ appending
    def append(self, batch: Any, state: Any) -> None:
        """Append a :class:`~qlat.samplers.SampleBatch` and the chain state after its last sample.

        ``batch.configurations`` has shape ``(m, chains, *field_shape)``, ``batch.accepted`` and
        ``batch.delta_h`` shape ``(m, chains)``; ``state`` is a ``ChainState`` (anything with
        ``to_arrays()``) or a dict of arrays.  Written crash-safely (module docstring).
        """
        require(self.mode == "a", "mode", "ensemble is open read-only; open it with mode='a' to append", self.mode)
        configs = np.asarray(_to_numpy(batch.configurations), dtype="<f8")
        accepted = np.asarray(_to_numpy(batch.accepted), dtype="<f8")
        delta_h = np.asarray(_to_numpy(batch.delta_h), dtype="<f8")
        m = configs.shape[0] if configs.ndim else 0
        require(m >= 1, "batch", "must hold at least one sample", m)
        chains, shape = self.chains, self.field_shape
        require(configs.shape == (m, chains, *shape), "batch.configurations",
                f"must have shape (m, {chains}, {', '.join(map(str, shape))})", configs.shape)
        require(accepted.shape == (m, chains), "batch.accepted", f"must have shape ({m}, {chains})", accepted.shape)
        require(delta_h.shape == (m, chains), "batch.delta_h", f"must have shape ({m}, {chains})", delta_h.shape)
        arrays = state.to_arrays() if hasattr(state, "to_arrays") else dict(state)
        arrays = {str(k): np.asarray(_to_numpy(v)) for k, v in arrays.items()}
        for k, v in arrays.items():
            require(v.dtype.kind in "biuf", f"state[{k}]", "must be a numeric or boolean array", v.dtype)

        f = self._f
        n = self.n_samples
        # (1) rows past the committed ones (cutting away what an interrupted append left)
        for name, rows in zip(_ROW_DATASETS, (configs, accepted, delta_h)):
            ds = f[name]
            ds.resize(n + m, axis=0)
            ds[n:] = rows
        # (2) state into the inactive group
        active = self._commit.get("state")
        target = _STATE_GROUPS[1] if active == _STATE_GROUPS[0] else _STATE_GROUPS[0]
        group = f[target]
        for k in list(group.keys()):
            if k not in arrays or group[k].shape != arrays[k].shape or group[k].dtype != arrays[k].dtype:
                del group[k]
        for k, v in arrays.items():
            if k in group:
                group[k][()] = v
            else:
                group.create_dataset(k, data=v)
        self._flush()  # (3)
        # (4) the commit: digest of the complete blocks, then the checksum
        old_blocks = n // self._block
        new_total = n + m
        new_blocks = new_total // self._block
        d = bytes.fromhex(self._commit["blocks_digest"])
        for k in range(old_blocks, new_blocks):
            d = _block_digest(d, self._read_rows(k * self._block, (k + 1) * self._block))
        tail = self._read_rows(new_blocks * self._block, new_total)
        commit = {"n_samples": new_total, "state": target, "blocks_digest": d.hex()}
        commit["checksum"] = _checksum(self._prov_text, commit, tail, arrays)
        f.attrs["commit"] = canonical_json(commit)
        self._flush()
        self._commit = commit

    def _flush(self) -> None:
        """HDF5 buffers to the OS, then to the disk (fsync), so the write order survives a crash."""
        self._f.flush()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ reading
    @property
    def n_samples(self) -> int:
        return int(self._commit["n_samples"])

    @property
    def chains(self) -> int:
        return int(self._prov["chains"])

    @property
    def seed(self) -> int:
        return int(self._prov["seed"])

    @property
    def field_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self._prov["field_shape"])

    @property
    def provenance(self) -> dict[str, Any]:
        """The provenance record (a fresh copy; editing it does not change the file)."""
        return json.loads(self._prov_text)

    @property
    def checksum(self) -> str:
        return str(self._commit["checksum"])

    @property
    def theory_params(self) -> dict[str, Any]:
        return dict(self._prov["theory"])

    @property
    def sampler_params(self) -> dict[str, Any]:
        return dict(self._prov["sampler"])

    @property
    def configurations(self) -> _Rows:
        """Lazy ``(n, chains, *field_shape)`` float64 view; slicing reads from disk."""
        return _Rows(self._f["configurations"], self.n_samples)

    @property
    def acceptance(self) -> np.ndarray:
        """``(n, chains)`` float64: 1/0 whether the HMC trajectory behind each sample was accepted,
        or the accepted fraction of the sweep for local algorithms."""
        return self._f["accepted"][: self.n_samples]

    @property
    def delta_h(self) -> np.ndarray:
        """``(n, chains)`` ΔH of each HMC trajectory (NaN for samplers without one)."""
        return self._f["delta_h"][: self.n_samples]

    @property
    def state_arrays(self) -> dict[str, np.ndarray]:
        """The committed chain state as plain arrays (empty before the first append)."""
        name = self._commit.get("state")
        if name is None:
            return {}
        group = self._f[name]
        return {k: np.asarray(group[k][()]) for k in group.keys()}

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        if self._f:
            self._f.close()

    def __enter__(self) -> "Ensemble":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Ensemble({str(self.path)!r}, n_samples={self.n_samples}, chains={self.chains}, "
                f"theory={self._prov.get('theory')}, sampler={self._prov.get('sampler')})")


def _checksum(prov_text: str, commit: Mapping[str, Any], tail: bytes, state: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    h.update(prov_text.encode())
    h.update(f"|n={int(commit['n_samples'])}|state={commit.get('state')}|".encode())
    h.update(bytes.fromhex(str(commit["blocks_digest"])))
    h.update(tail)
    h.update(_state_bytes(state))
    return h.hexdigest()


__all__ = ["FORMAT", "FORMAT_VERSION", "Ensemble", "canonical_json"]

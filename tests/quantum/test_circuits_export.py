"""OpenQASM 3 exports: the committed circuits/ match a fresh export byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qlat._version import __version__
from qlat.cli.main import main
from qlat.core.errors import CorruptFileError
from qlat.quantum.qasm_export import (
    CANONICAL_POINTS,
    EXPORT_SCHEDULE,
    MANIFEST_NAME,
    export_circuits,
    sha256_bytes,
    verify_manifest,
)
from qlat.quantum.statevector import evolve_statevector

REPO_CIRCUITS = Path(__file__).resolve().parents[2] / "circuits"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A fresh export, written through the command line ``qlat circuits export --out``."""
    out = tmp_path_factory.mktemp("circuits")
    assert main(["circuits", "export", "--out", str(out)]) == 0
    return out


def test_committed_circuits_match_fresh_export(fresh):
    manifest = json.loads((fresh / MANIFEST_NAME).read_text())
    names = [e["file"] for e in manifest["circuits"]] + [MANIFEST_NAME, "README.md"]
    assert len(manifest["circuits"]) == len(CANONICAL_POINTS)
    for name in names:
        assert (REPO_CIRCUITS / name).read_bytes() == (fresh / name).read_bytes(), (
            f"circuits/{name} is stale: run `qlat circuits export --out circuits`"
        )


def test_manifest_checksums_and_sizes(fresh):
    assert verify_manifest(REPO_CIRCUITS) == [p.filename for p in CANONICAL_POINTS]
    manifest = json.loads((REPO_CIRCUITS / MANIFEST_NAME).read_text())
    assert manifest["qlat_version"] == __version__
    for entry in manifest["circuits"]:
        data = (REPO_CIRCUITS / entry["file"]).read_bytes()
        assert sha256_bytes(data) == entry["sha256"]
        assert len(data) < 1_000_000
        assert data.startswith(b"OPENQASM 3.0;")
        assert entry["n_steps"] == EXPORT_SCHEDULE.build().n_steps
        assert entry["cnot_count"] == entry["gate_counts"]["two_qubit"] > 0


def test_tampered_file_is_detected(fresh, tmp_path):
    copy = tmp_path / "c"
    shutil.copytree(fresh, copy)
    target = copy / CANONICAL_POINTS[0].filename
    data = bytearray(target.read_bytes())
    data[-3] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=CANONICAL_POINTS[0].filename):
        verify_manifest(copy)


def test_exported_text_prepares_the_same_state(fresh):
    """Parse a file back (qiskit.qasm3.loads) and compare with qlat's statevector evolution."""
    from qiskit import qasm3
    from qiskit.quantum_info import Statevector

    point = CANONICAL_POINTS[1]  # N = 4, θ = π/2
    circuit = qasm3.loads((fresh / point.filename).read_text())
    state = Statevector(circuit).data
    expected = evolve_statevector(point.model(), EXPORT_SCHEDULE.build(), order=point.order)
    assert abs(abs(np.vdot(expected, state)) - 1.0) < 1e-9  # OpenQASM drops the global phase


def test_cli_check_reports_a_stale_directory(fresh, tmp_path, capsys):
    out = tmp_path / "cli"
    shutil.copytree(fresh, out)
    (out / "README.md").write_text("edited by hand\n")
    assert main(["circuits", "export", "--dir", str(out), "--check"]) == 1
    assert "README.md" in capsys.readouterr().err


def test_export_function_matches_cli(fresh, tmp_path):
    point = CANONICAL_POINTS[0]
    manifest = export_circuits(tmp_path, points=[point])
    assert (tmp_path / point.filename).read_bytes() == (fresh / point.filename).read_bytes()
    assert manifest["circuits"][0]["sha256"] == sha256_bytes((fresh / point.filename).read_bytes())

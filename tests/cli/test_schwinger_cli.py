"""The `qlat schwinger` and `qlat demo` commands: JSON contract, agreement with ED, one-line errors."""

import json
import math
import os
import subprocess
import sys

import pytest

from qlat.cli.main import main


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_exact_json_contract_and_energy_is_full_hamiltonian(capsys):
    out = run_json(capsys, ["schwinger", "exact", "--sites", "6", "--spacing", "0.7", "--mass", "0.2",
                            "--theta", "0.4", "--json"])
    for key in ("energy", "condensate", "condensate_subtracted"):
        assert set(out[key]) >= {"value", "error"}
        assert out[key]["error"] == 0.0
    assert out["backend"] == "exact"
    assert out["params"]["n_sites"] == 6 and out["params"]["theta"] == 0.4
    # energy is <H> with the constant included: compare with a dense diagonalization of the full op
    import numpy as np

    from qlat.exact.diagonalization import physical_sector_indices
    from qlat.theories.schwinger_qubit import SchwingerModel

    model = SchwingerModel(6, 0.7, 0.2, 0.4)
    h = model.hamiltonian().to_matrix()
    idx = physical_sector_indices(6)
    e0 = np.linalg.eigvalsh(h[np.ix_(idx, idx)])[0]
    assert abs(out["energy"]["value"] - e0) < 1e-10


def test_adiabatic_json_matches_exact(capsys):
    out = run_json(capsys, ["schwinger", "adiabatic", "--sites", "4", "--spacing", "0.5", "--mass", "0.1",
                            "--theta", "0.3", "--json"])
    assert out["backend"] == "statevector"
    assert out["fidelity"]["value"] > 0.99
    est, exact = out["condensate"], out["exact"]["condensate"]
    total = (est["error"] ** 2 + est["systematic"] ** 2) ** 0.5
    assert est["systematic"] > 0 and set(est["provenance"]["systematic_sources"]) == {"trotter", "adiabatic"}
    assert abs(est["value"] - exact["value"]) <= 2 * total  # the error bar covers the distance to ED
    assert abs(est["value"] - exact["value"]) < 2e-4  # the default schedule's documented accuracy
    assert out["params"]["schedule"]["total_time"] > 0


def test_shot_run_has_shot_noise_error(capsys):
    out = run_json(capsys, ["schwinger", "adiabatic", "--sites", "4", "--time", "4", "--dt", "0.5",
                            "--backend", "aer", "--shots", "500", "--seed", "3", "--json"])
    assert out["backend"] == "aer"
    assert out["condensate"]["error"] > 0
    assert out["condensate"]["n_samples"] == 500


@pytest.mark.parametrize(
    "argv,flag",
    [
        (["schwinger", "exact", "--sites", "7"], "--sites"),
        (["schwinger", "exact", "--sites", "0"], "--sites"),
        (["schwinger", "exact", "--spacing", "-0.5"], "--spacing"),
        (["schwinger", "exact", "--formulation", "axial"], "--formulation"),
        (["schwinger", "adiabatic", "--backend", "qpu9000"], "--backend"),
        (["schwinger", "adiabatic", "--time", "0"], "--time"),
        (["schwinger", "adiabatic", "--time", "1", "--dt", "2"], "--dt"),
        (["schwinger", "adiabatic", "--sites", "40", "--backend", "statevector"], "--sites"),
        (["schwinger", "adiabatic", "--sites", "28", "--backend", "aer"], "--sites"),
        (["schwinger", "adiabatic", "--time", "1e9", "--dt", "1e-9"], "--dt"),
        (["schwinger", "adiabatic", "--time", "1", "--dt", "0.3"], "--dt"),
        (["schwinger", "adiabatic", "--ramp", "cubic"], "--ramp"),
        (["schwinger", "adiabatic", "--backend", "aer", "--noise", "bogus"], "--noise"),
        (["schwinger", "exact", "--coupling", "1e200"], "--coupling"),
        (["schwinger", "scan", "--exact-only", "--out", "/proc/qlat-cannot-write"], "--out"),
        (["demo", "--out", "/proc/qlat-cannot-write"], "--out"),
        (["circuits", "export", "--dir", "/proc/qlat-cannot-write"], "--dir"),
        (["schwinger", "adiabatic", "--backend", "aer", "--shots", "-5"], "--shots"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, flag):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("qlat: error:") and flag in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_exit_code_no_traceback():
    exe = os.path.join(os.path.dirname(sys.executable), "qlat")
    proc = subprocess.run([exe, "schwinger", "exact", "--sites", "5"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "--sites" in proc.stderr


def test_scan_writes_table_json_and_plot(tmp_path, capsys):
    out_dir = tmp_path / "scan"
    out = run_json(capsys, ["schwinger", "scan", "--sites", "12", "--spacing", "0.8", "--mass", "0.05",
                            "--mass-shift", "--thetas", "0", str(math.pi / 2), "--exact-only",
                            "--out", str(out_dir), "--json"])
    assert (out_dir / "scan.png").stat().st_size > 1000
    assert (out_dir / "scan.csv").read_text().count("\n") == 3
    # every physical number in the JSON is an Estimate (exact ED or analytic), with its unit
    assert out["rows"][1]["mpt_delta_energy_density"]["backend"] == "analytic"
    assert out["rows"][1]["bulk_delta_energy_density"]["unit"] == "g^2"
    rows = [{k: (v["value"] if isinstance(v, dict) and "value" in v else v) for k, v in r.items()} for r in out["rows"]]
    assert rows[0]["bulk_delta_energy_density"] == 0.0
    # at θ = π/2 the vacuum energy rises, as in mass perturbation theory, and within O(m) of it
    up, mpt = rows[1]["bulk_delta_energy_density"], rows[1]["mpt_delta_energy_density"]
    assert up > 0 and mpt > 0 and abs(up - mpt) / mpt < 0.1
    # the physical condensate shifts like −Σ(cos θ − 1) (first order in m)
    shift, mpt_shift = rows[1]["bulk_condensate_physical_shift"], rows[1]["mpt_condensate_shift"]
    assert shift > 0 and abs(shift - mpt_shift) / mpt_shift < 0.1

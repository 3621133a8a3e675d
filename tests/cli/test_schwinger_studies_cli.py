"""qlat schwinger spectrum|theta-pi|theta-dependence|string-tension: outputs, reuse of finished chains, dry run."""

from __future__ import annotations

import io
import json

from qlat.cli.main import main


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_spectrum_writes_table_json_plot_and_reuses_chains(tmp_path, capsys, monkeypatch):
    out = tmp_path / "spec"
    argv = ["schwinger", "spectrum", "--method", "ed", "--spacings", "0.5", "0.4", "0.3333333333333333",
            "--sites", "8", "10", "12", "--levels", "3", "--spacing-degree", "1", "--out", str(out)]
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)  # progress lines are drawn on a terminal only
    assert main(argv) == 0
    monkeypatch.undo()
    captured = capsys.readouterr()
    assert "vector_mass" in captured.out and "[9/9]" in terminal.getvalue()
    for name in ("spectrum.txt", "spectrum.json", "spectrum.png", "points.jsonl"):
        assert (out / name).is_file(), name
    data = json.loads((out / "spectrum.json").read_text())
    assert data["study"] == "spectrum" and len(data["rows"]) == 9
    est = data["masses"]["0"]["estimates"]["vector_mass"]
    assert abs(est["value"] - 0.5641895835) < 0.02 and "systematic_sources" in est["provenance"]
    assert main(argv) == 0  # rerun: every chain from points.jsonl
    err = capsys.readouterr().err
    assert "9 chains already in" in err and "[1/9]" not in err


def test_dry_run_lists_the_chains_and_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["schwinger", "theta-pi", "--spacings", "0.5", "--volumes", "10", "20", "--masses", "0.3", "0.35",
                 "--dry-run"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["count"] == 4 and {c["n_sites"] for c in plan["chains"]} == {21, 41}
    assert list(tmp_path.iterdir()) == []

"""docs/cli.md, checked on every registered command: the argparse tree is walked, so a new command
(or action) is held to the grammar without being listed here, except in the sets below that say
which commands draw random numbers or show progress — a command missing from them fails the test.

Help: renders, plain text (no reStructuredText markup), no plug-in prefix twice, every flag
explained.  Seeds: ``--seed`` wherever random numbers are drawn, default drawn at random, printed
and recorded.  Progress: ``--no-progress`` wherever progress is shown, and nothing drawn on a
stderr that is not a terminal.  ``--out``: always a folder (``--out x.h5`` refused, nothing created).
"""

from __future__ import annotations

import argparse
import io
import json
import re
from pathlib import Path

import pytest

from qlat.cli.main import build_parser, main

#: Leaves (command paths) that draw random numbers: each has --seed.
RANDOM = {"sample", "flow train", "flow eval", "slmc train", "slhmc train", "crosscheck", "calibrate", "demo",
          "schwinger adiabatic", "schwinger scan"}
#: Leaves that show progress (bars or progress lines): each has --no-progress.
PROGRESS = {"sample", "flow train", "flow eval", "slmc train", "slhmc train", "crosscheck", "calibrate",
            "schwinger exact", "schwinger adiabatic", "schwinger scan", "schwinger spectrum", "schwinger theta-pi",
            "schwinger theta-dependence", "schwinger string-tension"}
#: Markup that belongs in docstrings, never in --help.
MARKUP = re.compile(r"``|:(func|mod|class|meth|data|attr):`|\*\*")
#: A plug-in prefix written twice ("pf-hmc: pf-hmc: …").
TWICE = re.compile(r"\b([\w-]+(?:/[\w-]+)*): \1: ")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for name, child in _subparsers(parser).items():
        yield from _walk(child, (*path, name))


PARSERS = list(_walk(build_parser()))
LEAVES = {" ".join(path): p for path, p in PARSERS if path and not _subparsers(p)}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


def _help(parser: argparse.ArgumentParser) -> str:
    return parser.format_help()


def test_the_walk_finds_every_command():
    from qlat.cli.main import command_modules

    assert {path[0] for path, _ in PARSERS if path} == set(command_modules())
    assert {"sample", "flow train", "slmc train", "schwinger scan", "circuits export", "jobs show"} <= set(LEAVES)


@pytest.mark.parametrize("path", [" ".join(p) or "qlat" for p, _ in PARSERS])
def test_help_is_plain_text_with_each_prefix_once(path):
    parser = dict((" ".join(p) or "qlat", q) for p, q in PARSERS)[path]
    text = _help(parser)
    assert not MARKUP.search(text), MARKUP.search(text)
    assert not TWICE.search(text), TWICE.search(text)
    for action in parser._actions:  # every flag says what it is
        if action.option_strings and action.help is not argparse.SUPPRESS:
            assert action.help, (path, action.option_strings)


def test_seed_wherever_random_numbers_are_drawn_default_drawn():
    have = {name for name, p in LEAVES.items() if "--seed" in _options(p)}
    assert have == RANDOM
    for name in RANDOM:
        action = _options(LEAVES[name])["--seed"]
        assert action.default is None and "drawn at random" in action.help, name


def test_no_progress_wherever_progress_is_shown():
    have = {name for name, p in LEAVES.items() if "--no-progress" in _options(p)}
    assert have == PROGRESS


def test_out_is_always_a_folder_in_the_help():
    for name, parser in LEAVES.items():
        out = _options(parser).get("--out")
        if out is not None:
            assert out.metavar == "DIR" and out.help.startswith("output folder"), name
    assert "--dir" not in _help(LEAVES["circuits export"])  # the old name works but is not offered


#: A valid command line (short of --out) for every leaf with --out: each refuses `--out x.h5`.
OUT_ARGV = {
    "sample": ["sample", "u1", "--L", "4", "--beta", "1", "--n", "20", "--no-progress"],
    "flow train": ["flow", "train", "u1", "--L", "4", "--beta", "1", "--steps", "2", "--no-progress"],
    "slmc train": ["slmc", "train", "--shape", "2x1", "--J", "1", "--T", "0.1", "--no-progress"],
    "schwinger adiabatic": ["schwinger", "adiabatic", "--sites", "4", "--time", "1", "--dt", "0.5"],
    "schwinger scan": ["schwinger", "scan", "--sites", "4", "--exact-only", "--thetas", "0"],
    "crosscheck": ["crosscheck", "heavy-mass"],
    "calibrate": ["calibrate", "--size", "test"],
    "demo": ["demo"],
    "circuits export": ["circuits", "export"],
    "slhmc train": ["slhmc", "train", "--L", "4", "--beta", "2", "--mass", "0.1", "--no-progress"],
    "schwinger spectrum": ["schwinger", "spectrum"],
    "schwinger theta-pi": ["schwinger", "theta-pi"],
    "schwinger theta-dependence": ["schwinger", "theta-dependence"],
    "schwinger string-tension": ["schwinger", "string-tension"],
}


def test_every_out_flag_is_exercised():
    assert {name for name, p in LEAVES.items() if "--out" in _options(p)} == set(OUT_ARGV)


@pytest.mark.parametrize("name", sorted(OUT_ARGV))
def test_out_with_a_file_name_is_refused_and_nothing_created(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*OUT_ARGV[name], "--out", "result.h5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qlat: error: --out: must be a folder") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


# --- behaviour: seeds printed and recorded, progress only on a terminal, -q --------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


SAMPLE = ["sample", "u1", "--L", "4", "--beta", "1", "--n", "12", "--chains", "1", "--thermalize", "0", "--json"]


def _drawn(err: str) -> int:
    found = re.search(r"--seed not given: drew seed (\d+)", err)
    assert found, err
    return int(found.group(1))


def test_sample_draws_prints_and_records_a_seed(tmp_path, capsys):
    assert main([*SAMPLE, "--no-progress", "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    seed = _drawn(captured.err)
    result = json.loads(captured.out)
    assert result["ensemble"]["seed"] == seed and result["plaquette"]["provenance"]["seed"] == seed
    assert result["ensemble"]["file"] == str(tmp_path / "run" / "ensemble.h5")
    # resumed without --seed: the stored seed, not a new one
    assert main([*SAMPLE[:7], "16", *SAMPLE[8:], "--no-progress", "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    assert f"seed {seed} of the run being resumed" in captured.err
    assert json.loads(captured.out)["ensemble"]["n_samples"] == 16
    # no --out: said where the ensemble went
    assert main([*SAMPLE, "--no-progress", "--seed", "4"]) == 0
    captured = capsys.readouterr()
    assert "no --out" in captured.err and json.loads(captured.out)["ensemble"]["seed"] == 4


def test_a_shot_run_records_the_seed_it_drew(tmp_path, capsys):
    argv = ["schwinger", "adiabatic", "--sites", "4", "--time", "1", "--dt", "0.5", "--backend", "aer", "--shots",
            "64", "--json", "--out", str(tmp_path / "ad")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    seed = _drawn(captured.err)
    result = json.loads(captured.out)
    assert result["params"]["seed"] == seed
    assert json.loads((tmp_path / "ad" / "adiabatic.json").read_text())["params"]["seed"] == seed
    assert '"seed": null' not in captured.out


def test_slmc_train_records_its_seed_and_fits_shells_to_the_lattice(tmp_path, capsys):
    argv = ["slmc", "train", "--shape", "2x1", "--boundary", "open", "--J", "1", "--T", "0.2", "--model", "linear",
            "--n", "4", "--chains", "2", "--thermalize", "2", "--epochs", "2", "--json", "--no-progress",
            "--out", str(tmp_path / "m")]
    assert main(argv) == 0  # no --shells: a 2x1 lattice has one pair distance, and that is what is used
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["seed"] == _drawn(captured.err) and result["config"]["shells"] == 1
    assert json.loads((tmp_path / "m" / "qlat-run.json").read_text())["params"]["seed"] == result["seed"]


def test_quiet_silences_information_not_errors(tmp_path, capsys):
    assert main(["-q", *SAMPLE, "--no-progress"]) == 0
    assert "seed" not in capsys.readouterr().err.replace("qlat: warning", "")
    assert main(["-q", "sample", "bogus", "--n", "20"]) == 2
    assert capsys.readouterr().err.startswith("qlat: error: THEORY")


SCAN = ["schwinger", "scan", "--sites", "4", "--exact-only", "--thetas", "0", "--json"]


@pytest.mark.parametrize("command", ["sample", "scan"])
@pytest.mark.parametrize("terminal, flag, drawn", [(False, [], False), (True, ["--no-progress"], False),
                                                   (True, [], True)],
                         ids=["not-a-terminal", "terminal-no-progress", "terminal"])
def test_progress_only_on_a_terminal(command, terminal, flag, drawn, tmp_path, monkeypatch, capsys):
    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    argv = [*SAMPLE, "--seed", "1"] if command == "sample" else [*SCAN, "--out", str(tmp_path / "s")]
    assert main([*argv, *flag]) == 0
    capsys.readouterr()
    assert ("\r" in err.getvalue() or "it/s" in err.getvalue()) == drawn, repr(err.getvalue()[:300])


def test_per_theory_help_shows_that_theory_and_its_samplers(capsys):
    with pytest.raises(SystemExit):
        main(["sample", "double-exchange", "--help"])
    text = capsys.readouterr().out
    assert "--J" in text and "--beta" not in text and "--m2" not in text
    assert "one of exact-local, slmc" in text
    with pytest.raises(SystemExit):
        main(["sample", "phi4", "--help"])
    text = capsys.readouterr().out
    assert "--lam" in text and "--J " not in text and "--nf" not in text and "pf-hmc" not in text
    with pytest.raises(SystemExit):
        main(["sample", "--help"])  # without a theory: all of them
    text = capsys.readouterr().out
    assert "--J" in text and "--beta" in text


def test_python_dash_m_qlat_is_the_command():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "qlat", "--version"], capture_output=True, text=True, cwd=root,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("qlat ")

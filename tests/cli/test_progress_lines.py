"""Progress bars never swallow or split a line: warnings go above the bar, folded into one line, and an
error is printed only after every bar is cleared (issue 24)."""

from __future__ import annotations

import io
import warnings

import pytest

from qlat.cli.main import main


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so that progress bars are drawn."""

    def isatty(self) -> bool:
        return True


def _screen_lines(text: str) -> list[str]:
    """The non-empty lines a terminal shows for ``text`` (newline, carriage return, tqdm's cursor-up)."""
    rows: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(text):
        if text.startswith("\x1b[A", i):
            row, i = max(0, row - 1), i + 3
            continue
        ch, i = text[i], i + 1
        if ch == "\n":
            row, col = row + 1, 0
        elif ch == "\r":
            col = 0
        else:
            while len(rows) <= row:
                rows.append([])
            line = rows[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = ch
            col += 1
        while len(rows) <= row:
            rows.append([])
    return [shown for shown in ("".join(line).rstrip() for line in rows) if shown]


def test_a_third_party_warning_is_one_line_above_the_bar(monkeypatch):
    from tqdm import tqdm

    from qlat.cli.main import _show_warning

    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    with tqdm(total=3, desc="scan", file=term, leave=False) as bar:
        bar.update(1)
        _show_warning(UserWarning("first line\n  second line\n"), UserWarning, "x.py", 1)
        bar.update(1)
    assert _screen_lines(term.getvalue()) == ["warning (UserWarning): first line second line"]


def test_an_error_is_printed_after_every_bar_is_cleared(monkeypatch, tmp_path):
    """A library bar left open when a refusal propagates (here: inside the scan of one lattice)."""
    from tqdm import tqdm

    import qlat.analysis.schwinger_studies
    from qlat.core.errors import ParameterError

    def failing_point(point):
        bar = tqdm(total=10, desc="inner", file=__import__("sys").stderr, leave=False)
        bar.update(3)
        warnings.warn("a library says\nsomething on two lines", RuntimeWarning, stacklevel=1)
        raise ParameterError("bond_dim", "the lattice refused", 7)

    monkeypatch.setattr(qlat.analysis.schwinger_studies, "scan_point", failing_point)
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    code = main(["schwinger", "scan", "--sites", "4", "--exact-only", "--thetas", "0", "--out", str(tmp_path / "s")])
    assert code == 2
    assert _screen_lines(term.getvalue()) == [  # the bars cleared, each message a line of its own
        "warning (RuntimeWarning): a library says something on two lines",
        "qlat: error: bond_dim: the lattice refused (got 7)"], repr(term.getvalue())


@pytest.mark.parametrize("message", ["two\nlines", "tab\tand  spaces"])
def test_an_error_message_is_one_line(monkeypatch, capsys, message):
    import qlat.cli.measure
    from qlat.core.errors import QlatError

    def refuse(args):
        raise QlatError(message)

    monkeypatch.setattr(qlat.cli.measure, "_measure", refuse)
    assert main(["measure", "x.h5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qlat: error: ") and " ".join(message.split()) in err

"""The parser of the docs tests (tests/docs/blocks.py): what it finds is what the pages mean."""

from __future__ import annotations

from pathlib import Path

from tests.docs.blocks import blocks, code_cells, output_matches

PAGE = '''# A page

<!-- docs-test: slow -->
```python
print(1 + 1)
```

prints

```
2
```

```bash
qlat schwinger exact --sites 4
qlat jobs list   # a comment
```

```text
table
```

## Later

```python
x = 3
```

Some prose here.

And more prose.

Even more, far from the block above.

```
not its output
```

<!-- docs-test: skip (talks to IBM) -->
```console
$ qlat jobs list
ref  job
---  ---
$ head -2 file.qasm
OPENQASM 3.0;
$ qlat jobs status abc123
abc123  done
```
'''


def _page(tmp_path: Path) -> list:
    path = tmp_path / "page.md"
    path.write_text(PAGE)
    return blocks(path)


def test_blocks_marks_and_shown_output(tmp_path):
    found = _page(tmp_path)
    assert [b.language for b in found] == ["python", "bash", "python", "console"]
    py, bash, far, console = found
    assert py.mark == "slow" and py.expected == "2" and py.line == 4 and py.id == "page.md:4"
    assert bash.mark == "" and bash.expected == "table"
    assert far.expected is None, "an output block three paragraphs away is not the block's output"
    assert console.mark == "skip" and console.reason == "talks to IBM"


def test_commands_and_transcripts(tmp_path):
    _, bash, _, console = _page(tmp_path)
    assert bash.commands == ["qlat schwinger exact --sites 4", "qlat jobs list   # a comment"]
    assert bash.transcript == [("qlat schwinger exact --sites 4", None), ("qlat jobs list   # a comment", "table")]
    assert console.commands == ["qlat jobs list", "qlat jobs status abc123"]
    assert console.transcript == [("qlat jobs list", "ref  job\n---  ---"), ("qlat jobs status abc123", "abc123  done")]


def test_output_matching():
    assert output_matches("a\nb  \n", "a\nb\n")
    assert output_matches("job ... done\n", "job 0961939052a9 done\n")
    assert output_matches("x\n...\nz", "x\n1\n2\nz")
    assert not output_matches("-0.2857406571", "-0.28574066")
    assert not output_matches("a\nb", "a\nc")


def test_code_cells_drop_options(tmp_path):
    path = tmp_path / "nb.md"
    path.write_text("---\nfile_format: mystnb\n---\n# T\n\n```{code-cell} ipython3\n:tags: [hide-input]\nx = 1\n```\n\n"
                    "text\n\n```{code-cell} ipython3\n---\ntags: [remove-output]\n---\ny = x + 1\nprint(y)\n```\n")
    assert code_cells(path) == [(6, "x = 1"), (13, "y = x + 1\nprint(y)")]

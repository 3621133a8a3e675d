"""``qlat circuits export``: write the OpenQASM 3 adiabatic circuits and their manifest.

``qlat circuits export --out circuits`` writes one ``.qasm`` file per canonical parameter point
(:data:`qlat.quantum.qasm_export.CANONICAL_POINTS`), ``manifest.json`` (parameters, schedule,
gate counts, depth, sha256, qlat version) and ``README.md``.  ``--check`` instead verifies that
the files in ``--out`` are exactly what a fresh export writes (exit 1 if not).
``qlat circuits export --job REF --out DIR`` writes the ISA circuits that job REF of the job store
submitted (each checked against the sha256 recorded at submission;
:func:`qlat.quantum.ibm.jobs.executed_circuits`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from qlat.core.errors import QlatError

#: Position in ``qlat --help``.
HELP_ORDER = 30
HELP = "OpenQASM 3 exports of the adiabatic circuits"


def register(subparsers: Any) -> None:
    from qlat.cli._common import add_out_flag

    parser = subparsers.add_parser("circuits", help=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    p = actions.add_parser("export", help="write the canonical circuits, manifest.json and README.md")
    add_out_flag(p, "the .qasm files, manifest.json and README.md", default="circuits")
    p.add_argument("--dir", type=Path, dest="old_dir", default=None, help=argparse.SUPPRESS)  # --out's old name
    p.add_argument("--check", action="store_true",
                   help="do not write; verify that --out matches a fresh export byte for byte")
    p.add_argument("--job", default=None,
                   help="export the ISA circuits a device job executed instead (qlat ref or runtime job id, or a "
                        "unique prefix; see qlat jobs list)")
    p.add_argument("--store", default=None, help="with --job: the job store file (default: $QLAT_DATA_DIR/jobs.sqlite)")
    p.set_defaults(func=cmd_export)


def _export_job(args: argparse.Namespace) -> int:
    import binascii
    import zlib

    from qlat.cli._common import ensure_output_dir
    from qlat.cli.jobs import open_store
    from qlat.core.errors import require
    from qlat.core.schema import MalformedFileError
    from qlat.quantum.ibm.jobs import executed_circuits

    require(not args.check, "--check", "applies to the canonical export, not to --job")
    store = open_store(args.store)
    try:
        rec, circuits = executed_circuits(args.job, store=store)
    except (KeyError, TypeError, ValueError, binascii.Error, zlib.error) as exc:
        if isinstance(exc, QlatError):
            raise
        raise MalformedFileError(store.path, f"the stored circuits cannot be decoded ({type(exc).__name__}: {exc})",
                                 flag=store.source, where=f"job {args.job}") from None
    ensure_output_dir(args.out, args.flag)
    for name, text in circuits:
        path = args.out / f"job_{rec.ref[:12]}_{name}.qasm"
        path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"{path}  {len(text.encode())} bytes  (job {rec.ref[:12]} on {rec.backend}, circuit hash "
                         f"{rec.circuit_hash[:16]})\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    args.flag = "--out"
    if args.old_dir is not None:  # the deprecated --dir still works, and errors name it as typed
        args.out, args.flag = args.old_dir, "--dir"
    from qlat.quantum.qasm_export import MANIFEST_NAME, README_NAME, export_circuits, verify_manifest

    if args.job is not None:
        from qlat.cli._common import with_flag_names

        return with_flag_names({"job": "--job"})(_export_job)(args)
    from qlat.core.errors import require

    require(args.store is None, "--store", "applies with --job only")

    if not args.check:
        from qlat.cli._common import ensure_output_dir

        ensure_output_dir(args.out, args.flag)
        manifest = export_circuits(args.out)
        for entry in manifest["circuits"]:
            sys.stdout.write(f"{args.out / entry['file']}  {entry['bytes']} bytes  "
                             f"{entry['cnot_count']} CNOTs  depth {entry['depth']}\n")
        sys.stdout.write(f"{args.out / MANIFEST_NAME}\n")
        return 0
    _check_manifest(args.out, args.flag)
    checked = verify_manifest(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = export_circuits(tmp)
        names = [e["file"] for e in fresh["circuits"]] + [MANIFEST_NAME, README_NAME]
        differ = []
        for name in names:
            mine = args.out / name
            if not mine.is_file() or mine.read_bytes() != (Path(tmp) / name).read_bytes():
                differ.append(name)
    if differ:
        sys.stderr.write(f"qlat: circuits in {args.out} differ from a fresh export: {', '.join(differ)}\n")
        return 1
    sys.stdout.write(f"{len(checked)} circuits in {args.out} match the manifest and a fresh export\n")
    return 0


def _check_manifest(directory: Path, flag: str = "--out") -> None:
    """``--out``'s manifest.json read through the schema check: a hand-edited or foreign manifest
    (a list, an entry without ``file``, a path outside the folder) is one line naming it."""
    from qlat.core.errors import require
    from qlat.core.schema import COUNT, PLAIN_NAME, SHA256, load_json
    from qlat.quantum.qasm_export import MANIFEST_NAME

    require(directory.is_dir(), flag, "is not a folder of exported circuits (write one with qlat circuits export "
            "--out DIR)", str(directory))
    load_json(directory / MANIFEST_NAME, {"circuits": [{"file": PLAIN_NAME, "bytes": COUNT, "sha256": SHA256}]},
              flag=flag)

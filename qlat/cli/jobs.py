"""``qlat jobs list|status|fetch|cancel|show``: the IBM Runtime jobs kept in qlat's job store.

The store is ``$QLAT_DATA_DIR/jobs.sqlite`` (or the user data directory; ``--store`` names a file).
These commands never create a store or its folder (``list`` of a missing store says there is none);
a store this user may only read can be listed and shown.
A job is named by its qlat ref or its runtime job id, or a unique prefix of either (≥ 6
characters).  ``fetch`` prints the job's Estimates, retrieving them from IBM Quantum by id the
first time and from the store afterwards (idempotent).  ``--json`` prints one JSON object.
See :mod:`qlat.quantum.ibm.store`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

#: Position in ``qlat --help``.
HELP_ORDER = 80
HELP = "IBM Quantum jobs in qlat's job store (list, status, fetch, cancel, show)"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("jobs", help=HELP, description="The IBM Runtime jobs kept in qlat's job store "
                                   "($QLAT_DATA_DIR/jobs.sqlite, or --store FILE): list, status, fetch, cancel, "
                                   "show. A job is named by its qlat ref or runtime job id, or a unique prefix of "
                                   "either (>= 6 characters). These commands never create a store.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", default=None, help="job store file (default: $QLAT_DATA_DIR/jobs.sqlite or the "
                       "user data directory)")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    p = actions.add_parser("list", help="all stored jobs, newest first (no network)")
    common(p)
    p.add_argument("--limit", type=int, default=None, help="show at most this many jobs")
    p.set_defaults(func=cmd_list)
    for name, func, text in (
        ("status", cmd_status, "refresh and print a job's status (asks IBM Quantum for service jobs)"),
        ("fetch", cmd_fetch, "print a finished job's Estimates (retrieved once, then from the store)"),
        ("cancel", cmd_cancel, "cancel a queued or running service job"),
        ("show", cmd_show, "print everything stored about a job (no network)"),
    ):
        p = actions.add_parser(name, help=text)
        p.add_argument("job", metavar="JOB", help="qlat ref or runtime job id (or a unique prefix, >= 6 characters)")
        common(p)
        p.set_defaults(func=func)


def _flagged(fn: Any) -> Any:
    from qlat.cli._common import with_flag_names

    # the store names its source itself: --store (open_store), or QLAT_DATA_DIR for the default path
    return with_flag_names({"job": "JOB", "limit": "--limit", "ref": "JOB"})(fn)


def open_store(path: str | None) -> Any:
    """The existing job store (``--store`` or the default one), opened without creating anything."""
    from qlat.quantum.ibm.store import JobStore

    return JobStore(path, create=False, source="--store" if path is not None else None)


def _row(rec: Any) -> list[str]:
    return [rec.ref[:12], (rec.job_id or "-")[:24], rec.backend, rec.kind, str(rec.params.get("mitigation", "")),
            rec.status, rec.created_utc]


def cmd_list(args: argparse.Namespace) -> int:
    return _flagged(_list)(args)


def _list(args: argparse.Namespace) -> int:
    from qlat.cli._common import format_table, print_json
    from qlat.core.errors import require
    from qlat.quantum.ibm.jobs import list_jobs
    from qlat.quantum.ibm.store import MissingStoreError

    require(args.limit is None or args.limit >= 1, "--limit", "must be an integer >= 1", args.limit)
    try:
        store = open_store(args.store)
    except MissingStoreError as exc:
        if args.json:
            print_json({"jobs": []})
        else:
            sys.stdout.write(f"no jobs: {exc.requirement}\n")
        return 0
    records = list_jobs(store=store, limit=args.limit)
    if args.json:
        print_json({"jobs": [r.summary() for r in records]})
        return 0
    if not records:
        sys.stdout.write("no jobs in the store\n")
        return 0
    sys.stdout.write(format_table(["ref", "job id", "backend", "kind", "mitigation", "status", "created (UTC)"],
                                  [_row(r) for r in records]) + "\n")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    return _flagged(_status)(args)


def _status(args: argparse.Namespace) -> int:
    from qlat.cli._common import print_json
    from qlat.quantum.ibm.jobs import job_status

    rec = job_status(args.job, store=open_store(args.store))
    if args.json:
        print_json({**rec.summary(), "error": rec.error})
    else:
        sys.stdout.write(f"{rec.ref}  {rec.job_id or '-'}  {rec.backend}  {rec.status}"
                         + (f"  ({rec.error})" if rec.error else "") + "\n")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    return _flagged(_fetch)(args)


def _fetch(args: argparse.Namespace) -> int:
    from qlat.cli._common import format_table, print_json
    from qlat.quantum.ibm.jobs import fetch_job

    rec, estimates = fetch_job(args.job, store=open_store(args.store))
    if args.json:
        print_json({"ref": rec.ref, "job_id": rec.job_id, "backend": rec.backend, "status": rec.status,
                    "estimates": estimates})
        return 0
    label = next(iter(estimates.values())).backend if estimates else rec.backend
    sys.stdout.write(f"job {rec.ref} ({rec.job_id}) on {label}\n")
    sys.stdout.write(format_table(["observable", "estimate", "unit", "shots"],
                                  [[k, str(e), e.unit, e.n_samples] for k, e in estimates.items()]) + "\n")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    return _flagged(_cancel)(args)


def _cancel(args: argparse.Namespace) -> int:
    from qlat.cli._common import print_json
    from qlat.quantum.ibm.jobs import cancel_job

    rec = cancel_job(args.job, store=open_store(args.store))
    if args.json:
        print_json(rec.summary())
    else:
        sys.stdout.write(f"{rec.ref}  {rec.job_id}  {rec.status}\n")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    return _flagged(_show)(args)


def _show(args: argparse.Namespace) -> int:
    import json

    from qlat.cli._common import print_json
    from qlat.quantum.ibm.jobs import show_job

    rec = show_job(args.job, store=open_store(args.store))
    data = rec.to_dict()
    if args.json:
        print_json(data)
        return 0
    for key in ("ref", "job_id", "backend", "device", "local", "channel", "instance", "mode", "primitive", "kind",
                "status", "error", "circuit_hash", "qlat_version", "created_utc", "submitted_utc", "finished_utc"):
        sys.stdout.write(f"{key:<14s} {data[key]}\n")
    params = dict(data["params"])
    circuits = params.pop("isa_circuits", None)
    sys.stdout.write(f"{'params':<14s} {json.dumps(params, sort_keys=True)}\n")
    if circuits:
        names = ", ".join(c["name"] for c in circuits["circuits"])
        sys.stdout.write(f"{'circuits':<14s} {names} (OpenQASM 3; qlat circuits export --job {rec.ref[:12]} --out DIR)\n")
    if rec.results:
        for k, e in rec.results.items():
            sys.stdout.write(f"  {k:<24s} {e}  [{e.unit}]\n")
    return 0

"""Plain aligned text tables of Estimates and numbers, as the CLI and cross-checks print them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def format_table(headers: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A plain aligned text table (Estimates print as value(error))."""
    body = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    sep = "  ".join("-" * w for w in widths)
    out = [line, sep] + ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join(out)


#: The columns every table of Estimates exports (CSV, DataFrame), in this order.
ESTIMATE_COLUMNS = ("value", "error", "systematic", "total_error", "unit", "backend", "tau_int", "n_samples",
                    "warnings")


def estimate_record(est: Any) -> dict[str, Any]:
    """The exported columns of one Estimate (:data:`ESTIMATE_COLUMNS`); warnings joined by "; "."""
    return {"value": est.value, "error": est.error, "systematic": est.systematic, "total_error": est.total_error,
            "unit": est.unit, "backend": est.backend, "tau_int": est.tau_int, "n_samples": est.n_samples,
            "warnings": "; ".join(est.warnings)}


def records_to_csv(records: list[dict[str, Any]]) -> str:
    """CSV text of flat records (the union of their keys as columns, in first-seen order)."""
    import csv
    import io

    columns: list[str] = []
    for rec in records:
        columns += [k for k in rec if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: ("" if v is None else v) for k, v in rec.items()})
    return buf.getvalue()


def records_to_dataframe(records: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame of flat records (pandas imported on first use)."""
    import pandas as pd

    return pd.DataFrame.from_records(records)


def params_text(params: Mapping[str, Any]) -> str:
    """Parameters for a header line: ``beta=2, shape=8×8`` (the ``name`` left out, shapes joined by ×,
    numbers in their shortest form), instead of a Python dict's repr."""
    parts = []
    for key, value in params.items():
        if key == "name":
            continue
        if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
            text = "×".join(f"{v:g}" for v in value)
        elif isinstance(value, float):
            text = f"{value:g}"
        else:
            text = str(value)
        parts.append(f"{key}={text}")
    return ", ".join(parts)

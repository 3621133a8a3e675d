"""The observables table / JSON that ``qlat sample`` and ``qlat measure`` print for an ensemble."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any


def report(ensemble: Any, names: Sequence[str], *, skip: int = 0, S: float = 2.0, as_json: bool = False,
           file_kept: bool = True) -> dict[str, Any]:
    """Print :func:`qlat.analysis.ensemble_report.ensemble_report` (table or JSON); returns the JSON object."""
    from qlat.analysis.ensemble_report import ensemble_report
    from qlat.cli._common import print_json

    result = ensemble_report(ensemble, names, skip=skip, S=S, file_kept=file_kept)
    payload = result.to_dict()
    if as_json:
        print_json(payload)
    else:
        sys.stdout.write(result.table())
    return payload

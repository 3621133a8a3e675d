r"""Cross-check tables: the same observables estimated by several backends, side by side.

Every entry is an :class:`~qlat.core.estimate.Estimate`; one backend is the reference (exact
diagonalization, an analytic value, or the most precise run).  For each other backend and
observable the table shows the difference to the reference and, when either side has an error,
the z-score (statistical and systematic errors combined, :meth:`Estimate.z_score`)

.. math::
    z = \frac{a - b}{\sqrt{\sigma_a^2 + \sigma_b^2}},

which is what a physicist reads first: |z| ≲ 2 agreement, |z| ≳ 4 a real discrepancy (or a
systematic error the error bar does not contain — finite T, Trotter step, noise).  Estimates of
one observable must share their unit; mixing units is an error, not a silent comparison.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qlat.core.errors import ParameterError, require
from qlat.core.estimate import Estimate


@dataclass
class CrossCheck:
    """Estimates by backend label and observable name, compared with ``reference``.

    >>> cc = CrossCheck(reference="exact")
    >>> cc.add("exact", {"energy": Estimate(-4.35, 0.0, unit="g")})
    >>> cc.add("aer", {"energy": Estimate(-4.33, 0.02, unit="g")})
    >>> round(cc.comparison("aer", "energy")["z"], 2)
    1.0
    """

    reference: str
    entries: dict[str, dict[str, Estimate]] = field(default_factory=dict)

    @classmethod
    def from_backends(
        cls,
        target: Any,
        observables: Sequence[str],
        *,
        backends: Sequence[str],
        reference: str | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> "CrossCheck":
        """Estimate ``observables`` on ``target`` with every registered backend in ``backends``.

        Each backend is found in :data:`qlat.core.registry.BACKENDS` (so a newly registered one
        joins the table without any other change); ``options[name]`` are its options;
        ``reference`` defaults to the first backend.
        """
        from qlat.core.backend import estimate

        require(len(backends) >= 1, "backends", "must name at least one backend", backends)
        check = cls(reference=reference or backends[0])
        for name in backends:
            check.add(name, estimate(target, observables, backend=name, **dict((options or {}).get(name, {}))))
        return check

    def add(self, label: str, estimates: Mapping[str, Estimate]) -> None:
        """Add (or extend) the estimates of backend ``label``; units must match per observable."""
        require(bool(label), "label", "must be a non-empty backend label", label)
        row = self.entries.setdefault(label, {})
        for name, est in estimates.items():
            require(isinstance(est, Estimate), "estimates", f"'{name}' must be an Estimate", type(est).__name__)
            for other_label, other in self.entries.items():
                if name in other and other[name].unit != est.unit:
                    raise ParameterError(
                        "estimates", f"'{name}' from '{label}' is in unit '{est.unit}' but in "
                        f"'{other[name].unit}' from '{other_label}'", est.unit)
            row[name] = est

    @property
    def observables(self) -> list[str]:
        names: list[str] = []
        for row in self.entries.values():
            names += [n for n in row if n not in names]
        return names

    def comparison(self, label: str, name: str) -> dict[str, Any]:
        """Difference and z-score of ``label``'s estimate of ``name`` against the reference."""
        require(label in self.entries, "label", f"unknown; have {', '.join(self.entries)}", label)
        require(self.reference in self.entries, "reference", "has no estimates yet", self.reference)
        est = self.entries[label].get(name)
        ref = self.entries[self.reference].get(name)
        if est is None or ref is None:
            return {"label": label, "observable": name, "value": est, "reference": ref,
                    "difference": None, "z": None}
        diff = est.value - ref.value
        both_exact = est.total_error == 0.0 and ref.total_error == 0.0
        return {"label": label, "observable": name, "value": est, "reference": ref, "difference": diff,
                "z": None if both_exact else est.z_score(ref),
                "warnings": list(dict.fromkeys(est.warnings + ref.warnings))}

    def rows(self, observables: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """One comparison per (non-reference backend, observable)."""
        names = list(observables) if observables is not None else self.observables
        return [self.comparison(label, name) for label in self.entries if label != self.reference
                for name in names]

    def warnings(self) -> list[str]:
        """Every distinct warning carried by an estimate in the table, in order of appearance."""
        return list(dict.fromkeys(w for row in self.entries.values() for est in row.values() for w in est.warnings))

    def table(self, observables: Sequence[str] | None = None) -> str:
        """A text table: observable, each backend's value(error), difference and z vs the reference.

        A cell whose estimate carries a warning (:attr:`Estimate.warnings`: its error bar cannot
        be fully trusted) is marked ``!N``, and so is every z-score it enters; the numbered
        warnings follow the table.
        """
        from qlat.analysis.tables import format_table

        names = list(observables) if observables is not None else self.observables
        labels = [self.reference] + [lab for lab in self.entries if lab != self.reference]
        headers = ["observable"] + [f"{lab}" for lab in labels]
        others = labels[1:]
        for lab in others:
            headers += [f"Δ {lab}", f"z {lab}"]
        notes = self.warnings()

        def mark(messages: Sequence[str]) -> str:
            return "".join(f" !{notes.index(m) + 1}" for m in dict.fromkeys(messages))

        body = []
        for name in names:
            line: list[Any] = [name]
            for lab in labels:
                est = self.entries[lab].get(name)
                line.append("-" if est is None else f"{est}{mark(est.warnings)}")
            for lab in others:
                cmp = self.comparison(lab, name)
                line.append("-" if cmp["difference"] is None else f"{cmp['difference']:+.2e}")
                line.append("-" if cmp["z"] is None else f"{cmp['z']:+.2f}{mark(cmp['warnings'])}")
            body.append(line)
        text = format_table(headers, body)
        if notes:
            text += "\n" + "\n".join(f"!{i + 1} {message}" for i, message in enumerate(notes))
        return text

    def records(self) -> list[dict[str, Any]]:
        """One flat row per (backend, observable): the estimate's columns
        (:data:`~qlat.analysis.tables.ESTIMATE_COLUMNS`), the reference value, Δ and z."""
        from qlat.analysis.tables import estimate_record

        out = []
        for label, row in self.entries.items():
            for name, est in row.items():
                cmp = self.comparison(label, name) if label != self.reference else None
                ref = self.entries[self.reference].get(name) if self.reference in self.entries else None
                out.append({"observable": name, "backend_label": label, **estimate_record(est),
                            "reference": self.reference, "reference_value": None if ref is None else ref.value,
                            "difference": None if cmp is None else cmp["difference"],
                            "z": None if cmp is None else cmp["z"]})
        return out

    def csv_text(self) -> str:
        """The table as CSV: value, error, systematic, unit, backend, Δ and z per row."""
        from qlat.analysis.tables import records_to_csv

        return records_to_csv(self.records())

    def to_dataframe(self) -> Any:
        """The table as a pandas DataFrame (one row per backend and observable)."""
        from qlat.analysis.tables import records_to_dataframe

        return records_to_dataframe(self.records())

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "estimates": {lab: {n: e.to_dict() for n, e in row.items()} for lab, row in self.entries.items()},
            "warnings": self.warnings(),
            "comparisons": [
                {**{k: v for k, v in c.items() if k not in ("value", "reference")},
                 "value": None if c["value"] is None else c["value"].value,
                 "reference_value": None if c["reference"] is None else c["reference"].value}
                for c in self.rows()
            ],
        }

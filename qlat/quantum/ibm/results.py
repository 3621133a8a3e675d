r"""From a primitive result to Estimates, driven by the JSON *recipe* stored with every job.

The recipe is written at submission (:func:`estimator_recipe`, :func:`sampler_recipe`) and is
all that :func:`finalize` needs besides the primitive result, so a job submitted by one process
can be turned into Estimates by another, days later.

- Estimator: component k of the pub is ⟨O_k⟩ = ``data.evs[k]`` with error ``data.stds[k]``
  (the runtime's standard error: shot noise, or the spread over twirling randomizations; after
  ZNE the error of the extrapolated value).
- Sampler: one pub per charge-conserving basis (:mod:`qlat.quantum.ibm.postselect`); each
  component is a constant plus one diagonal operator per basis, estimated from the bit strings
  (all of them, or with ``postselect`` only those with Σ_n Q_n = 0) with σ² = Σ_b s²_b/n_b.
  With ``readout`` two calibration pubs follow (all |0⟩, all |1⟩ on every measured qubit) and
  the counts are corrected with the tensored inverse assignment matrix before post-selection
  (:func:`qlat.quantum.ibm.postselect.estimate_split_readout`).
  With post-selection the result also holds ``discarded_fraction``: the fraction of shots with
  Q ≠ 0 and its binomial error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qlat.core.errors import QlatError
from qlat.core.estimate import Estimate

#: Key of the extra Estimate that post-selection adds.
DISCARDED_KEY = "discarded_fraction"


def estimator_recipe(components: Sequence[Mapping[str, Any]], *, shots: int, label: str,
                     provenance: Mapping[str, Any], zne_noise_factors: Sequence[float] | None = None,
                     reference: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``components``: [{"key", "name", "unit"}] in the order of the pub's observables;
    ``zne_noise_factors``: the folding factors when ZNE is on (:func:`linear_extrapolation`);
    ``reference``: the error split (:mod:`qlat.quantum.ibm.reference`) that :func:`finalize` applies."""
    return {"kind": "estimator", "shots": int(shots), "label": label, "components": [dict(c) for c in components],
            "provenance": dict(provenance),
            "zne_noise_factors": None if zne_noise_factors is None else [float(f) for f in zne_noise_factors],
            "reference": None if reference is None else dict(reference)}


def sampler_recipe(components: Sequence[Mapping[str, Any]], *, bases: Sequence[str], n_qubits: int, shots: int,
                   postselect: bool, label: str, provenance: Mapping[str, Any],
                   reference: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``components``: [{"key", "name", "unit", "split"}] with the split of
    :func:`qlat.quantum.ibm.postselect.split_operator`; ``bases``: the basis of each pub;
    ``reference`` as in :func:`estimator_recipe`."""
    return {"kind": "sampler", "shots": int(shots), "bases": list(bases), "n_qubits": int(n_qubits),
            "postselect": bool(postselect), "label": label, "components": [dict(c) for c in components],
            "provenance": dict(provenance), "reference": None if reference is None else dict(reference)}


def linear_extrapolation(factors: Sequence[float], values: np.ndarray, errors: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    r"""Weighted least-squares line through (λ_i, y_i ± σ_i), evaluated at λ = 0 (ZNE).

    The runtime's own ZNE error is not finite for multi-term observables (its heterogeneous
    per-term fit), so the intercept and its error are computed here from the per-factor values
    and their shot-noise errors: with weights w_i = 1/σ_i², S = Σw, Sx = Σwλ, Sxx = Σwλ²,
    Δ = S·Sxx − Sx², the intercept is (Sxx·Σwy − Sx·Σwλy)/Δ with variance Sxx/Δ.
    """
    lam = np.asarray(factors, dtype=float)
    y = np.asarray(values, dtype=float).reshape(-1, lam.size)
    sig = np.asarray(errors, dtype=float).reshape(-1, lam.size)
    sig = np.where(np.isfinite(sig) & (sig > 0), sig, np.nan)
    fallback = np.nanmax(sig) if np.any(np.isfinite(sig)) else 1.0
    w = 1.0 / np.where(np.isnan(sig), fallback, sig) ** 2
    s0, sx, sxx = w.sum(1), (w * lam).sum(1), (w * lam**2).sum(1)
    delta = s0 * sxx - sx**2
    intercept = (sxx * (w * y).sum(1) - sx * (w * lam * y).sum(1)) / delta
    return intercept, np.sqrt(sxx / delta)


def _estimator_values(data: Any, factors: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray]:
    """(values, standard errors) of one Estimator pub, ZNE-extrapolated by qlat when folded."""
    evs = np.asarray(data.evs, dtype=float).reshape(-1)
    stds = np.asarray(data.stds, dtype=float).reshape(-1)
    if factors and "evs_noise_factors" in data:
        evs, stds = linear_extrapolation(factors, np.asarray(data.evs_noise_factors, dtype=float),
                                         np.asarray(data.ensemble_stds_noise_factors, dtype=float))
    return evs, stds


def _apply_odr(est: Estimate, key: str, odr: Mapping[str, Any], calibration: float, calibration_error: float
               ) -> Estimate:
    """``est`` rescaled by operator decoherence renormalization (:func:`~qlat.quantum.ibm.mitigation.odr_correct`),
    or unchanged with a warning where the calibration has no signal for this observable."""
    from qlat.quantum.ibm.mitigation import ODR_MIN_SIGNAL, odr_correct

    ideal = float(odr["calibration_noiseless"][key])
    mixed = float(odr["mixed"][key])
    scale = float(odr["scale"][key])
    info = {"calibration_value": calibration, "calibration_error": calibration_error, "calibration_noiseless": ideal,
            "raw_value": est.value, "raw_error": est.error,
            "method": "operator decoherence renormalization (arXiv:2308.04481): value rescaled about Tr(O)/2^N by "
                      "(noiseless - mixed)/(measured - mixed) of the all-parameters-zero calibration circuit"}
    if abs(ideal - mixed) < ODR_MIN_SIGNAL * scale or not abs(calibration - mixed) > 3 * calibration_error:
        return est.with_provenance(odr={**info, "applied": False}).with_warning(
            "ODR not applied: the calibration circuit has no signal for this observable (its value is at the "
            "maximally mixed value); the raw value is reported", emit=False)
    value, error, r = odr_correct(est.value, est.error, calibration, calibration_error, ideal=ideal, mixed=mixed)
    from dataclasses import replace

    return replace(est, value=value, error=error, provenance={**est.provenance, "odr": {**info, "applied": True,
                                                                                        "rescale": r}})


def _bits(pub_result: Any, n_qubits: int) -> np.ndarray:
    data = pub_result.data
    names = list(data.keys()) if hasattr(data, "keys") else []
    name = "meas" if "meas" in names else (names[0] if names else None)
    if name is None:
        raise QlatError("the Sampler result has no classical register")
    bits = getattr(data, name).to_bool_array(order="little")
    if bits.ndim != 2 or bits.shape[1] != n_qubits:
        raise QlatError(f"the Sampler result has bit strings of shape {bits.shape}, expected (shots, {n_qubits})")
    return bits


def finalize(recipe: Mapping[str, Any], result: Any, *, extra_provenance: Mapping[str, Any] | None = None
             ) -> dict[str, Estimate]:
    """Estimates from a ``PrimitiveResult`` and the job's recipe, with the error split of the recipe's
    ``reference`` (:func:`qlat.quantum.ibm.reference.split_errors`) when it has one."""
    out = _raw_estimates(recipe, result, extra_provenance=extra_provenance)
    reference = recipe.get("reference")
    if reference:
        from qlat.quantum.ibm.reference import split_errors

        out = split_errors(out, reference, label=str(recipe["label"]))
    return out


def _raw_estimates(recipe: Mapping[str, Any], result: Any, *, extra_provenance: Mapping[str, Any] | None = None
                   ) -> dict[str, Estimate]:
    """The Estimates of the primitive result alone (value, shot-noise error, provenance)."""
    prov = {**recipe.get("provenance", {}), **(extra_provenance or {})}
    label = recipe["label"]
    out: dict[str, Estimate] = {}
    if recipe["kind"] == "estimator":
        factors = recipe.get("zne_noise_factors")
        evs, stds = _estimator_values(result[0].data, factors)
        comps = recipe["components"]
        if evs.size != len(comps):
            raise QlatError(f"the Estimator result has {evs.size} values for {len(comps)} observables")
        odr = recipe.get("odr")
        cal_evs = cal_stds = None
        if odr:
            if len(result) < 2:
                raise QlatError("the ODR job has no calibration result")
            cal_evs, cal_stds = _estimator_values(result[1].data, factors)
        for k, comp in enumerate(comps):
            error = float(stds[k]) if np.isfinite(stds[k]) and stds[k] >= 0 else float("inf")
            est = Estimate(float(evs[k]), error, name=comp["key"], unit=comp["unit"],
                           n_samples=int(recipe["shots"]), backend=label, provenance=prov)
            if odr and cal_evs is not None and cal_stds is not None:
                est = _apply_odr(est, comp["key"], odr, float(cal_evs[k]), float(cal_stds[k]))
            out[comp["key"]] = est
        return out
    if recipe["kind"] != "sampler":
        raise QlatError(f"unknown recipe kind {recipe['kind']!r} in the job store")
    from qlat.quantum.ibm.postselect import (
        assignment_matrices,
        discarded_fraction,
        estimate_split,
        estimate_split_readout,
    )

    bits = {basis: _bits(result[i], int(recipe["n_qubits"])) for i, basis in enumerate(recipe["bases"])}
    post = bool(recipe["postselect"])
    mats_by_basis = None
    readout = recipe.get("readout")
    if readout:
        cal = readout["calibration_qubits"]
        first = len(recipe["bases"])
        mats = assignment_matrices(_bits(result[first], len(cal)), _bits(result[first + 1], len(cal)))
        where = {q: i for i, q in enumerate(cal)}
        mats_by_basis = {basis: mats[[where[q] for q in readout["physical_qubits"][i]]]
                         for i, basis in enumerate(recipe["bases"])}
    for comp in recipe["components"]:
        if mats_by_basis is None:
            mean, err, used = estimate_split(comp["split"], bits, postselect=post)
        else:
            mean, err, used = estimate_split_readout(comp["split"], bits, mats_by_basis, postselect=post)
        out[comp["key"]] = Estimate(mean, err, name=comp["key"], unit=comp["unit"], n_samples=used, backend=label,
                                    provenance=prov)
    p, dp, total = discarded_fraction(bits)
    if post:
        out[DISCARDED_KEY] = Estimate(p, dp, name=DISCARDED_KEY, unit="1", n_samples=total, backend=label,
                                      provenance={**prov, "description": "fraction of shots with total charge != 0, "
                                                  "discarded by Gauss-law post-selection"})
    return out

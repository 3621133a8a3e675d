r"""The error of a device run, split in two: the schedule's and the hardware's.

A device (or fake-device) value ⟨O⟩_dev of the adiabatically prepared vacuum differs from the
ground-state value O_exact for two unrelated reasons (docs/architecture.md, "Device estimates"):

.. math::
    \langle O\rangle_\text{dev} - O_\text{exact}
      = \underbrace{(O_\text{nl} - O_\text{exact})}_{\text{schedule}}
      + \underbrace{(\langle O\rangle_\text{dev} - O_\text{nl})}_{\text{hardware noise}}
      + \text{shot noise},

where O_nl is the value of the *same circuit without noise*.

Noiseless value.  O_nl is computed with qlat's statevector kernel
(:func:`qlat.quantum.statevector.evolve_statevector`) on the logical circuit: the same model,
schedule and Trotter order as the ISA circuit that is submitted.  The kernel applies exactly the
layers of :func:`qlat.quantum.trotter.trotter_plan`, and the ISA circuit is that circuit
transpiled without approximation (``tests/quantum/ibm/test_compile.py`` checks the noiseless ISA
circuit against the kernel to 1e-10), so this *is* the noiseless value of the submitted circuit —
exact, without shot noise, and cheap (N ≤ 26).  Simulating the ISA circuit itself on a noiseless
simulator would add shot noise (or cost a 2^n dense simulation of the device qubits) and give the
same number.

Schedule error (source ``"schedule"``).  For N ≤ 20 the exact ground-state value comes from exact
diagonalization (:func:`qlat.quantum.exact_backend.exact_estimates`) and the source is
|O_nl − O_exact| — a known number, with its sign in the provenance.  For 20 < N ≤ 22 it is the
adiabatic and Trotter estimate of :func:`qlat.quantum.systematics.adiabatic_systematics` (added in
quadrature).  Beyond, it is not known and the Estimate says so with a warning.

Hardware error (source ``"noise"``).  Not derived from O_nl or O_exact (a user with a real device
has O_nl, and could then report O_nl itself): it is the bias predicted by the *white-noise model*
used by operator decoherence renormalization (Farrell et al. arXiv:2308.04481): the noisy state is
ρ ≈ f ρ_ideal + (1 − f) 𝟙/2^N, with f the *estimated error-free fraction* of the circuit,

.. math::
    f = \prod_{\text{gates } g} (1 - \epsilon_g) \prod_{\text{read-out qubits } q} (1 - \epsilon^\text{ro}_q),

from the device's calibration data (the read-out factor is dropped under ``trex`` / ``readout``
mitigation).  Then ⟨O⟩_dev − O_mix = f (O_nl − O_mix) with O_mix = Tr O / 2^N, so the predicted bias is

.. math::
    \delta_\text{noise} = (1/f - 1)\,\bigl|\langle O\rangle_\text{dev} - O_\text{mix}\bigr| .

The identity (constant) part of O carries no noise error: it is exact in every state and enters only
through O_mix.  When f is tiny (a deep circuit: the value is mostly noise) the factor 1/f − 1 blows the
distance |⟨O⟩_dev − O_mix| (mostly shot noise there) up far beyond anything a state can reach; the
bias is then capped by what the non-identity Pauli weights allow.  O_nl is the expectation value in
a state, so it lies in the spectrum of O, within b = Σ_P |c_P| (the non-identity coefficients,
≥ ‖O − O_mix 𝟙‖) of O_mix, hence

.. math::
    \delta_\text{noise} \le \bigl|\langle O\rangle_\text{dev} - O_\text{mix}\bigr| + b ,

a bound that holds whatever the noise (it binds only for f < 1/2, where the run also warns).

It is a model: relaxation pulls towards |0…0⟩, not 𝟙/2^N, and an error on a qubit outside an
observable's light cone does not bias it; its coverage is *measured* on fake devices
(:mod:`qlat.analysis.calibration.devices`).  It is not reduced for ``zne`` or ``postselect``
(which remove part of the bias), so there it errs on the wide side.  Under ``odr`` (operator
decoherence renormalization, which *is* this model's correction) the source is instead
:data:`ODR_RESIDUAL_FRACTION` × |ODR value − raw value|, the non-white remainder, with the
fraction measured on fake devices.

Warnings (stderr and ``provenance["warnings"]``): the estimated error-free fraction is below
:data:`NOISE_DOMINATES_FRACTION` (the model's correction exceeds the measured signal itself: the
value is mostly noise); the value lies within :data:`NEAR_MIXED_FRACTION` of the operator's scale
s = (Σ_P c_P²)^{1/2} (its non-identity Pauli coefficients) from O_mix — there the white-noise model
predicts no bias whatever f, but relaxation and read-out errors, which pull towards other states,
still move the value; the schedule's error is larger than the hardware part (shot noise and noise
estimate together: the run measures the schedule more than the device); the noiseless value or the
schedule error could not be computed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qlat.core.estimate import Estimate

#: Below this estimated error-free fraction the device value is mostly noise: warn.
NOISE_DOMINATES_FRACTION = 0.5
#: A value closer than this fraction of the operator's scale to Tr(O)/2^N is where the white-noise model is blind: warn.
NEAR_MIXED_FRACTION = 0.05
#: What the noiseless value is computed with (provenance).
NOISELESS_METHOD = ("qlat statevector kernel on the logical circuit (same model, schedule and Trotter order as the "
                    "submitted ISA circuit)")
NOISELESS_METHOD_VARIATIONAL = ("qlat's exact zero-charge-sector simulation of the variational ansatz "
                                "(qlat.quantum.variational; the same operators and parameters as the submitted circuit)")
#: After ODR the hardware bias left is taken as this fraction of the ODR correction |ODR value − raw value|:
#: the white-noise part is removed, relaxation and readout (which pull towards other states) are not.
#: Measured on fake Heron devices (benchmarks/bench_hardware_mitigation.py): residual/correction
#: 0.04-0.08 for ODR alone at N = 4, 8 (condensate); 0.15 leaves room for N and device.
ODR_RESIDUAL_FRACTION = 0.15
ODR_NOISE_METHOD = (f"after ODR: {ODR_RESIDUAL_FRACTION:g} x |ODR value - raw value| (the non-white remainder of the "
                    "correction; fraction measured on fake Heron devices, benchmarks/bench_hardware_mitigation.py)")
NOISE_METHOD = ("white-noise model: (1/f - 1)|value - Tr(O)/2^N|, f = estimated error-free fraction "
                "(prod of 1 - gate error and 1 - readout error from the device calibration)")

NOISE_CAP_METHOD = ("spectral cap: |value - Tr(O)/2^N| + sum of |non-identity Pauli coefficients| (the noiseless "
                    "value is a state's, within that sum of Tr(O)/2^N); the white-noise model's (1/f - 1)|value - "
                    "Tr(O)/2^N| was larger")


def mixed_value(operator: Any) -> float:
    """Tr(O)/2^N of a ``SparsePauliOp``: the coefficient of the identity (the maximally mixed value)."""
    paulis = operator.paulis
    identity = ~np.any(paulis.x | paulis.z, axis=1)
    return float(np.real(np.sum(np.asarray(operator.coeffs)[identity])))


def operator_bound(operator: Any) -> float:
    """Σ_P |c_P| over the non-identity Pauli terms of a ``SparsePauliOp``: a bound on ‖O − Tr O/2^N‖, so every
    state's ⟨O⟩ lies within it of Tr(O)/2^N (the cap of the noise error, module docstring)."""
    op = operator.simplify(atol=0.0)
    identity = ~np.any(op.paulis.x | op.paulis.z, axis=1)
    return float(np.sum(np.abs(np.asarray(op.coeffs)[~identity])))


def operator_scale(operator: Any) -> float:
    """(Σ_P |c_P|²)^{1/2} over the non-identity Pauli terms of a ``SparsePauliOp`` (= ‖O − Tr O/2^N‖_HS/2^{N/2})."""
    op = operator.simplify(atol=0.0)
    identity = ~np.any(op.paulis.x | op.paulis.z, axis=1)
    return float(np.sqrt(np.sum(np.abs(np.asarray(op.coeffs)[~identity]) ** 2)))


def noiseless_reference(model: Any, schedule: Any, components: Sequence[tuple[str, str, str, Any]], *,
                        order: int) -> dict[str, Any]:
    """Noiseless values, maximally mixed values and schedule errors of ``components``.

    ``components``: ``[(key, observable name, unit, logical SparsePauliOp)]`` as the device run
    builds them.  Returns a JSON-ready dict (it is stored in the job's recipe, so a job fetched
    later is split the same way)::

        {"keys": {key: {"noiseless": O_nl | None, "mixed": O_mix, "scale": s, "bound": b, "exact": O_exact | None,
                        "schedule": |schedule error| | None, "schedule_signed": O_nl - O_exact | None}},
         "noiseless_method": str | None, "schedule_method": str | None, "warnings": [str, ...]}
    """
    from qlat.exact.diagonalization import ED_ROUTINE_MAX_QUBITS
    from qlat.quantum.ibm.compile import is_variational
    from qlat.quantum.statevector import MAX_QUBITS as STATEVECTOR_MAX_QUBITS

    n = int(model.n_qubits)
    ops = {key: op for key, _, _, op in components}
    keys: dict[str, dict[str, Any]] = {
        key: {"noiseless": None, "mixed": mixed_value(op), "scale": operator_scale(op), "bound": operator_bound(op),
              "exact": None,
              "schedule": None, "schedule_signed": None}
        for key, op in ops.items()}
    out: dict[str, Any] = {"keys": keys, "noiseless_method": None, "schedule_method": None, "warnings": []}
    variational = is_variational(schedule)
    if variational:
        from qlat.quantum.variational import SECTOR_MAX_SITES

        limit = SECTOR_MAX_SITES
    else:
        limit = STATEVECTOR_MAX_QUBITS
    if n > limit:
        out["warnings"].append(f"the noiseless value is not computed at N = {n} (exact simulation limit "
                               f"{limit}): schedule and hardware errors are not split and neither "
                               "is in the error bar")
        return out
    from qlat.quantum.statevector import evolve_statevector, expectation_values

    if variational:
        noiseless = expectation_values(schedule.state(model), ops)
        out["noiseless_method"] = NOISELESS_METHOD_VARIATIONAL
    else:
        noiseless_state = evolve_statevector(model, schedule, order=order)
        noiseless = expectation_values(noiseless_state, ops)
        out["noiseless_method"] = NOISELESS_METHOD
    for key in ops:
        keys[key]["noiseless"] = float(noiseless[key])
    if n <= ED_ROUTINE_MAX_QUBITS:
        from qlat.quantum.exact_backend import exact_estimates

        names = list(dict.fromkeys(name for _, name, _, _ in components))
        exact = exact_estimates(model, observables=names)
        for key in ops:
            signed = float(noiseless[key] - exact[key].value)
            keys[key].update(exact=float(exact[key].value), schedule=abs(signed), schedule_signed=signed)
        out["schedule_method"] = "|noiseless - exact|, exact from exact diagonalization (zero-charge sector)"
        return out
    from qlat.quantum.systematics import adiabatic_systematics, can_estimate

    if not variational and can_estimate(model):
        sources, how = adiabatic_systematics(model, schedule, ops, order=order, state=noiseless_state)
        for key in ops:
            keys[key]["schedule"] = float(math.sqrt(sum(float(v) ** 2 for v in sources[key].values())))
        out["schedule_method"] = ("qlat.quantum.systematics.adiabatic_systematics in quadrature: "
                                  + "; ".join(f"{k}: {v}" for k, v in how.items()))
        return out
    out["warnings"].append(f"the schedule error is not estimated at N = {n} (no exact diagonalization or "
                           "statevector reruns there): it is not in the error bar")
    return out


def error_free_fraction(circuits: Sequence[Any], target: Any, *, readout_qubits: Sequence[Sequence[int]] | None,
                        readout: bool) -> float:
    """The estimated error-free fraction f of the ISA ``circuits`` (module docstring), averaged over them.

    ``readout_qubits[i]``: the physical qubits read out from circuit i (``None``: the qubits each
    circuit measures); ``readout=False`` leaves the read-out errors out (read-out mitigation).
    """
    from qlat.quantum.ibm.compile import gate_error_free_fraction, readout_error_free_fraction

    values = []
    for i, qc in enumerate(circuits):
        f = gate_error_free_fraction(qc, target)
        if readout:
            f *= readout_error_free_fraction(qc, target, qubits=None if readout_qubits is None else readout_qubits[i])
        values.append(f)
    return float(np.mean(values)) if values else 1.0


def split_errors(estimates: Mapping[str, Estimate], reference: Mapping[str, Any], *, label: str,
                 emit: bool = True) -> dict[str, Estimate]:
    """The ``estimates`` with the sources ``"schedule"`` and ``"noise"`` and the split in the provenance.

    ``reference``: the recipe's ``"reference"`` (:func:`noiseless_reference` plus
    ``"error_free_fraction"``, ``"noise_method"``).  Keys it does not know (``discarded_fraction``)
    pass unchanged.  Warnings (module docstring) go into each Estimate and, with ``emit``, once
    each to stderr.
    """
    from qlat.core.errors import warn

    per_key = reference.get("keys", {})
    f = float(reference.get("error_free_fraction", 1.0))
    messages: dict[str, list[str]] = {}
    out: dict[str, Estimate] = {}
    for key, est in estimates.items():
        ref = per_key.get(key)
        if ref is None:
            out[key] = est
            continue
        found: list[str] = list(reference.get("warnings", []))
        odr = est.provenance.get("odr")
        if isinstance(odr, Mapping) and odr.get("applied"):
            # ODR removed the white-noise bias; what is left is the non-white part, a fraction of its correction
            noise = ODR_RESIDUAL_FRACTION * abs(est.value - float(odr["raw_value"]))
            noise_method = ODR_NOISE_METHOD
        else:
            noise = (1.0 / f - 1.0) * abs(est.value - float(ref["mixed"])) if f > 0 else math.inf
            noise_method = reference.get("noise_method", NOISE_METHOD)
        bound = ref.get("bound")  # recipes stored before the cap have none
        if bound is not None and noise > abs(est.value - float(ref["mixed"])) + float(bound):
            noise = abs(est.value - float(ref["mixed"])) + float(bound)
            noise_method = NOISE_CAP_METHOD
        sources = {"noise": noise}
        if ref.get("schedule") is not None:
            sources["schedule"] = float(ref["schedule"])
        prov = {"noiseless_value": ref.get("noiseless"), "noiseless_method": reference.get("noiseless_method"),
                "schedule_error": ref.get("schedule_signed"),
                "schedule_error_method": reference.get("schedule_method"),
                "exact_value": ref.get("exact"), "mixed_value": ref["mixed"], "error_free_fraction": f,
                "noise_error_method": noise_method}
        new = est.with_provenance(**prov).with_systematic(sources)
        if f < NOISE_DOMINATES_FRACTION:
            found.append(f"estimated error-free fraction of the circuit f = {f:.2g} < {NOISE_DOMINATES_FRACTION:g}: "
                         "the device value is dominated by noise and its noise error is a rough model estimate")
        scale = ref.get("scale")
        if f < 1.0 and scale and abs(est.value - float(ref["mixed"])) < NEAR_MIXED_FRACTION * float(scale):
            found.append(f"the device value is within {NEAR_MIXED_FRACTION:.0%} of the operator's scale ({float(scale):.3g}) "
                         "of the maximally mixed value Tr(O)/2^N, where the white-noise model predicts no bias: the "
                         "noise error is not reliable")
        hardware = math.hypot(est.error, noise)
        if ref.get("schedule") is not None and float(ref["schedule"]) > hardware:
            found.append("the schedule's error (noiseless circuit vs exact) dominates the hardware's (shot noise and "
                         "noise estimate): this run measures the adiabatic schedule more than the device; use a "
                         "longer schedule (--time) or read the noiseless value")
        for message in found:
            new = new.with_warning(message, emit=False)
            messages.setdefault(message, []).append(key)
        out[key] = new
    if emit:
        for message, keys in messages.items():
            warn(f"{label} {', '.join(keys)}: {message}", stacklevel=2)
    return out

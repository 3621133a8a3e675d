r"""Error mitigation by name, mapped onto the runtime primitives' options.

============== =========================================================================  ===========
name           what it does                                                                primitive
============== =========================================================================  ===========
``none``       nothing (``resilience_level = 0``)                                          both
``trex``       twirled readout error extinction (van den Berg et al. arXiv:2012.09738):    Estimator
               measurement twirling plus a calibration of the readout flip rates
``zne``        zero-noise extrapolation by gate folding, noise factors (1, 3, 5),          Estimator
               *linear* extrapolation (the runtime's default exponential fit is unstable
               on small circuits); Temme et al. arXiv:1612.02058
``dd``         dynamical decoupling (XX sequence) on idle qubits                            both
``twirling``   Pauli twirling of the two-qubit gates (arXiv:1512.01098)                    both
``postselect`` qlat's Gauss-law post-selection of Sampler bit strings on Σ_n Q_n = 0        Sampler
               (:mod:`qlat.quantum.ibm.postselect`), discarded fraction reported
``readout``    qlat's readout correction of Sampler counts: tensored inverse of             Sampler
               per-qubit assignment matrices calibrated in the same job (all-``|0⟩``
               and all-``|1⟩`` circuits); combines with ``postselect`` (correct, then
               post-select)
``odr``        operator decoherence renormalization (Farrell et al. arXiv:2308.04481):      Estimator
               the same ISA circuit with every variational parameter 0 (noiselessly the
               bare vacuum, known exactly at any N) runs in the same job; each
               observable is rescaled about its maximally mixed value by the
               calibration's noiseless/measured ratio (:func:`odr_correct`);
               variational preparations only
               (:class:`qlat.quantum.variational.ScalableAnsatz`)
============== =========================================================================  ===========

Names combine with ``+`` or ``,`` (``"trex+zne"``, ``"postselect,readout"``).  ``postselect`` and
``readout`` select the Sampler; ``trex`` / ``zne`` the Estimator; asking for both is an error
(they live on different primitives).

Primitives.  ``primitive="executor"`` (the default) uses the runtime's currently recommended,
client-side primitives ``qiskit_ibm_runtime.executor_estimator.Estimator`` /
``qiskit_ibm_runtime.executor_sampler.Sampler`` (their pre- and post-processing — twirling,
folding, TREX rescaling, ZNE — runs on this machine, and therefore also in local testing mode).
``primitive="v2"`` uses the legacy server-side ``qiskit_ibm_runtime.EstimatorV2`` /
``SamplerV2`` (deprecated since qiskit-ibm-runtime 0.50); in local testing mode the legacy
primitives *ignore* the mitigation options, which the provenance then says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qlat.core.errors import ParameterError

MITIGATIONS: tuple[str, ...] = ("none", "trex", "zne", "dd", "twirling", "postselect", "readout", "odr")
#: Names that need the Sampler (qlat post-processes its bit strings).
SAMPLER_ONLY = frozenset({"postselect", "readout"})
PRIMITIVES: tuple[str, ...] = ("executor", "v2")
#: ZNE settings used for ``zne`` (module docstring).
ZNE_NOISE_FACTORS: tuple[float, ...] = (1.0, 3.0, 5.0)
ZNE_EXTRAPOLATOR = "linear"
#: How the ZNE value is extrapolated (qlat fits it from the per-factor values: results.linear_extrapolation).
ZNE_METHOD = ("weighted least-squares line through the values at noise factors 1, 3, 5 (gate folding), evaluated "
              "at 0")
#: ODR is applied to an observable only if its calibration value is at least this fraction of the
#: operator's scale away from the maximally mixed value (noiselessly) and 3 standard errors (measured).
ODR_MIN_SIGNAL = 0.05


def odr_correct(raw: float, raw_error: float, calibration: float, calibration_error: float, *, ideal: float,
                mixed: float) -> tuple[float, float, float]:
    r"""Operator decoherence renormalization of one expectation value.

    Under a depolarizing (white-noise) channel every observable shrinks towards its maximally
    mixed value O_mix = Tr O/2^N by the same factor, ⟨O⟩ − O_mix = (1 − η)(O_ideal − O_mix); the
    calibration circuit (noiseless value C_ideal, measured C) gives 1 − η, so

    .. math::
        O_\text{ODR} = O_\text{mix} + (O - O_\text{mix})\,r, \qquad
        r = \frac{C_\text{ideal} - O_\text{mix}}{C - O_\text{mix}},

    with σ² = (rσ_O)² + ((O − O_mix) r σ_C/(C − O_mix))².  Returns ``(value, error, r)``.
    """
    denominator = calibration - mixed
    if denominator == 0.0:
        raise ParameterError("calibration", "equals the maximally mixed value: ODR has no signal", calibration)
    r = (ideal - mixed) / denominator
    value = mixed + (raw - mixed) * r
    error = float(np.hypot(r * raw_error, (raw - mixed) * r * calibration_error / denominator))
    return float(value), error, float(r)


@dataclass(frozen=True)
class Mitigation:
    """A parsed set of mitigation names (sorted, ``none`` dropped)."""

    names: tuple[str, ...]

    @property
    def label(self) -> str:
        """``"none"`` or the names joined by ``+`` (what Estimate labels and provenance show)."""
        return "+".join(self.names) if self.names else "none"

    @property
    def kind(self) -> str:
        """The primitive these names need: ``"sampler"`` for post-selection / readout, else ``"estimator"``."""
        return "sampler" if SAMPLER_ONLY & set(self.names) else "estimator"

    @property
    def postselect(self) -> bool:
        return "postselect" in self.names

    def __contains__(self, name: object) -> bool:
        return name in self.names


def parse_mitigation(spec: str | Iterable[str] | Mitigation | None, *, parameter: str = "mitigation") -> Mitigation:
    """``"trex+zne"`` / ``["trex", "zne"]`` / ``None`` → :class:`Mitigation` (names validated)."""
    if isinstance(spec, Mitigation):
        return spec
    if spec is None:
        items: list[str] = []
    elif isinstance(spec, str):
        items = [s.strip().lower() for s in spec.replace(",", "+").split("+")]
    else:
        items = [str(s).strip().lower() for s in spec]
    items = [s for s in items if s]
    for name in items:
        if name not in MITIGATIONS:
            raise ParameterError(parameter, f"unknown mitigation; use {', '.join(MITIGATIONS)} (joined with +)", name)
    names = tuple(sorted(set(items) - {"none"}))
    if (SAMPLER_ONLY & set(names)) and ({"trex", "zne", "odr"} & set(names)):
        raise ParameterError(parameter, "postselect/readout run on the Sampler, trex/zne/odr on the Estimator: choose "
                             "one side (run twice to compare)", "+".join(names))
    return Mitigation(names)


def check_primitive(primitive: str) -> str:
    if primitive not in PRIMITIVES:
        raise ParameterError("primitive", f"must be one of {', '.join(PRIMITIVES)} (executor: the runtime's "
                             "recommended client-side primitives; v2: the legacy EstimatorV2/SamplerV2)", primitive)
    return primitive


def estimator_options(mitigation: Mitigation, *, shots: int, seed: int | None, primitive: str, tags: list[str]) -> Any:
    """Options for the Estimator of ``primitive`` that realize ``mitigation`` (and ``shots``, ``seed``)."""
    check_primitive(primitive)
    if primitive == "executor":
        from qiskit_ibm_runtime.options_models import EstimatorOptions

        opts: Any = EstimatorOptions()
    else:
        from qiskit_ibm_runtime.options import EstimatorOptions as LegacyEstimatorOptions

        opts = LegacyEstimatorOptions()
    opts.resilience_level = 0
    opts.default_shots = int(shots)
    opts.resilience.measure_mitigation = "trex" in mitigation
    opts.resilience.zne_mitigation = "zne" in mitigation
    if "zne" in mitigation:
        opts.resilience.zne.noise_factors = ZNE_NOISE_FACTORS
        opts.resilience.zne.extrapolator = ZNE_EXTRAPOLATOR
    opts.twirling.enable_gates = "twirling" in mitigation
    opts.twirling.enable_measure = "trex" in mitigation or "twirling" in mitigation
    opts.dynamical_decoupling.enable = "dd" in mitigation
    if seed is not None:
        opts.simulator.seed_simulator = int(seed)
    opts.environment.job_tags = list(tags)
    return opts


def sampler_options(mitigation: Mitigation, *, shots: int, seed: int | None, primitive: str, tags: list[str]) -> Any:
    """Options for the Sampler of ``primitive`` (twirling and DD; post-selection is done by qlat)."""
    check_primitive(primitive)
    bad = {"trex", "zne"} & set(mitigation.names)
    if bad:
        raise ParameterError("mitigation", "trex and zne need the Estimator, not the Sampler", "+".join(sorted(bad)))
    if primitive == "executor":
        from qiskit_ibm_runtime.options_models import SamplerOptions

        opts: Any = SamplerOptions()
    else:
        from qiskit_ibm_runtime.options import SamplerOptions as LegacySamplerOptions

        opts = LegacySamplerOptions()
    opts.default_shots = int(shots)
    opts.twirling.enable_gates = "twirling" in mitigation
    opts.twirling.enable_measure = "twirling" in mitigation
    opts.dynamical_decoupling.enable = "dd" in mitigation
    if seed is not None:
        opts.simulator.seed_simulator = int(seed)
    opts.environment.job_tags = list(tags)
    return opts

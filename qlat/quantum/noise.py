r"""Noise models for the shot-based simulators (Qiskit Aer).

The model used throughout qlat is uniform depolarizing noise: after every one-qubit gate the
channel

.. math::
    \mathcal E_1(\rho) = (1 - p_1)\,\rho + p_1\,\frac{\mathbb 1}{2}

acts on the qubit, after every two-qubit gate the two-qubit channel
:math:`\mathcal E_2(\rho) = (1 - p_2)\rho + p_2\,\mathbb 1/4` acts on both qubits (Qiskit Aer's
``depolarizing_error(p, n)`` convention: ``p`` is the depolarizing parameter, the probability that
the state is replaced by the maximally mixed one).  This is the simplest error model that makes
a deep adiabatic circuit (arXiv:2001.00485; its CNOT count is the subject of arXiv:2411.00243)
lose its signal at a rate set by the number of two-qubit gates.

Circuits are transpiled to the IBM-like basis {rz, sx, x, cx} before a noisy run
(:data:`NOISY_BASIS`); the one-qubit channel follows the physical pulses ``sx`` and ``x`` only,
since ``rz`` is a virtual (frame-change) gate on superconducting hardware.

The command line writes a noise model as a string ``"depolarizing:P1,P2"``, e.g.
``"depolarizing:0.001,0.01"``; :func:`parse_noise` turns it into a
:class:`qiskit_aer.noise.NoiseModel`.  ``qiskit_aer`` is imported lazily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qlat.core.errors import ParameterError, require

if TYPE_CHECKING:  # pragma: no cover
    from qiskit_aer.noise import NoiseModel

#: Gates the depolarizing channels are attached to (one-qubit pulses, two-qubit gates).
ONE_QUBIT_GATES: tuple[str, ...] = ("sx", "x")
TWO_QUBIT_GATES: tuple[str, ...] = ("cx",)
#: Basis a circuit is transpiled to before a noisy run.
NOISY_BASIS: tuple[str, ...] = ("rz", "sx", "x", "cx")

NOISE_KINDS: tuple[str, ...] = ("depolarizing",)


@dataclass(frozen=True)
class NoiseSpec:
    """A parsed noise specification: ``kind`` and its probabilities (``p1``, ``p2``)."""

    kind: str
    p1: float
    p2: float

    def __str__(self) -> str:
        return f"{self.kind}:{self.p1!r},{self.p2!r}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "p1": self.p1, "p2": self.p2}

    def build(self) -> "NoiseModel":
        """The Aer noise model of this specification."""
        return depolarizing_noise(self.p1, self.p2)


def _check_probability(p: float, name: str) -> float:
    require(
        isinstance(p, (int, float)) and math.isfinite(p) and 0.0 <= p <= 1.0,
        name,
        "must be a probability in [0, 1]",
        p,
    )
    return float(p)


def depolarizing_noise(p1: float, p2: float) -> "NoiseModel":
    r"""Aer noise model: depolarizing channel of parameter ``p1`` after every one-qubit gate
    and of parameter ``p2`` (two-qubit channel) after every CNOT.

    Both must lie in [0, 1].  Measurements are noiseless (readout error is a separate effect).
    """
    p1 = _check_probability(p1, "p1")
    p2 = _check_probability(p2, "p2")
    from qiskit_aer.noise import NoiseModel, depolarizing_error

    model = NoiseModel(basis_gates=list(NOISY_BASIS))
    if p1 > 0.0:
        model.add_all_qubit_quantum_error(depolarizing_error(p1, 1), list(ONE_QUBIT_GATES))
    if p2 > 0.0:
        model.add_all_qubit_quantum_error(depolarizing_error(p2, 2), list(TWO_QUBIT_GATES))
    return model


def parse_noise_spec(spec: str) -> NoiseSpec:
    """Parse ``"depolarizing:P1,P2"`` (probabilities in [0, 1]) into a :class:`NoiseSpec`.

    Raises :class:`ParameterError` naming ``noise`` for anything else.
    """
    usage = "must be 'depolarizing:P1,P2' with probabilities P1, P2 in [0, 1]"
    if not isinstance(spec, str):
        raise ParameterError("noise", usage, spec)
    kind, sep, args = spec.strip().partition(":")
    if kind.strip() not in NOISE_KINDS or not sep:
        raise ParameterError("noise", usage, spec)
    parts = [p.strip() for p in args.split(",")]
    if len(parts) != 2:
        raise ParameterError("noise", usage, spec)
    try:
        p1, p2 = (float(p) for p in parts)
    except ValueError:
        raise ParameterError("noise", usage, spec) from None
    if not all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in (p1, p2)):
        raise ParameterError("noise", usage, spec)
    return NoiseSpec(kind=kind.strip(), p1=p1, p2=p2)


def resolve_noise(noise: "str | NoiseSpec | NoiseModel | None") -> tuple["NoiseModel | None", Any]:
    """Turn the ``noise`` argument of the runners into ``(aer_noise_model, json_description)``.

    Accepts ``None`` (noiseless), a spec string (:func:`parse_noise_spec`), a :class:`NoiseSpec`
    or a ready :class:`qiskit_aer.noise.NoiseModel`; anything else raises :class:`ParameterError`
    naming ``noise``.
    """
    if noise is None:
        return None, None
    if isinstance(noise, str):
        spec = parse_noise_spec(noise)
        return spec.build(), spec.to_dict()
    if isinstance(noise, NoiseSpec):
        return noise.build(), noise.to_dict()
    from qiskit_aer.noise import NoiseModel

    if isinstance(noise, NoiseModel):
        return noise, {"kind": "custom", "description": str(noise).splitlines()[0] if str(noise) else ""}
    raise ParameterError(
        "noise", "must be None, a spec string 'depolarizing:P1,P2', a NoiseSpec or an Aer NoiseModel",
        type(noise).__name__,
    )

"""Memory a flow needs, estimated from its parameters before anything is built (issue 24).

Upper estimates in bytes, so that ``qlat flow train --L 100000`` or ``--hidden 1000000000`` is
refused with :func:`qlat.core.resources.require_memory` before a tensor is allocated:

- parameters P = n_layers · Σ_i c_i c_{i+1} k² over the conditioner's channels
  c = (c_io, hidden₁, hidden₂, …, c_io) with c_io = max(8, 3·bins + 2) input/output channels, k the kernel;
  training keeps them with their gradient and Adam's two moments: 4 P · itemsize;
- activations kept for the backward pass: batch · L^d · n_layers · (Σ hidden + 2 c_io) · itemsize · 2;
- a tree flow (U(1) ``layout="tree"``, :mod:`~qlat.samplers.flow.tree`) adds one circle map per plaquette,
  batch · L^d · (16 c + 32) · itemsize with c = n_mix NCP components or 3·bins spline parameters
  (measured: 35–45 bytes per batch · site · component in float32 at L = 32–64, batch 256–1024, 8–16
  components, where this gives 72), and its tail MLP's weights, negligible beside them;
- sampling (``flow eval`` / the sampler): the n samples and weights kept in float64,
  n · L^d · 8 · 2, plus one batch of activations (batch 1024), plus chains · L^d · 8 · 10 for
  the independence-Metropolis chains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Flow samples drawn per batch when sampling (:func:`qlat.samplers.flow.training.sample_log_weights`).
SAMPLE_BATCH = 1024


def _io_channels(architecture: Mapping[str, Any]) -> float:
    bins = float(architecture.get("bins") or 8)
    mix = float(architecture.get("n_mix") or 2)
    return max(8.0, 3.0 * max(bins, mix) + 2.0)


def parameter_count(architecture: Mapping[str, Any]) -> float:
    """Upper estimate of the number of weights (a float: no overflow for absurd values)."""
    io = _io_channels(architecture)
    channels = [io, *(float(h) for h in architecture.get("hidden", [8, 8])), io]
    k = float(architecture.get("kernel_size", 3))
    per_layer = sum(a * b * k * k + b for a, b in zip(channels, channels[1:], strict=False))
    return float(architecture.get("n_layers", 16)) * per_layer


def _activations(shape: Sequence[int], architecture: Mapping[str, Any], batch: float, itemsize: int) -> float:
    sites = 1.0
    for extent in shape:
        sites *= float(extent)
    width = sum(float(h) for h in architecture.get("hidden", [8, 8])) + 2.0 * _io_channels(architecture)
    stripes = float(batch) * sites * float(architecture.get("n_layers", 16)) * width * itemsize * 2.0
    if architecture.get("layout") != "tree":
        return stripes
    if architecture.get("coupling") == "ncp":
        components = float(architecture.get("n_mix") or 2)
    else:
        components = 3.0 * float(architecture.get("bins") or 8)
    return stripes + float(batch) * sites * (16.0 * components + 32.0) * itemsize


def training_bytes(shape: Sequence[int], architecture: Mapping[str, Any], *, batch: float, itemsize: int) -> float:
    """Memory of reverse-KL training (weights, gradients, Adam moments, activations of one batch)."""
    return 4.0 * parameter_count(architecture) * itemsize + _activations(shape, architecture, batch, itemsize)


def sampling_bytes(shape: Sequence[int], architecture: Mapping[str, Any], *, n: float, chains: float = 1.0) -> float:
    """Memory of drawing ``n`` samples with their weights (float64) and running ``chains`` chains."""
    sites = 1.0
    for extent in shape:
        sites *= float(extent)
    return (16.0 * float(n) * sites + 80.0 * float(chains) * sites + 8.0 * parameter_count(architecture)
            + _activations(shape, architecture, min(float(n), SAMPLE_BATCH), 8) / 2.0)

"""Normalizing-flow samplers: trivializing maps for φ⁴, gauge-equivariant flows for 2D U(1).

A flow (prior r + bijection f, :mod:`~qlat.samplers.flow.networks`) is trained by reverse KL
(:mod:`~qlat.samplers.flow.training`), saved with a model card
(:mod:`~qlat.samplers.flow.checkpoint`) and made exact by independence Metropolis–Hastings
(:class:`~qlat.samplers.flow.sampler.FlowSampler`, registered as ``flow``).  References:
arXiv:1904.12072, 2003.06413, 2101.08176.  Importing this package imports torch.
"""

from qlat.samplers.flow.checkpoint import load_model, load_training_state, read_card, save_checkpoint
from qlat.samplers.flow.metrics import (
    acceptance,
    acceptance_with_error,
    ess,
    ess_with_error,
    independence_metropolis,
    pareto_khat,
)
from qlat.samplers.flow.networks import FlowModel, default_architecture
from qlat.samplers.flow.sampler import FlowSampler
from qlat.samplers.flow.training import TrainConfig, TrainingState, sample_log_weights, train

__all__ = [
    "FlowModel", "FlowSampler", "TrainConfig", "TrainingState", "acceptance", "acceptance_with_error",
    "default_architecture", "ess", "ess_with_error", "independence_metropolis", "load_model", "load_training_state",
    "pareto_khat", "read_card",
    "sample_log_weights", "save_checkpoint", "train",
]

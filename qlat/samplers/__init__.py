"""Samplers: Markov chains that are exact by a Metropolis(–Hastings) test against the true action."""

from qlat.samplers.base import ChainState, SampleBatch, Sampler, sampler_from_params
from qlat.samplers.hmc import HMC
from qlat.samplers.metropolis import LocalMetropolis, U1Heatbath, U1Metropolis

__all__ = [
    "ChainState", "HMC", "LocalMetropolis", "SampleBatch", "Sampler", "U1Heatbath", "U1Metropolis",
    "sampler_from_params",
]

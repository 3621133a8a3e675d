"""Samplers: Markov chains that are exact by a Metropolis(–Hastings) test against the true action."""

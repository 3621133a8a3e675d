"""Self-learning Monte Carlo for classical spins coupled to fermions (the double exchange model).

- :mod:`~qlat.samplers.slmc.exact_local`: the exact local Metropolis baseline (``exact-local``), one
  diagonalization per single-spin proposal.
- :mod:`~qlat.samplers.slmc.effective_hamiltonians`: effective models H_eff — linear over neighbour shells and the
  O(3)-equivariant transformer of Nagai & Tomiya arXiv:2306.11527.
- :mod:`~qlat.samplers.slmc.training`: training data from the exact chain, MSE/AdamW training,
  model files (state dict loaded with ``weights_only=True`` + JSON card).
- :mod:`~qlat.samplers.slmc.sampler`: the SLMC sampler (``slmc``): K local updates under H_eff,
  accepted by a Metropolis–Hastings test against the exact weight (Liu et al. arXiv:1611.09364).

Nothing heavy is imported here; import the submodules.
"""

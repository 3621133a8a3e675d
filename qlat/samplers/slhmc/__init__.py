"""Self-learning hybrid Monte Carlo for the Schwinger model with Wilson fermions.

- :mod:`~qlat.samplers.slhmc.effective_actions`: the effective action S_eff[θ]: a linear combination of
  gauge-invariant loops (plaquettes, rectangles, Polyakov loops) evaluated on links smeared by
  gauge-covariant attention layers (CASK, Nagai, Ohno, Tomiya arXiv:2501.16955).
- :mod:`~qlat.samplers.slhmc.training`: training data from exact chains, regression of S_eff on
  S_g − N_f log|det D| up to a constant, model directories (state dict + hashed JSON card).
- :mod:`~qlat.samplers.slhmc.sampler`: the ``slhmc`` sampler: molecular dynamics with the force of
  S_eff, Metropolis–Hastings with the exact action (Nagai, Okumura, Kobayashi, Shiga
  arXiv:1909.02255; for gauge theories with fermions Nagai & Tomiya arXiv:2103.11965).

Nothing heavy is imported here; import the submodules.
"""

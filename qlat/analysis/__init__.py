"""Analysis: Γ-method statistics, jackknife/bootstrap, extrapolations, cross-check tables and plots."""

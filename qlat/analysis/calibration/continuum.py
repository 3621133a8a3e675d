r"""Calibration cases of the continuum and infinite-volume extrapolations against their analytic limits.

Every estimator here is an extrapolation (:func:`qlat.analysis.extrapolation.extrapolate_models`:
Akaike-averaged polynomial models and fit ranges, the model spread as systematic) of exact
lattice data whose limit is known in closed form, so a miss is the extrapolation's alone:

- ``heavy-mass-character``: the exact lattice χ_t/g² and ℰ(θ) − ℰ(0) of 2D U(1) gauge theory on
  L×L tori at fixed physical area g²A (character expansion, :mod:`qlat.exact.u1_character_expansion`), a²g² → 0,
  then moved to infinite volume by the exact torus shift — against g²/(4π²) and (g²/2)(θ/2π)²
  (the heavy-mass limit of the Schwinger model; the ``character`` column of
  ``qlat crosscheck heavy-mass``).  Points: g²A ∈ [8, 25], 3–7 tori with L from 4–12 upward in
  steps of 1, 2 or 3, θ ∈ [0.3, 3.0].
- ``heavy-mass-ed``: exact diagonalization of the electric-formulation chain at large m — bulk
  differences of two chain lengths, ag → 0, the 1/m² remainder from m/2 — against the same
  limits (the ``ed`` column).  Points: m/g ∈ [4, 20] (log-uniform), (N₁, N₂) ∈ {(8, 10), (10, 12)},
  3–5 spacings from {1, 0.8, 2/3, 0.5, 0.4, 1/3, 0.25, 0.2}, θ ∈ [0.3, 3.0].
- ``scan-continuum``: the massless chiral condensate from ED chains (``qlat schwinger scan
  --continuum``, :func:`qlat.analysis.schwinger_studies.continuum_condensate_massless`): a → 0 at
  fixed L, then L → ∞ in e^{−ML} — against −e^γ/(2π^{3/2}) = −0.1599288.  Points: 3–5 chain
  lengths from 6 … 18, 2–4 volumes L from [3, 7] upward in steps of 0.7–2.
- ``dmrg-continuum``: the same study on DMRG chains (:mod:`qlat.analysis.dmrg_continuum`, χ = 32,
  the χ vs χ/2 truncation propagated).  Points: 3 volumes from L ∈ [5, 8] upward, 4–5 chains
  N = 10 … 28 (test: N = 6 … 10 at two volumes, χ = 16).  DMRG costs 5–30 s per chain even when
  short, so these sizes are small: 1, 2 and 6 points.

Sizes (points per estimator; each heavy-mass point gives two calibration points, χ_t and ℰ):
``test`` (a few seconds, the fast suite), ``quick`` (about a minute each) and ``full`` (the
recorded run).  Hard points are part of the draw: few or coarse lattices, small areas, θ near π,
masses at the light end; their estimates warn when no tested model variation exists.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator

import numpy as np

from qlat.analysis.calibration.harness import CalibrationPoint, calibration_case

#: Points per size and estimator.
POINTS = {
    "heavy-mass-character": {"test": 3, "quick": 40, "full": 150},
    "heavy-mass-ed": {"test": 2, "quick": 25, "full": 100},
    "scan-continuum": {"test": 2, "quick": 25, "full": 80},
    "dmrg-continuum": {"test": 1, "quick": 2, "full": 6},
}
#: Spacings (units of 1/g) the ED heavy-mass points draw from.
ED_SPACINGS = (1.0, 0.8, 2.0 / 3.0, 0.5, 0.4, 1.0 / 3.0, 0.25, 0.2)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The estimators' own warnings are in their Estimates (and counted apart); keep stderr readable."""
    from qlat.core.errors import QlatWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", QlatWarning)
        yield


def _heavy_points(name: str, row: dict, point: dict, theta: float) -> Iterator[CalibrationPoint]:
    from qlat.analysis.schwinger_crosscheck import CHI_T, ENERGY
    from qlat.exact import continuum

    exact = {CHI_T: continuum.quenched_topological_susceptibility(),
             ENERGY: float(continuum.quenched_energy_density(theta))}
    for obs in (CHI_T, ENERGY):
        yield CalibrationPoint(estimator=name, observable=obs, estimate=row[obs], exact=exact[obs],
                               reference="analytic heavy-mass limit", point=point)


@calibration_case("heavy-mass-character", family="continuum",
                  description="exact lattice 2D U(1) at fixed g^2 A, a^2 g^2 -> 0 (model-averaged) and the exact "
                              "torus shift, vs g^2/(4 pi^2) and (g^2/2)(theta/2pi)^2")
def character_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.analysis.schwinger_crosscheck import HeavyMassPreset, character_column, character_point

    models = HeavyMassPreset.models_for(fit_degree=3, fit_drops=2)
    for _ in range(POINTS["heavy-mass-character"][size]):
        area = round(float(rng.uniform(8.0, 25.0)), 3)
        n_tori = int(rng.integers(3, 8))
        step = int(rng.choice([1, 2, 2, 3]))
        smallest = int(rng.integers(4, 13))
        sizes = [smallest + step * i for i in range(n_tori)]
        theta = round(float(rng.uniform(0.3, 3.0)), 4)
        points = [character_point(L, area=area, theta=theta) for L in sizes]
        with _quiet():
            row, _ = character_column(points, area=area, theta=theta, models=models, emit=False)
        yield from _heavy_points("heavy-mass-character", row, {"area": area, "L": sizes, "theta": theta}, theta)


@calibration_case("heavy-mass-ed", family="continuum",
                  description="ED of the electric chain at large m (bulk differences), a g -> 0 (model-averaged), "
                              "1/m^2 remainder from m/2, vs g^2/(4 pi^2) and (g^2/2)(theta/2pi)^2")
def ed_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.analysis.schwinger_crosscheck import HeavyMassPreset, ed_column

    models = HeavyMassPreset.models_for(fit_degree=2, fit_drops=2)
    for _ in range(POINTS["heavy-mass-ed"][size]):
        mass = round(float(math.exp(rng.uniform(math.log(4.0), math.log(20.0)))), 3)
        sites = ((8, 10), (10, 12))[int(rng.integers(2))]
        n_a = int(rng.integers(3, 6))
        spacings = tuple(sorted((float(a) for a in rng.choice(ED_SPACINGS, size=n_a, replace=False)), reverse=True))
        theta = round(float(rng.uniform(0.3, 3.0)), 4)
        with _quiet():
            row, _, _ = ed_column(spacings=spacings, mass=mass, sites=sites, theta=theta, models=models, emit=False)
        point = {"mass": mass, "sites": list(sites), "spacings": [round(a, 6) for a in spacings], "theta": theta}
        yield from _heavy_points("heavy-mass-ed", row, point, theta)


def _continuum_point(rng: np.random.Generator, *, sizes: tuple[int, ...], n_sizes: tuple[int, int],
                     n_volumes: tuple[int, int], first: tuple[float, float]) -> tuple[list[int], list[float]]:
    n_sites = sorted(int(n) for n in rng.choice(sizes, size=int(rng.integers(*n_sizes)), replace=False))
    start, step = float(rng.uniform(*first)), float(rng.uniform(0.7, 2.0))
    volumes = [round(start + step * i, 3) for i in range(int(rng.integers(*n_volumes)))]
    return n_sites, volumes


@calibration_case("scan-continuum", family="continuum",
                  description="ED chains (N <= 18), a -> 0 at fixed L then L -> inf in exp(-M L), both "
                              "model-averaged, vs the massless condensate -e^gamma/(2 pi^{3/2})")
def scan_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.analysis.schwinger_studies import continuum_condensate_massless
    from qlat.exact import continuum

    for _ in range(POINTS["scan-continuum"][size]):
        limit = (6, 8, 10, 12, 14) if size == "test" else (6, 8, 10, 12, 14, 16, 18)
        n_sites, volumes = _continuum_point(rng, sizes=limit, n_sizes=(3, 6), n_volumes=(2, 5), first=(3.0, 7.0))
        with _quiet():
            result = continuum_condensate_massless(n_sites=n_sites, volumes=volumes)
        yield CalibrationPoint(estimator="scan-continuum", observable="condensate", estimate=result.estimate,
                               exact=continuum.massless_condensate(), reference="analytic (Hetrick & Hosotani)",
                               point={"n_sites": n_sites, "volumes": volumes})


@calibration_case("dmrg-continuum", family="continuum",
                  description="DMRG chains, a -> 0 at fixed L then L -> inf, both model-averaged, truncation "
                              "(chi vs chi/2) propagated, vs -e^gamma/(2 pi^{3/2})")
def dmrg_cases(rng: np.random.Generator, size: str) -> Iterator[CalibrationPoint]:
    from qlat.analysis.dmrg_continuum import continuum_condensate_massless_dmrg
    from qlat.exact import continuum

    for _ in range(POINTS["dmrg-continuum"][size]):
        if size == "test":  # seconds: the shortest chains, two volumes (the e^{-ML} line cannot test itself)
            n_sites, volumes = _continuum_point(rng, sizes=(6, 8, 10), n_sizes=(3, 4), n_volumes=(2, 3),
                                                first=(4.0, 6.0))
        else:
            n_sites, volumes = _continuum_point(rng, sizes=(10, 12, 14, 16, 18, 20, 24, 28), n_sizes=(4, 6),
                                                n_volumes=(3, 4), first=(5.0, 8.0))
        bond_dim = 16 if size == "test" else 32
        with _quiet():
            result = continuum_condensate_massless_dmrg(volumes=volumes, n_sites=n_sites, bond_dim=bond_dim)
        yield CalibrationPoint(estimator="dmrg-continuum", observable="condensate", estimate=result.estimate,
                               exact=continuum.massless_condensate(), reference="analytic (Hetrick & Hosotani)",
                               point={"n_sites": n_sites, "volumes": volumes, "bond_dim": bond_dim})

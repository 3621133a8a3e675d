"""DMRG backend (TeNPy): the compact MPO against the Pauli sum, DMRG against exact diagonalization."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("tenpy")

from qlat.core.backend import estimate
from qlat.core.errors import ParameterError
from qlat.core.registry import BACKENDS
from qlat.exact.diagonalization import diagonalize
from qlat.exact.dmrg import (
    DEFAULT_OBSERVABLES,
    MPS_ONLY_OBSERVABLES,
    DMRGBackend,
    DMRGSettings,
    dmrg_estimates,
    dmrg_observables,
    excited_state,
    ground_state,
    mps_measurements,
)
from qlat.exact.schwinger_mpo import (
    COMPACT_BOND_DIM,
    automaton_coefficients,
    compact_mpo,
    explicit_mpo,
    product_mps,
    spin_site,
)
from qlat.theories.schwinger_observables import free_condensate, qubit_observable_names
from qlat.theories.schwinger_qubit import SchwingerModel, SchwingerTerms


def mpo_matrix(mpo) -> np.ndarray:
    """Dense matrix of a finite TeNPy MPO in Qiskit's little-endian qubit basis (bit 0: Z = +1)."""
    n = mpo.L
    tensors = [mpo.get_W(i).transpose(["wL", "wR", "p", "p*"]).to_ndarray() for i in range(n)]
    acc = tensors[0][mpo.IdL[0]]  # (wR, p, p*)
    for w in tensors[1:]:
        acc = np.einsum("aIJ,abpq->bpIqJ", acc, w)  # the new site is the most significant bit
        b, p, i, q, j = acc.shape
        acc = acc.reshape(b, p * i, q * j)
    dense = acc[mpo.IdR[-1]]
    # TeNPy's local index p of site n → qubit bit: "up" (Z = +1) is bit 0.
    up = spin_site().state_labels["up"]
    idx = np.arange(2**n)
    tenpy_index = np.zeros(2**n, dtype=np.int64)
    for site in range(n):
        bit = (idx >> site) & 1
        local = np.where(bit == 0, up, 1 - up)
        tenpy_index += local << site
    return dense[np.ix_(tenpy_index, tenpy_index)]


MPO_MODELS = [
    SchwingerModel(2, 0.9, 0.4, theta=0.3),
    SchwingerModel(6, 0.7, 0.3, theta=1.1),
    SchwingerModel(6, 0.5, 0.2, theta=2.5, formulation="electric"),
    SchwingerModel(6, 0.4, 0.1, theta=0.7, mass_shift=True),
    SchwingerModel(6, 0.4, -0.3, theta=-2.0, formulation="electric", mass_shift=True, coupling=1.7),
]


@pytest.mark.parametrize("model", MPO_MODELS, ids=lambda m: f"N{m.n_sites}-{m.formulation}-{m.theta}")
def test_compact_mpo_equals_pauli_sum(model):
    reference = model.terms().to_sparse_pauli_op().to_matrix()
    dense = mpo_matrix(compact_mpo(model))
    assert np.max(np.abs(dense - reference)) < 1e-12


def test_explicit_mpo_equals_compact():
    model = SchwingerModel(6, 0.6, 0.25, theta=1.3, formulation="electric")
    assert np.max(np.abs(mpo_matrix(explicit_mpo(model)) - mpo_matrix(compact_mpo(model)))) < 1e-12


def test_bond_dimension_is_independent_of_length():
    model = SchwingerModel(24, 0.5, 0.1, theta=0.4, formulation="electric")
    assert max(compact_mpo(model).chi) == COMPACT_BOND_DIM
    assert max(explicit_mpo(model).chi) > 24  # the generic MPO keeps one channel per open Z_i


def test_automaton_coefficients_and_rejection():
    model = SchwingerModel(8, 0.5, 0.1)
    k = automaton_coefficients(model.terms())
    assert np.allclose(k, 0.5 * model.J * (8 - 1 - np.arange(8)) * (np.arange(8) > 0))
    terms = model.terms()
    zz = terms.zz.copy()
    zz[2, 5] += 0.1  # no longer a function of the later site only
    with pytest.raises(ParameterError, match="later site"):
        automaton_coefficients(SchwingerTerms(terms.hopping, terms.z, zz, terms.constant))


# --- DMRG against ED --------------------------------------------------------------------------
ED_CASES = [
    SchwingerModel(8, 0.5, 0.1),
    SchwingerModel(10, 0.5, 0.2, theta=0.7, formulation="electric"),
    SchwingerModel(12, 0.4, 0.15, theta=1.1, mass_shift=True),
    SchwingerModel(10, 0.6, 0.3, theta=2.6, formulation="electric", mass_shift=True),
]


def ed_entropies(model: SchwingerModel, vector: np.ndarray) -> np.ndarray:
    """Von Neumann entropy of sites 0..k on each bond k from a little-endian full vector."""
    n = model.n_sites
    out = []
    for bond in range(n - 1):
        left = bond + 1
        s = np.linalg.svd(vector.reshape(2 ** (n - left), 2**left), compute_uv=False)
        p = s[s > 1e-16] ** 2
        out.append(float(-np.sum(p * np.log(p))))
    return np.array(out)


@pytest.fixture(scope="module", params=ED_CASES, ids=lambda m: f"N{m.n_sites}-{m.formulation}-{m.theta}")
def case(request):
    from qlat.quantum.exact_backend import exact_estimates

    model = request.param
    everything = dmrg_observables(model)
    dmrg = dmrg_estimates(model, everything, bond_dim=48)
    names = [n for n in everything if n != "entanglement_entropy"]
    ed = exact_estimates(model, observables=names)
    spectrum = diagonalize(model, k=2)
    return model, dmrg, ed, spectrum


def test_energy_condensate_gap_equal_ed(case):
    _, dmrg, ed, _ = case
    assert abs(dmrg["energy"].value - ed["energy"].value) < 1e-9
    assert abs(dmrg["energy_density"].value - ed["energy_density"].value) < 1e-9
    assert abs(dmrg["condensate"].value - ed["condensate"].value) < 1e-7
    assert abs(dmrg["condensate_subtracted"].value - ed["condensate_subtracted"].value) < 1e-7
    assert abs(dmrg["gap"].value - ed["gap"].value) < 1e-8
    assert abs(dmrg["total_charge"].value) < 1e-10


def test_profiles_equal_ed(case):
    model, dmrg, ed, _ = case
    profile_keys = [k for k in ed if "[" in k]
    # electric_field + charge_density + condensate_profile
    assert len(profile_keys) == (model.n_sites - 1) + 2 * model.n_sites
    for key in profile_keys:
        assert abs(dmrg[key].value - ed[key].value) < 1e-7, key


def test_entanglement_entropy_equals_ed(case):
    model, dmrg, _, spectrum = case
    reference = ed_entropies(model, spectrum.ground_state)
    ours = np.array([dmrg[f"entanglement_entropy[{i}]"].value for i in range(model.n_sites - 1)])
    assert np.max(np.abs(ours - reference)) < 1e-7
    assert reference[model.n_sites // 2 - 1] > 0.05  # entangled: the test can fail


def test_estimate_conventions(case):
    model, dmrg, ed, _ = case
    assert set(ed) <= set(dmrg)
    for key in ed:
        ours = dmrg[key]
        assert ours.name == key and ours.unit == ed[key].unit and ours.backend == "dmrg"
        assert ours.error == 0.0
        sys_value = ours.systematic
        assert sys_value >= 0.0 and ours.provenance["systematic_sources"] == {"truncation": sys_value}
        assert ours.provenance["bond_dims"] == [24, 36, 48]
        assert ours.provenance["model"] == model.params()


def test_free_condensate_has_one_home():
    from qlat.quantum.observables import free_condensate as quantum_free

    assert quantum_free is free_condensate


def test_condensate_is_the_mass_derivative_of_the_dmrg_energy():
    """Hellmann–Feynman, independent of the condensate's Pauli sum: in the electric formulation
    ∂E₀/∂m/(Na) = ⟨S⟩, so DMRG energies at m ± h give the condensate DMRG measures (a sign or
    factor error in the one condensate formula fails here)."""
    model = SchwingerModel(8, 0.5, 0.3, theta=0.4, formulation="electric")
    h = 1e-4
    energies = [ground_state(model.with_(mass=model.mass + s * h), bond_dim=16).energy for s in (1, -1)]
    derivative = (energies[0] - energies[1]) / (2 * h * model.volume)
    values = mps_measurements(model, ground_state(model, bond_dim=16).psi, entropy=False)
    assert abs(values["condensate"] - derivative) < 1e-6
    assert abs(np.mean([values[f"condensate_profile[{i}]"] for i in range(8)]) - values["condensate"]) < 1e-12
    assert abs(derivative) > 0.05  # a wrong sign or a factor 2 is far outside the tolerance


def test_truncation_systematic_covers_the_error():
    """At a bond dimension that truncates, |E(χ) − E_ED| ≤ |E(χ) − E(χ/2)| (the systematic)."""
    model = SchwingerModel(12, 0.3, 0.1)
    exact = diagonalize(model, k=1).ground_energy
    est = dmrg_estimates(model, ["energy", "condensate"], bond_dim=6, reference_bond_dim=3)
    error = abs(est["energy"].value - exact)
    systematic = est["energy"].systematic
    assert error > 1e-8  # really truncated
    assert error <= systematic
    assert est["energy"].value >= exact - 1e-12  # variational
    assert est["energy"].provenance["runs"][-1]["ground"]["max_bond_dim"] <= 6


def test_truncation_systematic_is_not_many_times_the_error():
    """Power check of the test above: the systematic within 5× the real distance (it covers it by 100×)."""
    model = SchwingerModel(12, 0.3, 0.1)
    exact = diagonalize(model, k=1).ground_energy
    est = dmrg_estimates(model, ["energy"], bond_dim=8, reference_bond_dim=4)
    error = abs(est["energy"].value - exact)
    assert error > 1e-8
    assert est["energy"].systematic <= 5 * error


def test_excited_state_is_orthogonal_and_in_sector():
    model = SchwingerModel(8, 0.5, 0.3, theta=0.5, formulation="electric")
    ground = ground_state(model, bond_dim=16)
    excited = excited_state(model, ground)
    assert excited.overlap is not None and excited.overlap < 1e-8
    values = mps_measurements(model, excited.psi)
    assert abs(values["total_charge"]) < 1e-10
    assert abs(values["energy"] - excited.energy) < 1e-9  # the shift is removed
    spectrum = diagonalize(model, k=2)
    assert abs(excited.energy - spectrum.energies[1]) < 1e-9


def test_unconverged_run_warns_on_every_estimate():
    """A run stopped after one sweep: the truncation model cannot be trusted, and every Estimate says so."""
    from qlat.core.errors import QlatWarning

    model = SchwingerModel(6, 0.5, 0.2, theta=0.5)
    settings = DMRGSettings(max_sweeps=1, min_sweeps=1, mixer_sweeps=0)
    with pytest.warns(QlatWarning) as record, pytest.warns(RuntimeWarning):
        est = dmrg_estimates(model, ["energy", "electric_field"], bond_dim=4, settings=settings)
    assert any("did not converge" in str(w.message) for w in record)  # on stderr ...
    assert all(any("did not converge" in w for w in e.warnings) for e in est.values())  # ... and in the JSON


def test_progress_reports_every_sweep():
    seen: list[dict] = []
    model = SchwingerModel(6, 0.5, 0.1)
    dmrg_estimates(model, ["energy", "gap"], bond_dim=8, progress=seen.append)
    stages = [info["stage"] for info in seen]
    assert stages[0] == "ground chi=4" and "excited chi=8" in stages
    ground8 = [info["sweep"] for info in seen if info["stage"] == "ground chi=8"]
    assert ground8 == sorted(ground8) and len(ground8) >= 1
    assert all(math.isfinite(info["energy"]) for info in seen)


# --- backend plumbing -------------------------------------------------------------------------
def test_backend_registered_and_through_estimate():
    assert BACKENDS.get("dmrg") is DMRGBackend
    backend = DMRGBackend()
    model = SchwingerModel(6, 0.5, 0.1, theta=0.3)
    assert backend.supports(model) and not backend.supports(model.terms())
    assert backend.observables(model) == sorted(qubit_observable_names(model)) + list(MPS_ONLY_OBSERVABLES)
    out = estimate(model, ["energy", "electric_field"], backend="dmrg", bond_dim=8, truncation_check=False)
    assert sorted(out) == ["electric_field[0]", "electric_field[1]", "electric_field[2]", "electric_field[3]",
                           "electric_field[4]", "energy"]
    assert out["energy"].systematic == 0.0 and "systematic_sources" not in out["energy"].provenance
    assert abs(out["energy"].value - diagonalize(model, k=1).ground_energy) < 1e-10
    assert set(DEFAULT_OBSERVABLES) <= set(dmrg_observables(model))


def test_errors():
    model = SchwingerModel(6, 0.5, 0.1)
    backend = DMRGBackend()
    with pytest.raises(ParameterError, match="options"):
        backend.estimate(model, ["energy"], shots=10)
    with pytest.raises(ParameterError, match="observables"):
        dmrg_estimates(model, ["plaquette"])
    with pytest.raises(ParameterError, match="reference_bond_dim"):
        dmrg_estimates(model, ["energy"], bond_dim=8, reference_bond_dim=8)
    with pytest.raises(ParameterError, match="bond_dim"):
        DMRGSettings(bond_dim=1)
    with pytest.raises(ParameterError, match="mpo"):
        DMRGSettings(mpo="dense")
    with pytest.raises(ParameterError, match="target"):
        ground_state(model.terms())  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="initial"):
        ground_state(model, initial=product_mps([0] * 6))  # all occupied: charge 3


# --- long chains (slow) -----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("model", [
    SchwingerModel(20, 0.5, 0.1, theta=0.8),
    SchwingerModel(20, 0.4, 0.2, theta=2.0, formulation="electric", mass_shift=True),
], ids=["rotated", "electric"])
def test_n20_equals_ed(model):
    from qlat.quantum.exact_backend import exact_estimates

    ed = exact_estimates(model, observables=["energy", "condensate", "gap", "electric_field"])
    dmrg = dmrg_estimates(model, ["energy", "condensate", "gap", "electric_field"], bond_dim=96)
    assert abs(dmrg["energy"].value - ed["energy"].value) < 1e-9
    assert abs(dmrg["condensate"].value - ed["condensate"].value) < 1e-7
    assert abs(dmrg["gap"].value - ed["gap"].value) < 1e-8
    for i in range(model.n_sites - 1):
        assert abs(dmrg[f"electric_field[{i}]"].value - ed[f"electric_field[{i}]"].value) < 1e-7


@pytest.mark.slow
def test_n40_reference_value():
    """N = 40, a = 0.5, m = 0.1, θ = 0 (rotated): an independent TeNPy DMRG gives E₀ = −23.114621209719."""
    model = SchwingerModel(40, 0.5, 0.1)
    est = dmrg_estimates(model, ["energy", "condensate"], bond_dim=64)
    assert abs(est["energy"].value - (-23.114621209719)) < 1e-8
    assert abs(est["condensate"].value - (-0.286180569)) < 1e-8
    assert est["energy"].systematic < 1e-8


# --- continuum massless condensate (DMRG chains) ------------------------------------------------
def test_bulk_condensate_row_equals_ed():
    from qlat.analysis.dmrg_continuum import measure_bulk_condensate
    from qlat.analysis.schwinger_studies import _measure

    ours = measure_bulk_condensate(12, 0.4, bond_dim=32)
    ref = _measure(12, 0.4, 1.0, True)
    assert abs(ours["bulk"] - ref["bulk"]) < 1e-8
    assert abs(ours["chain_average"] - ref["chain_average"]) < 1e-8
    assert abs(ours["ground_energy"] - ref["ground_energy"]) < 1e-9
    assert 0.0 <= ours["bulk_systematic"] < 1e-6


def test_bulk_condensate_truncation_systematic_is_the_calibrated_line():
    """At a truncating χ (N = 12, a = 0.4, χ = 8, χ/2 = 4; w = 6·10⁻⁴ → 4·10⁻⁶) the row's
    ``bulk_systematic`` (the line in the discarded weight, qlat.exact.dmrg_truncation) covers the
    distance to ED and is within 5× of it (measured 2.0×; the bare χ/2 difference was ~500×)."""
    from qlat.analysis.dmrg_continuum import measure_bulk_condensate
    from qlat.analysis.schwinger_studies import _measure

    ours = measure_bulk_condensate(12, 0.4, bond_dim=8)
    distance = abs(ours["bulk"] - _measure(12, 0.4, 1.0, True)["bulk"])
    assert ours["truncation"]["warnings"] == [] and 0.0 < ours["truncation"]["line_fraction"] < 0.05
    assert distance <= 2.0 * ours["bulk_systematic"] <= 10.0 * distance


@pytest.mark.filterwarnings("ignore:condensate")  # two volumes: the e^{-ML} line cannot test itself (it says so)
def test_continuum_study_equals_ed_study_on_short_chains():
    """Same rows and fits as the ED study (fixed volume, 2 volumes): the same extrapolated value and errors."""
    from qlat.analysis.dmrg_continuum import continuum_condensate_massless_dmrg
    from qlat.analysis.schwinger_studies import continuum_condensate_massless

    kwargs = dict(n_sites=[6, 8, 10, 12], volumes=[3.0, 4.0], spacing_degree=2, volume_degree=1)
    ours = continuum_condensate_massless_dmrg(bond_dim=24, **kwargs)
    ref = continuum_condensate_massless(**kwargs)
    for mine, theirs in zip(ours.stage1, ref.stage1):
        assert abs(mine["value"] - theirs["value"]) < 1e-7
    assert abs(ours.estimate.value - ref.estimate.value) < 1e-7
    assert abs(ours.estimate.total_error - ref.estimate.total_error) < 1e-6 * abs(ref.estimate.value)
    assert ours.estimate.error > 0 and ours.estimate.backend == "dmrg"
    assert set(ours.variants) == set(ref.variants)
    assert "truncation" in ours.estimate.provenance["systematic_sources"]  # χ = 24 vs 12, propagated


@pytest.mark.slow
def test_continuum_massless_condensate_within_half_permille():
    """L = 20/g, a = 0.4 … 1/6 (N = 50 … 120), a → 0 at fixed volume: −e^γ/(2π^{3/2}) within 0.05 %."""
    from qlat.analysis.dmrg_continuum import continuum_condensate_massless_dmrg

    result = continuum_condensate_massless_dmrg(volumes=[20.0], spacings=[0.4, 1 / 3, 0.25, 0.2, 1 / 6], bond_dim=64)
    assert result.relative_deviation < 5e-4
    sources = result.estimate.provenance["systematic_sources"]
    assert {"a->0 fit_model", "a->0 fit_range", "truncation"} <= set(sources)
    assert 0.0 < result.estimate.total_error < 5e-4 * abs(result.reference)
    assert abs(result.estimate.z_score(result.reference)) < 3


def test_truncation_near_theta_pi_takes_the_larger_of_two_lines():
    """Issue 17's θ-scan miss: N = 10, χ = 8, θ = 2.5, m = 0.5 (above the critical mass, near the level
    crossing at π).  The χ/2 = 4 run discards 1.4e-3, far outside the linear regime, and the χ/2 line alone
    put the field components at |z| up to 15; with the χ_mid = 6 line every value is covered, and the bar
    stays within 5× the real distance (power check)."""
    from qlat.quantum.exact_backend import exact_estimates

    model = SchwingerModel(10, 0.5, 0.5, theta=2.5)
    est = dmrg_estimates(model, ["energy", "condensate", "electric_field"], bond_dim=8)
    exact = exact_estimates(model, observables=["energy", "condensate", "electric_field"])
    assert est["energy"].provenance["bond_dims"] == [4, 6, 8]
    truncation = est["energy"].provenance["truncation"]
    assert truncation["discarded_weights"]["ground"][0] > 1e-3 and "middle" in truncation
    for key, e in est.items():
        delta = abs(e.value - exact[key].value)
        assert delta > 1e-6 and not e.warnings  # really truncated, and nothing to warn about
        assert delta <= 2 * e.systematic <= 10 * delta, (key, delta, e.systematic)


def test_the_cold_start_keeps_the_lower_of_both_vacua():
    """Near θ = π above the critical mass (N = 14, θ = 2.68, m = 0.73, χ = 4, from a calibration run): DMRG
    from the bare vacuum stays on the upper branch of the level crossing (energy 0.18 and a field 0.94 off
    ED, and the warm-started χ_mid, χ runs inherit it, so no truncation line sees it); the flipped vacuum
    reaches the lower branch, and the lower energy is kept."""
    from qlat.quantum.exact_backend import exact_estimates

    model = SchwingerModel(14, 0.9658768469872401, 0.7330208339650985, theta=2.680606782885855)
    est = dmrg_estimates(model, ["energy", "electric_field"], bond_dim=4)
    exact = exact_estimates(model, observables=["energy", "electric_field"])
    start = est["energy"].provenance["start"]
    assert start["kept"] == "flipped_vacuum" and start["bond_dim"] == 2
    assert start["energies"]["bare_vacuum"] - start["energies"]["flipped_vacuum"] > 0.1  # two branches
    assert 0.0 < est["energy"].value - exact["energy"].value < 1e-3  # variational, on the right branch
    assert max(abs(est[k].value - exact[k].value) for k in exact if k.startswith("electric_field")) < 2e-3

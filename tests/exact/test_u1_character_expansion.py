import math

import numpy as np
import pytest
from scipy.special import iv

from qlat.core.errors import ParameterError
from qlat.exact import u1_character_expansion as ex


def _brute_force_2x2(beta: float, n: int) -> tuple[float, float, float]:
    """log Z, ⟨cos θ_P⟩ and ⟨Q²⟩ on the 2×2 torus by direct integration over the links.

    Three links of a maximal tree are gauge-fixed to 0 (exact for gauge-invariant integrands with
    the normalized Haar measure); the other five are integrated with the periodic trapezoid rule
    on n points each (spectrally accurate for the smooth Z and ⟨P⟩; ⟨Q²⟩ has the jumps of arg at
    ±π and converges algebraically).
    """
    g = 2 * np.pi * np.arange(n) / n - np.pi
    a, b, c, d, e = np.meshgrid(g, g, g, g, g, indexing="ij", sparse=True)
    t0 = {(0, 0): 0.0, (1, 0): a, (0, 1): b, (1, 1): c}
    t1 = {(0, 0): 0.0, (1, 0): 0.0, (0, 1): d, (1, 1): e}
    plaq = 0.0
    charge = 0.0
    for x in range(2):
        for y in range(2):
            th = t0[(x, y)] + t1[((x + 1) % 2, y)] - t0[(x, (y + 1) % 2)] - t1[(x, y)]
            plaq = plaq + np.cos(th)
            charge = charge + (th - 2 * np.pi * np.ceil((th - np.pi) / (2 * np.pi)))
    charge = charge / (2 * np.pi)
    w = np.exp(beta * (plaq - 4))
    z = w.sum()
    return math.log(z / n**5) + 4 * beta, float((w * plaq).sum() / z / 4), float((w * charge**2).sum() / z)


@pytest.mark.parametrize("beta", [0.7, 2.0])
def test_brute_force_2x2_torus(beta):
    log_z, plaq, q2_20 = _brute_force_2x2(beta, 20)
    assert log_z == pytest.approx(ex.log_partition_function(beta, 2), rel=1e-12)
    assert plaq == pytest.approx(ex.mean_plaquette(beta, 2), rel=1e-12)
    # ⟨Q²⟩: the brute force converges (algebraically) to the character-expansion value
    exact_q2 = ex.topological_q2(beta, 2)
    e10 = _brute_force_2x2(beta, 10)[2] - exact_q2
    e20 = q2_20 - exact_q2
    assert abs(e20) < 0.5 * abs(e10)
    assert abs(e20) < 0.05 * exact_q2


@pytest.mark.parametrize("beta, L", [(0.5, 2), (1.0, 4), (3.0, 8), (6.0, 16), (12.0, 32)])
def test_bessel_and_theta_forms_agree(beta, L):
    assert ex.log_partition_function_theta(beta, L, 0.0) == pytest.approx(ex.log_partition_function(beta, L), rel=1e-12)


def test_small_volume_bessel_sum_directly():
    beta, volume = 1.3, 4
    direct = sum(iv(n, beta) ** volume for n in range(-30, 31))
    assert ex.log_partition_function(beta, 2) == pytest.approx(math.log(direct), rel=1e-13)


@pytest.mark.parametrize("beta, L", [(1.0, 4), (2.0, 8), (4.0, 8), (3.0, (6, 10))])
def test_plaquette_is_derivative_of_log_z(beta, L):
    volume = L * L if isinstance(L, int) else L[0] * L[1]
    h = 1e-4
    d = (ex.log_partition_function(beta + h, L) - ex.log_partition_function(beta - h, L)) / (2 * h)
    assert ex.mean_plaquette(beta, L) == pytest.approx(d / volume, rel=1e-7)


@pytest.mark.parametrize("beta, L", [(1.0, 4), (2.0, 8), (4.0, 8), (5.0, 16)])
def test_q2_is_minus_second_theta_derivative(beta, L):
    h = 1e-2
    lz = [ex.log_partition_function_theta(beta, L, t) for t in (-h, 0.0, h)]
    second = (lz[0] - 2 * lz[1] + lz[2]) / h**2
    # O(h²) finite-difference error, relative ≈ h² ⟨Q⁴⟩_c/(12⟨Q²⟩) < 1e-4 here
    assert ex.topological_q2(beta, L) == pytest.approx(-second, rel=2e-4)


def test_z_theta_is_periodic_and_even():
    beta, L = 2.0, 6
    a = ex.log_partition_function_theta(beta, L, 0.7)
    assert ex.log_partition_function_theta(beta, L, -0.7) == pytest.approx(a, rel=1e-12)
    assert ex.log_partition_function_theta(beta, L, 0.7 + 2 * math.pi) == pytest.approx(a, rel=1e-10)
    assert a < ex.log_partition_function(beta, L)  # |Z(θ)| < Z(0)


def test_large_volume_limits():
    for beta in (1.0, 3.0):
        assert ex.mean_plaquette(beta, 64) == pytest.approx(ex.mean_plaquette_infinite_volume(beta), rel=1e-10)
        assert ex.topological_susceptibility(beta, 64) == pytest.approx(
            ex.topological_susceptibility_infinite_volume(beta), rel=1e-6
        )
    assert ex.mean_plaquette_infinite_volume(2.0) == pytest.approx(iv(1, 2.0) / iv(0, 2.0), rel=1e-14)


def test_large_beta_limit_of_chi_t():
    # βχ_t → 1/(4π²) with a 1/β correction: check the approach
    target = 1 / (4 * math.pi**2)
    dev = [abs(b * ex.topological_susceptibility_infinite_volume(b) - target) / target for b in (10.0, 100.0, 1000.0)]
    # V << β: topology is suppressed like exp(−2π²β/V) (= e^{−308} here); absolute accuracy ~1e-15
    assert abs(ex.topological_q2(1000.0, 8)) < 1e-12
    assert dev[2] < 2e-3 and dev[2] < dev[1] < dev[0]


def test_reference_values():
    # flow tutorial / Kanwar et al. quote ⟨Q²⟩ = 1.28(5) from the flow sampler at L = 8, β = 2
    assert abs(ex.topological_q2(2.0, 8) - 1.28) < 3 * 0.05
    assert ex.mean_plaquette(2.0, 8) == pytest.approx(0.6978, abs=2e-4)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: ex.mean_plaquette(0.0, 8), "beta"),
        (lambda: ex.topological_q2(-1.0, 8), "beta"),
        (lambda: ex.mean_plaquette(1.0, 1), "L"),
        (lambda: ex.log_partition_function_theta(1.0, 8, math.nan), "theta"),
    ],
)
def test_bad_input(call, name):
    with pytest.raises(ParameterError) as info:
        call()
    assert info.value.parameter == name

import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice


def test_sizes_and_planes():
    lat = Lattice((4, 6, 2))
    assert lat.ndim == 3 and lat.volume == 48
    assert lat.planes == ((0, 1), (0, 2), (1, 2))
    assert Lattice.square(5, ndim=4).shape == (5, 5, 5, 5)


@pytest.mark.parametrize("shape", [(1, 4), (4, 0), (), (2, 2, 2, 2, 2)])
def test_bad_shape_names_L_or_shape(shape):
    with pytest.raises(ParameterError) as info:
        Lattice(shape)
    assert info.value.parameter in ("L", "shape")


def test_bad_square():
    with pytest.raises(ParameterError, match="L"):
        Lattice.square(1)


def test_shift_reads_forward_neighbour():
    lat = Lattice((3, 5))
    x = torch.arange(15.0, dtype=torch.float64).reshape(1, 3, 5)
    fwd = lat.shift(x, 1)
    # out[x] = field[x + 1̂], periodic
    assert fwd[0, 2, 4] == x[0, 2, 0]
    assert fwd[0, 1, 1] == x[0, 1, 2]
    back = lat.shift(x, 0, -2)
    assert back[0, 0, 3] == x[0, 1, 3]  # 0 − 2 ≡ 1 mod 3
    assert torch.equal(lat.shift(lat.shift(x, 0, 2), 0, -2), x)


def test_antiperiodic_shift_flips_wrapped_entries():
    lat = Lattice((4, 4))
    x = torch.ones((2, 4, 4), dtype=torch.float64)
    fwd = lat.shift(x, 0, antiperiodic=True)
    assert torch.all(fwd[:, :3] == 1) and torch.all(fwd[:, 3] == -1)
    bwd = lat.shift(x, 0, -1, antiperiodic=True)
    assert torch.all(bwd[:, 0] == -1) and torch.all(bwd[:, 1:] == 1)
    # going once around the torus gives an overall −1, twice gives +1
    assert torch.equal(lat.shift(x, 1, 4, antiperiodic=True), -x)
    assert torch.equal(lat.shift(x, 1, 8, antiperiodic=True), x)
    # composition of single shifts equals the multiple shift
    y = torch.randn((1, 4, 4), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    two = lat.shift(lat.shift(y, 1, antiperiodic=True), 1, antiperiodic=True)
    assert torch.equal(two, lat.shift(y, 1, 2, antiperiodic=True))


def test_checkerboard_neighbours_have_other_colour():
    for shape in [(4, 6), (2, 4, 4), (2, 2, 2, 4)]:
        lat = Lattice(shape)
        even, odd = lat.checkerboard_masks()
        assert int(even.sum()) == int(odd.sum()) == lat.volume // 2
        assert not torch.any(even & odd)
        for mu in range(lat.ndim):
            nb = lat.shift(even[None].to(torch.float64), mu)[0] > 0.5
            assert torch.equal(nb, odd)


def test_link_checkerboard_links_share_no_plaquette():
    lat = Lattice((4, 6))
    for mu in range(2):
        for parity in (0, 1):
            m = lat.link_checkerboard(mu, parity)
            nu = 1 - mu
            # the other μ-links in the plaquettes of a selected link sit at x ± ν̂
            shifted = lat.shift(m[None].to(torch.float64), nu)[0] > 0.5
            assert not torch.any(m & shifted)


def test_plaquette_angle_on_pure_gauge_is_zero():
    lat = Lattice((4, 4, 6))
    g = torch.Generator().manual_seed(3)
    alpha = torch.rand((2, *lat.shape), dtype=torch.float64, generator=g)
    links = torch.stack([lat.shift(alpha, mu) - alpha for mu in range(3)], dim=1)
    theta = lat.plaquette_angles(links)
    assert theta.shape == (2, 3, 4, 4, 6)
    assert torch.allclose(theta, torch.zeros_like(theta), atol=1e-14)

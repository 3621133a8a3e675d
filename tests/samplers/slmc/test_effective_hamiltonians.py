"""Effective models: shell geometry, O(3) and translation symmetry to 1e-10, equivariance, training, files."""

import itertools
import json

import pytest
import torch

from qlat.core.errors import CorruptFileError, ParameterError
from qlat.samplers.slmc.effective_hamiltonians import (
    EquivariantTransformer,
    LinearEffectiveModel,
    build_model,
    deepen,
    neighbourhood,
    parameter_count,
    shell_pairs,
)
from qlat.samplers.slmc.training import TrainingData, load_model, save_model, train_model
from qlat.theories.double_exchange import DoubleExchangeTheory

from ._helpers import random_o3, random_spins, rotate


def _transformer(shape=(4, 4), boundary="periodic", layers=2, **kw):
    torch.manual_seed(0)
    m = EquivariantTransformer(shape, boundary=boundary, layers=layers, heads=2, radius=1, shells=3, seed=3,
                               init_scale=0.7, **kw)
    with torch.no_grad():
        m.energy.e0.fill_(-1.3)
        m.energy.couplings.copy_(torch.tensor([0.7, -0.2, 0.05], dtype=torch.float64))
    return m


def test_shell_pairs_on_the_torus():
    pairs = shell_pairs((6, 6), "periodic", 6)
    assert [len(i) for i, _ in pairs] == [72, 72, 72, 144, 72, 36]
    open_pairs = shell_pairs((3, 2), "open", 1)
    assert len(open_pairs[0][0]) == 7  # 3·1 + 2·2 bonds
    with pytest.raises(ParameterError):
        shell_pairs((2, 2), "periodic", 5)


def test_linear_model_is_the_nearest_neighbour_sum():
    m = LinearEffectiveModel((4, 5), shells=1)
    with torch.no_grad():
        m.energy.e0.fill_(0.3)
        m.energy.couplings.fill_(1.7)
    s = random_spins((4, 5), seed=2)
    nn_sum = (s * (torch.roll(s, -1, 2) + torch.roll(s, -1, 3))).sum(dim=(1, 2, 3))
    assert torch.allclose(m(s), 0.3 - 1.7 * nn_sum, atol=1e-12)


def test_least_squares_recovers_linear_couplings():
    truth = LinearEffectiveModel((4, 4), shells=3)
    with torch.no_grad():
        truth.energy.e0.fill_(-2.0)
        truth.energy.couplings.copy_(torch.tensor([0.5, -0.25, 0.125], dtype=torch.float64))
    spins = random_spins((4, 4), batch=40, seed=5)
    data = TrainingData(spins, truth(spins).detach())
    fitted = LinearEffectiveModel((4, 4), shells=3)
    record = train_model(fitted, data, seed=1)
    assert torch.allclose(fitted.energy.couplings, truth.energy.couplings, atol=1e-10)
    assert record.best_val_mse < 1e-20


@pytest.mark.parametrize("reflect", [False, True])
@pytest.mark.parametrize("boundary", ["periodic", "open"])
def test_o3_symmetry_of_both_models(reflect, boundary):
    shape = (4, 3)
    s = random_spins(shape, seed=1)
    r = random_o3(11, reflect=reflect)
    lin = LinearEffectiveModel(shape, boundary=boundary, shells=3)
    with torch.no_grad():
        lin.energy.couplings.copy_(torch.tensor([1.0, 0.4, -0.3], dtype=torch.float64))
    tr = _transformer(shape, boundary)
    with torch.no_grad():
        assert torch.allclose(lin(rotate(r, s)), lin(s), atol=1e-10, rtol=0)
        assert torch.allclose(tr(rotate(r, s)), tr(s), atol=1e-10, rtol=0)
        # the translated spins rotate with the input
        assert torch.allclose(tr.translated_spins(rotate(r, s)), rotate(r, tr.translated_spins(s)), atol=1e-10,
                              rtol=0)


def test_translation_symmetry_of_both_models():
    shape = (4, 6)
    s = random_spins(shape, seed=4)
    lin = LinearEffectiveModel(shape, shells=4)
    with torch.no_grad():
        lin.energy.couplings.copy_(torch.tensor([1.0, 0.4, -0.3, 0.1], dtype=torch.float64))
    tr = _transformer(shape)
    with torch.no_grad():
        out = tr.translated_spins(s)
        for sx, sy in itertools.product(range(4), range(6)):
            moved = torch.roll(s, shifts=(sx, sy), dims=(2, 3))
            assert torch.allclose(lin(moved), lin(s), atol=1e-10, rtol=0)
            assert torch.allclose(tr(moved), tr(s), atol=1e-10, rtol=0)
            assert torch.allclose(tr.translated_spins(moved), torch.roll(out, shifts=(sx, sy), dims=(2, 3)),
                                  atol=1e-10, rtol=0)


def test_transformer_outputs_unit_spins_and_depends_on_its_weights():
    tr = _transformer()
    s = random_spins((4, 4), seed=6)
    with torch.no_grad():
        out = tr.translated_spins(s)
        assert torch.allclose(out.norm(dim=1), torch.ones_like(out[:, 0]), atol=1e-12)
        assert (out - s).abs().max() > 1e-3  # the layers do something
    zero = EquivariantTransformer((4, 4), layers=0, shells=3)
    lin = LinearEffectiveModel((4, 4), shells=3)
    zero.energy.load_state_dict(tr.energy.state_dict())
    lin.energy.load_state_dict(tr.energy.state_dict())
    assert torch.allclose(zero(s), lin(s), atol=0)


def test_neighbourhood_and_parameter_count():
    assert neighbourhood((6, 6), 1)[0] == (0, 0)
    assert len(neighbourhood((6, 6), 1)) == 9
    assert len(neighbourhood((2, 1), 1)) == 2  # offsets distinct modulo the lattice
    tr = EquivariantTransformer((6, 6), layers=3, heads=2, radius=1, shells=4)
    assert parameter_count(tr) == 3 * 3 * 2 * 9 + 4 + 1


def test_transformer_training_lowers_the_training_loss():
    th = DoubleExchangeTheory((3, 3), t=1.0, J=2.0, mu=-1.0, T=0.5)
    spins = random_spins((3, 3), batch=48, seed=7)
    data = TrainingData(spins, th.free_energy(spins))
    tr = EquivariantTransformer((3, 3), layers=1, heads=1, radius=1, shells=2, seed=0)
    record = train_model(tr, data, epochs=15, lr=2e-2, batch_size=16, seed=0)
    assert len(record.train_mse) == 16 and record.n_train + record.n_val == 48
    assert min(record.train_mse[1:]) < record.train_mse[0]
    assert record.val_mse[record.best_epoch] == min(record.val_mse)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_save_load_round_trip_and_refusals(tmp_path):
    tr = _transformer((4, 4))
    card = save_model(tmp_path / "m", tr, theory_params={"name": "double-exchange", "shape": [4, 4]})
    loaded, card2 = load_model(tmp_path / "m")
    assert card2 == json.loads((tmp_path / "m" / "card.json").read_text()) == card
    s = random_spins((4, 4), seed=8)
    with torch.no_grad():
        assert torch.equal(loaded(s), tr(s))
    assert build_model(card["config"]).config() == tr.config()
    # tampered weights
    weights = tmp_path / "m" / "model.pt"
    weights.write_bytes(weights.read_bytes() + b"x")
    with pytest.raises(CorruptFileError):
        load_model(tmp_path / "m")
    # a pickled object is refused by weights_only loading even with a matching checksum
    import hashlib
    import pickle

    weights.write_bytes(pickle.dumps(ParameterError("x", "y")))
    card["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (tmp_path / "m" / "card.json").write_text(json.dumps(card))
    with pytest.raises(ParameterError) as info:
        load_model(tmp_path / "m")
    assert info.value.parameter == "model"
    with pytest.raises(ParameterError):
        load_model(tmp_path / "missing")


@pytest.mark.parametrize("boundary", ["periodic", "open"])
def test_linear_local_change_equals_the_energy_difference(boundary):
    m = LinearEffectiveModel((4, 3), boundary=boundary, shells=4)
    with torch.no_grad():
        m.energy.couplings.copy_(torch.tensor([1.0, -0.4, 0.3, 0.2], dtype=torch.float64))
    s = random_spins((4, 3), batch=5, seed=9)
    site = torch.tensor([0, 5, 11, 3, 7])
    new = random_spins((1, 1), batch=5, seed=10)[:, :, 0, 0]
    moved = s.clone()
    moved[torch.arange(5), :, site // 3, site % 3] = new
    with torch.no_grad():
        assert torch.allclose(m.local_change(s, site, new), m(moved) - m(s), atol=1e-12, rtol=0)


@pytest.mark.parametrize(("shape", "boundary"), [((4, 3), "periodic"), ((4, 3), "open"), ((2, 5), "periodic")])
def test_coupling_matrix_is_the_linear_energy(shape, boundary):
    """E₀ − ½ Σ_ij 𝒥_ij S_i·S_j equals the model (every shell, extent-2 pairs once), and 𝒥 is symmetric, traceless."""
    from qlat.samplers.slmc.effective_hamiltonians import pair_distance_count

    shells = pair_distance_count(shape, boundary)
    m = LinearEffectiveModel(shape, boundary=boundary, shells=shells)
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        m.energy.e0.fill_(0.7)
        m.energy.couplings.copy_(torch.randn(shells, dtype=torch.float64, generator=g))
    jm = m.coupling_matrix()
    n = shape[0] * shape[1]
    assert jm.shape == (n, n) and torch.equal(jm, jm.T) and not jm.diagonal().any()
    s = random_spins(shape, batch=6, seed=13).reshape(6, 3, n)
    quadratic = 0.7 - 0.5 * torch.einsum("bci,ij,bcj->b", s, jm, s)
    with torch.no_grad():
        assert torch.allclose(quadratic, m(s.reshape(6, 3, *shape)), atol=1e-12, rtol=0)


def test_deepen_adds_an_identity_layer():
    tr = _transformer((4, 4), layers=1)
    deeper = deepen(tr)
    s = random_spins((4, 4), seed=12)
    assert len(deeper.layers) == 2
    with torch.no_grad():
        assert torch.allclose(deeper(s), tr(s), atol=1e-12, rtol=0)
        deeper.layers[-1].w_value.fill_(0.3)
        assert (deeper(s) - tr(s)).abs().max() > 1e-6

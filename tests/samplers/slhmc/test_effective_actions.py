"""The SLHMC effective action: gauge invariance, covariance of the attention layers, autograd force,
training (regression of differences) and the hashed model card."""

from __future__ import annotations

import json
import math

import pytest
import torch

from qlat.core.errors import CorruptFileError, ParameterError
from qlat.core.lattice import Lattice
from qlat.samplers.slhmc.effective_actions import EffectiveAction, link_tokens, loop_features
from qlat.samplers.slhmc.training import (
    TrainingData,
    exact_actions,
    fit_linear,
    load_model,
    residual_variance,
    save_model,
    train_model,
)
from qlat.theories.schwinger_wilson import SchwingerTheory


def _random_model(layers: int = 2, seed: int = 1) -> EffectiveAction:
    """An attention model with non-trivial step sizes ρ and couplings (an untrained model has ρ = 0)."""
    model = EffectiveAction(layers=layers, heads=2, hidden=6, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.layers:
            layer.rho.copy_(0.4 * torch.randn(layer.rho.shape, generator=g, dtype=torch.float64))
        model.coupling.copy_(torch.randn(5, generator=g, dtype=torch.float64))
    return model


def _links(batch: int, shape=(4, 6), seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (2 * torch.rand((batch, 2, *shape), generator=g, dtype=torch.float64) - 1) * math.pi


def _gauge(links: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """θ_μ(x) → θ_μ(x) + λ(x) − λ(x + μ̂)."""
    out = links.clone()
    out[:, 0] += lam - torch.roll(lam, -1, 1)
    out[:, 1] += lam - torch.roll(lam, -1, 2)
    return out


def test_gauge_invariance_and_covariance():
    """S_eff is invariant to 1e-10 under random gauge transformations, the smeared links are covariant,
    and S_eff does change under a change of the links that is not a gauge transformation (power)."""
    model = _random_model(layers=2)
    links = _links(4)
    lam = 10.0 * torch.rand((4, 4, 6), generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    moved = _gauge(links, lam)
    with torch.no_grad():
        s, s_g = model(links), model(moved)
        assert (s - s_g).abs().max() < 1e-10
        smeared, smeared_g = model.smear(links), model.smear(moved)
        diff = torch.remainder(_gauge(smeared, lam) - smeared_g + math.pi, 2 * math.pi) - math.pi
        assert diff.abs().max() < 1e-10
        assert (smeared - links).abs().max() > 1e-2  # the layers do move the links
        bumped = links.clone()
        bumped[:, 0, 1, 2] += 0.3
        assert (model(bumped) - s).abs().min() > 1e-3


def test_charge_conjugation_and_translation():
    model = _random_model(layers=1)
    links = _links(3)
    with torch.no_grad():
        assert torch.allclose(model(-links), model(links), atol=1e-10)
        assert torch.allclose(model(torch.roll(links, (1, 2), (2, 3))), model(links), atol=1e-10)


def test_tokens_contain_their_link_once():
    """Every token w_{l,s} is a loop through link l that starts along l: ∂w_{l,s}/∂θ_l = +1."""
    links = _links(1).requires_grad_(True)
    tokens = link_tokens(links)
    for mu in (0, 1):
        for s in range(8):
            (grad,) = torch.autograd.grad(tokens[0, mu, s, 2, 3], links, retain_graph=True)
            assert grad[0, mu, 2, 3] == 1.0
            assert grad.abs().sum() in (4.0, 6.0)  # a plaquette or a 2×1 rectangle


def test_untrained_attention_is_the_linear_model():
    links = _links(3)
    linear, attention = EffectiveAction.pure_gauge(2.0), EffectiveAction.pure_gauge(2.0, layers=2)
    with torch.no_grad():
        assert torch.allclose(linear(links), attention(links), atol=1e-12)
        theory = SchwingerTheory(Lattice((4, 6)), beta=2.0, mass=0.1)
        assert torch.allclose(linear(links), theory.gauge_action(links), atol=1e-12)


def test_force_is_autograd_and_finite_difference():
    model = _random_model(layers=2)
    links = _links(2)
    force = model.force(links)
    h = 1e-5
    for b, mu, x0, x1 in ((0, 0, 1, 2), (1, 1, 3, 5), (0, 1, 0, 0)):
        plus, minus = links.clone(), links.clone()
        plus[b, mu, x0, x1] += h
        minus[b, mu, x0, x1] -= h
        with torch.no_grad():
            fd = (model(plus)[b] - model(minus)[b]) / (2 * h)
        assert abs(float(fd) - float(force[b, mu, x0, x1])) < 1e-6 * max(1.0, abs(float(fd)))
    assert force.abs().max() > 1e-2


def test_training_fits_action_differences():
    """The fit is constant free (a shifted target gives the same couplings), beats the pure gauge action,
    and AdamW steps on the attention layers do not make the validation residual worse."""
    theory = SchwingerTheory(Lattice((4, 4)), beta=2.0, mass=0.1, nf=2)
    fields = theory.hot_start(48, generator=torch.Generator().manual_seed(0)) * 0.35
    actions = exact_actions(theory, fields)
    data = TrainingData(fields, actions)
    linear = EffectiveAction()
    fit_linear(linear, data)
    shifted = EffectiveAction()
    fit_linear(shifted, TrainingData(fields, actions + 123.0))
    assert torch.allclose(linear.coupling, shifted.coupling, atol=1e-8)
    assert abs(float((shifted.offset - linear.offset).detach()) - 123.0) < 1e-6
    pure = EffectiveAction.pure_gauge(theory.beta)
    assert residual_variance(linear, data) < 0.5 * residual_variance(pure, data)
    model = EffectiveAction(layers=1, heads=1, hidden=4)
    record = train_model(model, data, epochs=3, batch_size=16, seed=0)
    assert record.best_val_var <= record.val_var[0]
    assert len(record.val_var) == 4 and record.n_train + record.n_val == 48


def test_model_card_round_trip_and_refusals(tmp_path):
    from qlat.core.schema import MalformedFileError

    theory = SchwingerTheory(Lattice((4, 4)), beta=2.0, mass=0.1)
    model = _random_model(layers=1)
    card = save_model(tmp_path / "m", model, theory_params=theory.params(), training={"epochs": 0})
    back, card2 = load_model(tmp_path / "m")
    links = _links(2, shape=(4, 4))
    with torch.no_grad():
        assert torch.equal(back(links), model(links))
    assert card2["weights_sha256"] == card["weights_sha256"] and card2["parameters"] == card["parameters"] > 5
    (tmp_path / "m" / "model.pt").write_bytes((tmp_path / "m" / "model.pt").read_bytes() + b"x")
    with pytest.raises(CorruptFileError, match="SHA-256"):
        load_model(tmp_path / "m")
    save_model(tmp_path / "n", model, theory_params=theory.params())
    raw = json.loads((tmp_path / "n" / "card.json").read_text())
    raw["config"]["layers"] = "two"
    (tmp_path / "n" / "card.json").write_text(json.dumps(raw))
    with pytest.raises(MalformedFileError, match=r"config\.layers"):
        load_model(tmp_path / "n")
    with pytest.raises(ParameterError, match="model"):
        load_model(tmp_path / "absent")


def test_loop_features_of_the_cold_configuration():
    cold = torch.zeros((1, 2, 4, 6), dtype=torch.float64)
    assert loop_features(cold).tolist() == [[24.0, 24.0, 24.0, 6.0, 4.0]]

"""ESS and acceptance metrics; checkpoints: round trip, resumable training, refusals."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

from qlat.core.errors import ParameterError
from qlat.core.lattice import Lattice
from qlat.samplers.flow import (
    FlowModel,
    TrainConfig,
    acceptance,
    ess,
    ess_with_error,
    independence_metropolis,
    load_model,
    load_training_state,
    read_card,
    save_checkpoint,
    train,
)
from qlat.samplers.flow.checkpoint import CARD_NAME
from qlat.theories.phi4 import Phi4Theory
from qlat.theories.u1 import U1Theory


# ------------------------------------------------------------------------------ metrics
def test_ess_limits_and_bootstrap():
    assert ess(np.zeros(100)) == pytest.approx(1.0)
    one = np.full(100, -50.0)
    one[3] = 0.0
    assert ess(one) == pytest.approx(0.01, rel=1e-12)
    rng = np.random.default_rng(0)
    log_w = rng.normal(0, 1, 4000)
    # log-normal weights: ESS = exp(−σ²) for N → ∞
    value, error = ess_with_error(log_w, n_boot=100, seed=1)
    assert 0 < error < 0.05
    assert abs(value - np.exp(-1.0)) < 4 * error


def test_independence_metropolis_acceptance():
    assert independence_metropolis(np.zeros(50)).all()
    # a proposal 20 units of log-weight worse than the current one is (practically) never accepted
    log_w = np.array([0.0] + [-20.0] * 200)
    assert acceptance(log_w) < 0.01
    rng = np.random.default_rng(0)
    lw = rng.normal(0, 0.5, 20000)
    # exact expectation E[min(1, w'/w)] for i.i.d. log w ~ N(0, σ²): 2Φ(−σ/√2)
    from scipy.stats import norm

    expected = 2 * norm.cdf(-0.5 / np.sqrt(2))
    assert abs(acceptance(lw) - expected) < 0.01
    # the same number as the fraction accepted by a long chain over the samples (one definition)
    chain = independence_metropolis(lw, seed=3).mean()
    assert abs(chain - expected) < 0.02
    # a wrong definition (the acceptance between two fresh proposals, E_{q×q}) differs by many errors
    w = np.exp(lw)
    qq = float(np.mean(np.minimum(1.0, w[1:] / w[:-1])))
    assert abs(qq - expected) > 0.05


def test_acceptance_u_statistic_equals_the_pair_sum():
    lw = np.array([0.3, -1.0, 2.0, -np.inf, 0.3, -0.5])
    w = np.exp(lw)
    n = lw.size
    pairs = sum(min(w[i], w[j]) for i in range(n) for j in range(n) if i != j)
    assert acceptance(lw) == pytest.approx(pairs / ((n - 1) * w.sum()), rel=1e-12)
    assert acceptance(lw + 40.0) == pytest.approx(acceptance(lw), rel=1e-12)  # scale-free
    assert acceptance(np.zeros(10)) == pytest.approx(1.0)
    assert np.isnan(acceptance(np.zeros(1)))


@pytest.mark.parametrize("shape", [0.2, 0.5, 0.8])
def test_pareto_khat_recovers_the_tail_shape(shape):
    """Weights w = u^(−k) (u uniform) have a Pareto tail of shape k; k̂ from 4096 samples is within ~3σ."""
    from qlat.samplers.flow import pareto_khat

    rng = np.random.default_rng(int(10 * shape))
    estimates = [pareto_khat(-shape * np.log(rng.random(4096))) for _ in range(8)]
    assert abs(np.mean(estimates) - shape) < 0.12
    # log-normal weights of σ = 0.3 (a good flow) have a light tail; a bounded weight a negative shape
    assert pareto_khat(0.3 * rng.normal(size=4096)) < 0.3
    assert pareto_khat(np.log(rng.random(4096))) < 0
    assert np.isnan(pareto_khat(np.zeros(10)))


# ------------------------------------------------------------------------------ checkpoints
@pytest.fixture()
def phi4_theory():
    return Phi4Theory(Lattice((4, 4)), m2=-1.0, lam=1.0)


def _train(theory, steps, *, directory=None, state=None, model=None, total=None):
    config = TrainConfig(steps=total or steps, batch=8, lr=1e-2, seed=3)
    if model is None:
        torch.manual_seed(0)
        model = FlowModel(theory.params(), {"n_layers": 2, "hidden": [4]})
    state = train(model, theory, config=config, state=state, until=steps)
    if directory is not None:
        save_checkpoint(directory, model, config=config, state=state)
    return model, state


def test_checkpoint_round_trip_and_card(tmp_path, phi4_theory):
    model, _ = _train(phi4_theory, 4, directory=tmp_path)
    card = read_card(tmp_path)
    for key in ("theory", "lattice", "architecture", "training", "weights", "qlat_version", "metrics"):
        assert key in card
    assert card["theory"] == phi4_theory.params()
    assert card["training"]["steps_done"] == 4 and len(card["training"]["history"]["loss"]) == 4
    loaded, _ = load_model(tmp_path, theory_params=phi4_theory.params())
    x = torch.randn(3, 4, 4, dtype=torch.float64)
    assert torch.allclose(loaded.log_prob(x), model.double().log_prob(x), atol=1e-10)


def test_training_resumes_bit_for_bit(tmp_path, phi4_theory):
    straight, _ = _train(phi4_theory, 6)
    _train(phi4_theory, 3, directory=tmp_path, total=6)
    # the schedule is set by the total: train 3 of 6 steps, stop, resume the remaining 3
    model, card = load_model(tmp_path, theory_params=phi4_theory.params(), dtype=torch.float32)
    state = load_training_state(tmp_path, card)
    assert state.step == 3
    resumed, state = _train(phi4_theory, 6, state=state, model=model)
    assert state.step == 6 and len(state.history["loss"]) == 6
    for (k, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k


def test_model_for_another_theory_is_refused(tmp_path, phi4_theory):
    _train(phi4_theory, 1, directory=tmp_path)
    with pytest.raises(ParameterError, match="lam"):
        load_model(tmp_path, theory_params=Phi4Theory(Lattice((4, 4)), m2=-1.0, lam=2.0).params())
    with pytest.raises(ParameterError, match="shape"):
        load_model(tmp_path, theory_params=Phi4Theory(Lattice((8, 8)), m2=-1.0, lam=1.0).params())
    with pytest.raises(ParameterError, match="theory"):
        load_model(tmp_path, theory_params=U1Theory(Lattice((4, 4)), beta=1.0).params())


def test_tampered_weights_are_refused(tmp_path, phi4_theory):
    _train(phi4_theory, 1, directory=tmp_path)
    card = read_card(tmp_path)
    path = tmp_path / card["weights"]["file"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ParameterError, match="sha256"):
        load_model(tmp_path)


class _Payload:
    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(_Payload.marker),))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickle_is_refused_and_never_executed(tmp_path, phi4_theory):
    _train(phi4_theory, 1, directory=tmp_path)
    marker = tmp_path / "executed"
    _Payload.marker = str(marker)
    card = read_card(tmp_path)
    for blob in (pickle.dumps({"w": _Payload()}), None):
        path = tmp_path / card["weights"]["file"]
        if blob is None:  # the same payload inside torch's own zip format
            torch.save({"w": _Payload()}, path)
        else:
            path.write_bytes(blob)
        import hashlib

        card["weights"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()  # a forged card
        (tmp_path / CARD_NAME).write_text(json.dumps(card))
        with pytest.raises(ParameterError, match="not a plain tensor file"):
            load_model(tmp_path)
        assert not marker.exists()


def test_missing_or_foreign_card_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="model card"):
        load_model(tmp_path)
    (tmp_path / CARD_NAME).write_text('{"format": "something-else"}')
    with pytest.raises(ParameterError, match=r"format: must be .qlat-flow-model. \(a qlat flow model card\)"):
        load_model(tmp_path)


def test_interrupted_training_is_checkpointed(phi4_theory):
    class Interrupting:
        name = "phi4"

        def __init__(self):
            self.calls = 0

        def log_prob(self, x):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt
            return phi4_theory.log_prob(x)

    saved = []
    torch.manual_seed(0)
    model = FlowModel(phi4_theory.params(), {"n_layers": 2, "hidden": [4]})
    with pytest.raises(KeyboardInterrupt):
        train(model, Interrupting(), config=TrainConfig(steps=10, batch=8), checkpoint=lambda s: saved.append(s.step),
              checkpoint_every=100)
    assert saved == [2]


def test_new_phase_restarts_the_schedule_and_is_recorded(tmp_path, phi4_theory):
    first = TrainConfig(steps=6, batch=8, lr=1e-2, seed=3)
    second = first.next_phase(4, steps=10, batch=16, lr=2e-3)
    assert (second.batch, second.lr, second.schedule_start, second.seed) == (16, 2e-3, 4, 3)
    assert second.learning_rate(4) == pytest.approx(2e-3)
    assert second.learning_rate(9) == pytest.approx(2e-3 * first.lr_min_factor)
    assert first.learning_rate(0) > first.learning_rate(3) > first.learning_rate(5)
    with pytest.raises(ParameterError, match="steps"):
        first.next_phase(6, steps=6)
    # two phases in one go == phase 1, checkpoint, phase 2 resumed from the checkpoint in two pieces
    torch.manual_seed(0)
    straight = FlowModel(phi4_theory.params(), {"n_layers": 2, "hidden": [4]})
    st = train(straight, phi4_theory, config=first, until=4)
    st = train(straight, phi4_theory, config=second, state=st)
    torch.manual_seed(0)
    model = FlowModel(phi4_theory.params(), {"n_layers": 2, "hidden": [4]})
    state = train(model, phi4_theory, config=first, until=4)
    state.phases.append({**first.to_dict(), "until": state.step})
    state = train(model, phi4_theory, config=second, state=state, until=7)
    save_checkpoint(tmp_path, model, config=second, state=state)
    card = read_card(tmp_path)
    assert card["training"]["phases"] == [{**first.to_dict(), "until": 4}]
    assert TrainConfig.from_dict(card["training"]["config"]) == second
    model, card = load_model(tmp_path, theory_params=phi4_theory.params(), dtype=torch.float32)
    state = load_training_state(tmp_path, card)
    assert state.step == 7 and state.phases == [{**first.to_dict(), "until": 4}]
    state = train(model, phi4_theory, config=TrainConfig.from_dict(card["training"]["config"]), state=state)
    assert state.step == 10 and state.history["lr"] == st.history["lr"]
    assert state.history["lr"][4] == pytest.approx(2e-3)
    for (k, a), (_, b) in zip(straight.state_dict().items(), model.state_dict().items()):
        assert torch.equal(a, b), k


def test_card_without_schedule_start_loads():
    old = {k: v for k, v in TrainConfig(steps=5).to_dict().items() if k != "schedule_start"}
    assert TrainConfig.from_dict(old).schedule_start == 0


def test_card_written_before_the_context_key_loads_as_plaquettes(tmp_path):
    theory = U1Theory(Lattice((4, 4)), beta=1.0)
    torch.manual_seed(0)
    model = FlowModel(theory.params(), {"n_layers": 2, "hidden": [4], "context": "plaquettes"})
    config = TrainConfig(steps=1, batch=8)
    save_checkpoint(tmp_path, model, config=config, state=train(model, theory, config=config))
    card = read_card(tmp_path)
    del card["architecture"]["context"]  # as the cards of the first sessions
    (tmp_path / CARD_NAME).write_text(json.dumps(card))
    loaded, _ = load_model(tmp_path, theory_params=theory.params())
    assert loaded.architecture["context"] == "plaquettes"
    x = torch.rand(3, 2, 4, 4, dtype=torch.float64)
    assert torch.allclose(loaded.log_prob(x), model.double().log_prob(x), atol=1e-10)


def test_transfer_carries_the_trained_conditioners_to_another_beta_and_lattice(tmp_path, u1_model_dir, u1_theory):
    """transfer_checkpoint: same theory → the same function; another β, L → a loadable flow for it, provenance kept."""
    from qlat.samplers.flow.checkpoint import transfer_checkpoint

    source, source_card = load_model(u1_model_dir)
    same = transfer_checkpoint(u1_model_dir, u1_theory.params(), tmp_path / "same")
    copy, _ = load_model(tmp_path / "same", theory_params=u1_theory.params())
    x = u1_theory.hot_start(8, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(copy.log_prob(x), source.log_prob(x), rtol=0, atol=1e-12)
    fresh = FlowModel(u1_theory.params(), source_card["architecture"])  # power: an untrained flow differs
    assert not torch.allclose(fresh.double().log_prob(x), source.log_prob(x), atol=1e-3)
    assert same["metrics"]["transferred_from"]["weights_sha256"] == source_card["weights"]["sha256"]
    assert same["training"]["steps_done"] == 0
    other = U1Theory(Lattice((8, 8)), beta=2.5)
    card = transfer_checkpoint(u1_model_dir, other.params(), tmp_path / "other")
    moved, _ = load_model(tmp_path / "other", theory_params=other.params())
    assert card["theory"]["beta"] == 2.5 and card["theory"]["shape"] == [8, 8]
    assert card["metrics"]["transferred_from"]["theory"] == source_card["theory"]
    nets = {k: v for k, v in source.state_dict().items() if ".net." in k}
    assert nets and all(torch.equal(moved.state_dict()[k], v) for k, v in nets.items())
    with pytest.raises(ParameterError, match="model"):
        load_model(tmp_path / "other", theory_params=u1_theory.params())

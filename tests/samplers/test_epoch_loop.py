"""The best-validation epoch loop shared by the SLMC and SLHMC trainers (qlat/samplers/epoch_loop.py)."""

from __future__ import annotations

import torch

from qlat.samplers.epoch_loop import EpochRecord, score_alias, train_best_validation


def _problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(23, 3, generator=g, dtype=torch.float64)
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + 0.3 * torch.randn(23, generator=g, dtype=torch.float64)
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    return model, x, y


def _run(*, lr: float, epochs: int = 8, batch_size: int = 5, min_batch: int = 1, seed: int = 0, calls=None):
    model, x, y = _problem()
    tr, val = slice(0, 17), slice(17, 23)

    def loss(idx):
        if calls is not None:
            calls.append(len(idx))
        return (model(x[tr][idx]).squeeze(1) - y[tr][idx]).square().mean()

    def score():
        with torch.no_grad():
            return (float((model(x[tr]).squeeze(1) - y[tr]).square().mean()),
                    float((model(x[val]).squeeze(1) - y[val]).square().mean()))

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    start = score()
    record = EpochRecord([start[0]], [start[1]], n_train=17, n_val=6)
    scores = train_best_validation(model, opt, record, epochs=epochs, batch_size=batch_size, seed=seed,
                                   batch_loss=loss, refit=lambda: None, score=score, min_batch=min_batch)
    assert scores is record
    return model, scores, score()


def test_model_ends_with_the_weights_of_the_best_validation_epoch():
    # a step size that overshoots: the validation score goes up and down, the best epoch is not the last
    _, scores, final = _run(lr=0.45, epochs=12)
    assert len(scores.train) == len(scores.val) == 13
    assert scores.val[scores.best_epoch] == min(scores.val)
    assert scores.best_epoch not in (0, 12)
    assert final[1] == scores.val[scores.best_epoch]


def test_fixed_seed_is_bit_for_bit_and_another_seed_differs():
    a, sa, _ = _run(lr=0.05)
    b, sb, _ = _run(lr=0.05)
    c, sc, _ = _run(lr=0.05, seed=1)
    assert sa.val == sb.val and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert sa.val != sc.val


def test_minibatches_cover_the_training_set_and_short_ones_are_skipped():
    calls: list[int] = []
    _run(lr=0.05, epochs=2, batch_size=5, calls=calls)
    assert calls == [5, 5, 5, 2] * 2
    calls.clear()
    _run(lr=0.05, epochs=2, batch_size=5, min_batch=3, calls=calls)
    assert calls == [5, 5, 5] * 2


def test_record_names_its_score_in_the_card_keys_and_aliases():
    class Record(EpochRecord):
        score_name = "mse"
        val_mse = score_alias("val")
        best_val_mse = score_alias("best_val")

    record = Record([3.0, 1.0, 2.0], [4.0, 0.5, 0.7], best_epoch=1, n_train=8, n_val=2)
    assert record.to_dict() == {"train_mse": [3.0, 1.0, 2.0], "val_mse": [4.0, 0.5, 0.7], "best_epoch": 1,
                                "best_val_mse": 0.5, "n_train": 8, "n_val": 2}
    assert record.val_mse is record.val and record.best_val_mse == 0.5

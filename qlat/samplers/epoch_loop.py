r"""The best-validation epoch loop shared by the self-learning trainers (SLMC, SLHMC).

Both regressions train the nonlinear layers of an effective model by minibatch steps of a torch
optimizer (AdamW, arXiv:1711.05101), refit the linear head by least squares after every epoch
(exact for fixed layers), score train and validation after every epoch and keep the weights of
the best validation score (early stopping without stopping).  What differs — the loss of a
minibatch, the head refit, the score — is passed in; the seeded data split is
:func:`qlat.samplers.training_split.split_indices`.

The minibatch order of epoch e is the e-th permutation from one ``torch.Generator`` seeded with
``seed``, so a fixed seed gives the same trained weights bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class EpochScores:
    """Train and validation scores per epoch (index 0: before the first epoch) and the best epoch."""

    train: list[float]
    val: list[float]
    best_epoch: int = 0


def train_best_validation(model: Any, optimizer: Any, scores: EpochScores, *, n_train: int, epochs: int,
                          batch_size: int, seed: int, batch_loss: Callable[[Any], Any],
                          refit: Callable[[], None], score: Callable[[], tuple[float, float]],
                          min_batch: int = 1, label: str = "val", progress: bool = False) -> EpochScores:
    """Run ``epochs`` epochs on ``model``; ``scores`` (holding the scores of the current weights)
    grows by one entry per epoch; on return ``model`` holds the weights of ``scores.best_epoch``.

    Each epoch: a random permutation of the ``n_train`` training indices (generator seeded with
    ``seed``), minibatches of ``batch_size`` indices (a last one shorter than ``min_batch`` is
    skipped), ``optimizer`` steps on ``batch_loss(indices)``; then ``refit()`` and ``score()``
    (train, validation).  A strictly lower validation score makes the epoch the best one.
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=epochs, desc="train", unit="epoch", leave=False)
    try:
        for epoch in range(1, epochs + 1):
            perm = torch.randperm(n_train, generator=g)
            for k in range(0, n_train - (min_batch - 1), batch_size):
                idx = perm[k:k + batch_size]
                if len(idx) < min_batch:
                    continue
                optimizer.zero_grad()
                batch_loss(idx).backward()
                optimizer.step()
            refit()
            train_score, val_score = score()
            scores.train.append(train_score)
            scores.val.append(val_score)
            if scores.val[-1] < scores.val[scores.best_epoch]:
                scores.best_epoch = epoch
                best = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if bar is not None:
                bar.update(1)
                bar.set_postfix({label: f"{scores.val[-1]:.3g}"})
    finally:
        if bar is not None:
            bar.close()
    model.load_state_dict(best)
    return scores

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

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from qlat.core.errors import require


@dataclass
class EpochRecord:
    """What a training did: train and validation scores per epoch (index 0: before the first
    epoch), the best epoch and the sizes of the two parts of the data.

    A trainer subclasses it to name its score (:attr:`score_name`, e.g. ``"mse"``): the keys of
    :meth:`to_dict` (``train_mse``, ``val_mse``, ``best_val_mse`` …, as written in model cards)
    and the attribute aliases made with :func:`score_alias`.
    """

    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    best_epoch: int = -1
    n_train: int = 0
    n_val: int = 0
    score_name: ClassVar[str] = "score"

    @property
    def best_val(self) -> float:
        return self.val[self.best_epoch] if self.val else math.nan

    def to_dict(self) -> dict[str, Any]:
        s = self.score_name
        return {f"train_{s}": self.train, f"val_{s}": self.val, "best_epoch": self.best_epoch,
                f"best_val_{s}": self.best_val, "n_train": self.n_train, "n_val": self.n_val}


R = TypeVar("R", bound=EpochRecord)


def score_alias(attribute: str) -> Any:
    """A read-only property giving ``attribute`` under a trainer's own name (``train_mse = score_alias("train")``)."""
    return property(lambda self: getattr(self, attribute), doc=f"The same as :attr:`EpochRecord.{attribute}`.")


def train_best_validation(model: Any, optimizer: Any, record: R, *, epochs: int,
                          batch_size: int, seed: int, batch_loss: Callable[[Any], Any],
                          refit: Callable[[], None], score: Callable[[], tuple[float, float]],
                          min_batch: int = 1, progress: bool = False) -> R:
    """Run ``epochs`` epochs on ``model``; ``record`` (holding the scores of the current weights as
    epoch 0) grows by one entry per epoch; on return ``model`` holds the weights of ``record.best_epoch``.

    Each epoch: a random permutation of the ``record.n_train`` training indices (generator seeded with
    ``seed``), minibatches of ``batch_size`` indices (a last one shorter than ``min_batch`` is
    skipped), ``optimizer`` steps on ``batch_loss(indices)``; then ``refit()`` and ``score()``
    (train, validation).  A strictly lower validation score makes the epoch the best one.
    """
    import torch

    require(len(record.train) == len(record.val) == 1, "record", "must hold the scores before the first epoch",
            len(record.val))
    record.best_epoch = 0
    n_train = record.n_train
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
            record.train.append(train_score)
            record.val.append(val_score)
            if record.val[-1] < record.val[record.best_epoch]:
                record.best_epoch = epoch
                best = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if bar is not None:
                bar.update(1)
                bar.set_postfix({f"val_{record.score_name}": f"{record.val[-1]:.3g}"})
    finally:
        if bar is not None:
            bar.close()
    model.load_state_dict(best)
    return record

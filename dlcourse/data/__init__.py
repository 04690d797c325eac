"""Data for the course: real offline data, preprocessing fitted on train only, and minibatches.

- :func:`load_digits` — scikit-learn's 8×8 digits as a stratified, standardized train/test
  :class:`Split` (:mod:`dlcourse.data.digits`).
- :class:`Standardize`, :class:`ChannelNormalize`, :class:`MinMaxScale` — scikit-learn's
  ``fit``/``transform`` on tensors (:mod:`dlcourse.data.preprocess`).
- :class:`PCA`, :class:`Whiten` — principal components and PCA/ZCA whitening
  (:mod:`dlcourse.data.pca`).
- :func:`quadrants`, :func:`ring`, :func:`three_modes` — the lecture's 2-D hard cases for a
  linear classifier (:mod:`dlcourse.data.toy`).
- :func:`loader` — reproducible shuffled minibatches of ``(X, y)`` (defined here).

See the book: Data preprocessing.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor

from dlcourse._validate import check_int, check_tensor
from dlcourse.data.digits import Split, load_digits
from dlcourse.data.pca import PCA, Whiten
from dlcourse.data.preprocess import ChannelNormalize, MinMaxScale, Preprocessor, Standardize
from dlcourse.data.toy import HARD_CASES, quadrants, ring, three_modes

__all__ = [
    "ChannelNormalize",
    "HARD_CASES",
    "MinMaxScale",
    "PCA",
    "Preprocessor",
    "Split",
    "Standardize",
    "TensorLoader",
    "Whiten",
    "load_digits",
    "loader",
    "quadrants",
    "ring",
    "three_modes",
]


class TensorLoader:
    """Minibatches ``(X[idx], y[idx])`` of in-memory tensors, reshuffled on every pass.

    The order comes from a CPU :class:`torch.Generator` seeded once at construction: the first pass
    over a new loader with the same seed is always the same, and the k-th pass (the k-th epoch) too.
    Indexing whole batches at once makes it much faster than a ``DataLoader`` over a
    ``TensorDataset`` for the small sets of this course, and it never starts worker processes.
    """

    def __init__(
        self, X: Tensor, y: Tensor, batch_size: int = 64, shuffle: bool = True, seed: int = 0
    ) -> None:
        self.X, self.y = X, y
        self.batch_size, self.shuffle = batch_size, shuffle
        self.generator = torch.Generator(device="cpu").manual_seed(seed)

    def __len__(self) -> int:
        """The number of minibatches per pass, the last one possibly smaller."""
        return -(-len(self.X) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.X)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.X.device)
        for start in range(0, n, self.batch_size):
            idx = order[start : start + self.batch_size]
            yield self.X[idx], self.y[idx]


def loader(
    X: Tensor, y: Tensor, batch_size: int = 64, shuffle: bool = True, seed: int = 0
) -> TensorLoader:
    """Reproducible minibatches of ``(X, y)`` for one or many epochs.

    Minibatch SGD visits the training set in a random order each epoch; seeding that order makes a
    training run repeatable, so stored notebook outputs do not change from run to run.

    Args:
        X: inputs, shape ``(N, ...)``.
        y: targets, shape ``(N, ...)``, the same ``N``.
        batch_size: samples per minibatch (the last one holds the remainder).
        shuffle: draw a new random order on every pass; ``False`` keeps the given order.
        seed: seeds the order; the same seed gives the same sequence of epochs.

    Returns:
        A :class:`TensorLoader`: iterate over it once per epoch; ``len()`` is the number of batches.

    See the book: Optimizers (minibatch SGD).
    """
    check_tensor("X", X)
    check_tensor("y", y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of samples, got X of shape {tuple(X.shape)} "
            f"and y of shape {tuple(y.shape)}"
        )
    if X.device != y.device:
        raise ValueError(f"X is on {X.device} but y is on {y.device}: move both with .to(device)")
    check_int("batch_size", batch_size, min=1)
    check_int("seed", seed)
    return TensorLoader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)

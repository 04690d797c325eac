"""scikit-learn's handwritten digits as train/test tensors, standardized on the training set only.

The data ships inside scikit-learn (no download): 1,797 grey-level images of 8×8 pixels with values
0–16, ten balanced classes. It is small enough that a 30-layer network trains in seconds on a
laptop CPU, and real enough that initialization and normalization visibly matter.

See the book: Data preprocessing; Weight initialization (He et al.'s Xavier-versus-Kaiming curves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from dlcourse._validate import check_int, check_real
from dlcourse.data.preprocess import Standardize

__all__ = ["Split", "load_digits"]

N_CLASSES = 10
IMAGE_SHAPE = (1, 8, 8)  # (C, H, W)


@dataclass
class Split:
    """A train/test split of tensors, and the scaler fitted on the training part (if any).

    Attributes:
        X_train, y_train: training inputs (float32) and integer labels (int64).
        X_test, y_test: test inputs and labels, transformed with the *training* statistics.
        scaler: the :class:`~dlcourse.data.preprocess.Standardize` fitted on ``X_train``
            (before any reshape), or ``None`` when the data was not standardized.
    """

    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor
    scaler: Standardize | None = None

    @property
    def train(self) -> tuple[Tensor, Tensor]:
        """``(X_train, y_train)``, ready for ``fit(net, split.train, ...)``."""
        return self.X_train, self.y_train

    @property
    def test(self) -> tuple[Tensor, Tensor]:
        """``(X_test, y_test)``, for ``valid=split.test`` or ``evaluate(net, *split.test)``."""
        return self.X_test, self.y_test

    @property
    def n_classes(self) -> int:
        """The number of classes (10 for the digits)."""
        return N_CLASSES


def load_digits(
    test_size: float = 0.25,
    seed: int = 0,
    standardize: bool = True,
    flatten: bool = True,
    device: torch.device | str | None = None,
) -> Split:
    r"""Load the 8×8 digits, split them (stratified) and standardize with the training statistics.

    With ``standardize=True`` each pixel :math:`j` becomes :math:`(x_j - \mu_j)/\sigma_j`, where
    :math:`\mu_j, \sigma_j` come from the training images only (pixels that are constant on the
    training set are divided by 1, see :class:`~dlcourse.data.preprocess.Standardize`). With
    ``standardize=False`` the raw pixel values 0–16 are returned as floats.

    Args:
        test_size: fraction of the 1,797 images held out for testing, in (0, 1).
        seed: seeds the stratified split (``random_state`` of scikit-learn's ``train_test_split``).
        standardize: fit :class:`Standardize` on the training images and apply it to both parts.
        flatten: ``True`` gives ``X`` of shape ``(N, 64)``; ``False`` gives images ``(N, 1, 8, 8)``.
        device: where the tensors go; ``None`` keeps them on the CPU (pass ``dlcourse.device()``
            for the GPU when there is one).

    Returns:
        A :class:`Split` with float32 ``X`` and int64 ``y``; with the default ``test_size`` it holds
        1,347 training and 450 test images.
    """
    from sklearn.datasets import load_digits as _sklearn_digits
    from sklearn.model_selection import train_test_split

    check_real("test_size", test_size, min=0, max=1, min_open=True, max_open=True)
    check_int("seed", seed)
    X, y = _sklearn_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y)
    X_train, X_test = _as_float(X_tr), _as_float(X_te)  # (N, 64)
    scaler = None
    if standardize:
        scaler = Standardize()
        X_train = scaler.fit_transform(X_train)  # statistics from the training images only
        X_test = scaler.transform(X_test)
    if not flatten:
        X_train, X_test = X_train.reshape(-1, *IMAGE_SHAPE), X_test.reshape(-1, *IMAGE_SHAPE)
    y_train, y_test = _as_labels(y_tr), _as_labels(y_te)
    if device is not None:
        X_train, y_train = X_train.to(device), y_train.to(device)
        X_test, y_test = X_test.to(device), y_test.to(device)
    return Split(X_train, y_train, X_test, y_test, scaler=scaler)


def _as_float(X: np.ndarray) -> Tensor:
    return torch.as_tensor(np.ascontiguousarray(X), dtype=torch.float32)


def _as_labels(y: np.ndarray) -> Tensor:
    return torch.as_tensor(np.ascontiguousarray(y), dtype=torch.int64)

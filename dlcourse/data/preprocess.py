"""Preprocessing fitted on the training set only: standardization, per-channel and min-max scaling.

Each preprocessor follows scikit-learn's protocol on tensors: ``fit(X_train)`` learns per-feature
statistics, ``transform(X)`` applies them to any split, ``fit_transform`` does both on the training
set and ``inverse_transform`` undoes the mapping. The lecture's common pitfall is to compute the
statistics on all the data: fit on the training set, then *apply* the same numbers to validation and
test data. Features are every axis but the first, so ``X`` may be ``(N, D)`` or ``(N, C, H, W)``.

For images ``(N, C, H, W)`` the lecture's three conventions are :class:`Standardize` with
``with_std=False`` (subtract the mean image, AlexNet), :class:`ChannelNormalize` with
``with_std=False`` (subtract one mean per channel, VGG) and :class:`ChannelNormalize` (per-channel
mean and std, ResNet). PCA and whitening are in :mod:`dlcourse.data.pca`.

See the book: Data preprocessing.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from torch import Tensor

from dlcourse._validate import check_interval, check_tensor

__all__ = ["ChannelNormalize", "MinMaxScale", "Preprocessor", "Standardize"]


class Preprocessor(ABC):
    """Base class: shared input checks, ``fit_transform`` and the not-fitted / shape errors.

    A subclass implements ``_fit`` (learn statistics from a checked training tensor),
    ``_transform`` and ``_inverse`` (apply them to a checked tensor).
    """

    n_features_in_: int | None = None
    feature_shape_: tuple[int, ...] | None = None

    def fit(self, X: Tensor) -> Preprocessor:
        """Learn the statistics from ``X`` (the training set only). Returns ``self``."""
        X = self._check_input(X, "fit")
        if X.shape[0] < 1:
            name = type(self).__name__
            raise ValueError(f"{name}.fit needs at least one sample, got shape {tuple(X.shape)}")
        self._fit(X)
        self.feature_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = math.prod(X.shape[1:])
        return self

    def transform(self, X: Tensor) -> Tensor:
        """Apply the statistics learned by :meth:`fit` to ``X`` (any split)."""
        return self._transform(self._check_fitted(X, "transform"))

    def fit_transform(self, X: Tensor) -> Tensor:
        """``fit(X)`` then ``transform(X)``: use it on the training set only."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Tensor) -> Tensor:
        """Map transformed data back to the original units."""
        return self._inverse(self._check_fitted(X, "inverse_transform"))

    @abstractmethod
    def _fit(self, X: Tensor) -> None: ...

    @abstractmethod
    def _transform(self, X: Tensor) -> Tensor: ...

    @abstractmethod
    def _inverse(self, X: Tensor) -> Tensor: ...

    def _check_input(self, X: Tensor, method: str) -> Tensor:
        check_tensor("X", X, floating=True)
        if X.ndim < 2:
            raise ValueError(
                f"{type(self).__name__}.{method} expects X of shape (N, features...), got shape "
                f"{tuple(X.shape)}: use X.reshape(-1, 1) for a single feature"
            )
        return X

    def _check_fitted(self, X: Tensor, method: str) -> Tensor:
        name = type(self).__name__
        if self.feature_shape_ is None:
            raise ValueError(
                f"{name} is not fitted yet: call .fit(X_train) on the training set "
                f"before .{method}(X)"
            )
        X = self._check_input(X, method)
        if tuple(X.shape[1:]) != self.feature_shape_:
            raise ValueError(
                f"{name} was fitted on {self.n_features_in_} features "
                f"(shape {self.feature_shape_}) "
                f"but X has {math.prod(X.shape[1:])} features (shape {tuple(X.shape[1:])}): "
                "transform data laid out like the training set"
            )
        return X


def _is_constant(spread: Tensor, center: Tensor) -> Tensor:
    """Features whose spread is zero, or only float64 round-off relative to their size.

    A feature that is constant at 0.1 has a spread of a few ulps, not exactly 0.
    """
    eps = torch.finfo(torch.float64).eps
    return spread <= 10 * eps * center.abs()


class Standardize(Preprocessor):
    r"""Zero mean and unit variance per feature, with statistics from the training set.

    .. math::

        \mu_j = \frac{1}{N}\sum_i x_{ij}, \qquad
        \sigma_j = \sqrt{\frac{1}{N}\sum_i (x_{ij} - \mu_j)^2}, \qquad
        x'_{ij} = \frac{x_{ij} - \mu_j}{s_j}, \quad
        s_j = \begin{cases} \sigma_j & \sigma_j > 0 \\ 1 & \sigma_j = 0 \end{cases}

    This is ``X -= np.mean(X, axis=0); X /= np.std(X, axis=0)`` from the lecture (population std,
    ``ddof=0``, as NumPy and scikit-learn's ``StandardScaler``). A feature that is constant on the
    training set (the digits have pixels that are always 0) has :math:`\sigma_j = 0`; dividing by it
    would give nan or inf, so it is divided by 1 instead, as scikit-learn does: it becomes 0 on the
    training set and keeps its offset from the training constant elsewhere. Statistics are computed
    in float64 and stored in the input's dtype.

    As scikit-learn's ``StandardScaler``, ``with_mean=False`` skips the centring and
    ``with_std=False`` the division (:math:`s_j = 1`): on images ``(N, C, H, W)``,
    ``Standardize(with_std=False)`` subtracts the *mean image* (AlexNet, :math:`C \cdot H \cdot W`
    numbers).

    Args:
        with_mean: subtract :math:`\mu` (otherwise :math:`\mu` is stored but not used).
        with_std: divide by :math:`s` (otherwise the divisor is 1).

    Attributes:
        mean_: :math:`\mu`, shape ``X.shape[1:]``.
        std_: :math:`\sigma` (0 for constant features).
        scale_: :math:`s`, the divisor actually used (1 for constant features).

    See the book: Data preprocessing (mean subtraction and normalization).
    """

    mean_: Tensor
    std_: Tensor
    scale_: Tensor

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean, self.with_std = bool(with_mean), bool(with_std)

    def _fit(self, X: Tensor) -> None:
        self.mean_, self.std_, self.scale_ = _moments(X.double(), dims=(0,), dtype=X.dtype)
        if not self.with_std:
            self.scale_ = torch.ones_like(self.scale_)

    def _center(self) -> Tensor:
        return self.mean_ if self.with_mean else torch.zeros_like(self.mean_)

    def _transform(self, X: Tensor) -> Tensor:
        return (X - self._center().to(X)) / self.scale_.to(X)

    def _inverse(self, X: Tensor) -> Tensor:
        return X * self.scale_.to(X) + self._center().to(X)


def _moments(
    X64: Tensor, dims: tuple[int, ...], dtype: torch.dtype
) -> tuple[Tensor, Tensor, Tensor]:
    """Mean, population std (0 where constant) and divisor (1 where constant) over ``dims``."""
    mean = X64.mean(dim=dims)
    std = X64.std(dim=dims, correction=0)
    constant = _is_constant(std, mean)
    return (
        mean.to(dtype),
        torch.where(constant, 0.0, std).to(dtype),
        torch.where(constant, 1.0, std).to(dtype),
    )


class ChannelNormalize(Preprocessor):
    r"""Per-channel mean (and std) of images ``(N, C, ...)``, over samples and pixels together.

    .. math::

        \mu_c = \frac{1}{N H W}\sum_{i,h,w} x_{ichw}, \qquad
        \sigma_c^2 = \frac{1}{N H W}\sum_{i,h,w} (x_{ichw} - \mu_c)^2, \qquad
        x'_{ichw} = \frac{x_{ichw} - \mu_c}{s_c}

    with :math:`s_c = \sigma_c` (:math:`s_c = 1` for a constant channel, or with
    ``with_std=False``). ``with_std=False`` is VGG's preprocessing (3 numbers for RGB),
    the default is ResNet's (6 numbers): the same as torchvision's
    ``Normalize(mean=mean_, std=std_)`` with statistics fitted on the training images. Unlike
    :class:`Standardize`, every pixel of a channel gets the same numbers, so images of any height
    and width can be transformed.

    Args:
        with_std: divide by the per-channel std (ResNet) or not (VGG).

    Attributes:
        mean_: :math:`\mu_c`, shape ``(C,)``.
        std_: :math:`\sigma_c` (0 for a constant channel).
        scale_: :math:`s_c`, the divisor actually used.

    See the book: Data preprocessing (in practice: AlexNet, VGG, ResNet).
    """

    mean_: Tensor
    std_: Tensor
    scale_: Tensor

    def __init__(self, with_std: bool = True) -> None:
        self.with_std = bool(with_std)

    def _fit(self, X: Tensor) -> None:
        self._check_images(X, "fit")
        dims = (0, *range(2, X.ndim))
        self.mean_, self.std_, self.scale_ = _moments(X.double(), dims=dims, dtype=X.dtype)
        if not self.with_std:
            self.scale_ = torch.ones_like(self.scale_)

    def _check_fitted(self, X: Tensor, method: str) -> Tensor:
        if self.feature_shape_ is None:
            return super()._check_fitted(X, method)  # raises: not fitted yet
        X = self._check_input(X, method)
        self._check_images(X, method)
        if X.shape[1] != self.feature_shape_[0]:
            raise ValueError(
                f"ChannelNormalize was fitted on {self.feature_shape_[0]} channels but X has "
                f"{X.shape[1]} (shape {tuple(X.shape)}): pass images (N, C, H, W) with the "
                "training set's channels"
            )
        return X  # any height and width

    def _check_images(self, X: Tensor, method: str) -> None:
        if X.ndim < 3:
            raise ValueError(
                f"ChannelNormalize.{method} expects images (N, C, H, W) or (N, C, L), got shape "
                f"{tuple(X.shape)}: use Standardize for (N, D) features"
            )

    def _view(self, stat: Tensor, X: Tensor) -> Tensor:
        return stat.to(X).reshape(1, -1, *([1] * (X.ndim - 2)))  # (1, C, 1, 1)

    def _transform(self, X: Tensor) -> Tensor:
        return (X - self._view(self.mean_, X)) / self._view(self.scale_, X)

    def _inverse(self, X: Tensor) -> Tensor:
        return X * self._view(self.scale_, X) + self._view(self.mean_, X)


class MinMaxScale(Preprocessor):
    r"""Scale each feature linearly so its training minimum and maximum map to ``feature_range``.

    With ``feature_range = (lo, hi)`` (default ``(-1, 1)``, the lecture's choice):

    .. math::

        x'_{ij} = lo + (hi - lo)\,\frac{x_{ij} - \min_i x_{ij}}{\max_i x_{ij} - \min_i x_{ij}}

    A feature that is constant on the training set has a zero range; it is mapped to the middle of
    the range, :math:`(lo + hi)/2` (0 by default), instead of dividing by zero. (scikit-learn's
    ``MinMaxScaler`` maps it to ``lo``; the middle keeps the data zero-centred.) Test data may fall
    outside ``feature_range``: the mapping is fitted on the training set and never clipped.

    Attributes:
        data_min_, data_max_: the per-feature training minimum and maximum.
        center_, half_range_: :math:`(\max + \min)/2` and :math:`(\max - \min)/2`, with 1 for
            constant features.

    See the book: Data preprocessing (mean subtraction and normalization).
    """

    data_min_: Tensor
    data_max_: Tensor
    center_: Tensor
    half_range_: Tensor

    def __init__(self, feature_range: tuple[float, float] = (-1.0, 1.0)) -> None:
        self.feature_range = check_interval("feature_range", feature_range)

    def _fit(self, X: Tensor) -> None:
        X64 = X.double()
        low, high = X64.amin(dim=0), X64.amax(dim=0)
        center, half = (high + low) / 2, (high - low) / 2
        constant = _is_constant(half, center)
        self.data_min_, self.data_max_ = low.to(X.dtype), high.to(X.dtype)
        self.center_ = center.to(X.dtype)
        self.half_range_ = torch.where(constant, 1.0, half).to(X.dtype)

    def _transform(self, X: Tensor) -> Tensor:
        lo, hi = self.feature_range
        unit = (X - self.center_.to(X)) / self.half_range_.to(X)  # [-1, 1] on the training set
        return unit * ((hi - lo) / 2) + (hi + lo) / 2

    def _inverse(self, X: Tensor) -> Tensor:
        lo, hi = self.feature_range
        unit = (X - (hi + lo) / 2) / ((hi - lo) / 2)
        return unit * self.half_range_.to(X) + self.center_.to(X)

r"""PCA and whitening fitted on the training set only: decorrelate, reduce, equalize the variances.

:class:`PCA` projects centred data onto the top-``k`` eigenvectors of the training covariance
(scikit-learn's ``PCA``, full SVD, the same signs); with ``whiten=True`` it also divides each
component by its standard deviation. :class:`Whiten` keeps every dimension and offers both
PCA whitening and ZCA whitening (rotate back to the original axes), with an ``eps`` for the
directions of (almost) zero variance.

The covariance is the unbiased one, :math:`\Sigma = X_c^\top X_c / (N - 1)`, as ``np.cov`` and
scikit-learn's ``PCA``: whitened training data has ``np.cov`` (and ``torch.cov``) equal to the
identity.

See the book: Data preprocessing (PCA and whitening).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from dlcourse._validate import check_choice, check_int, check_real
from dlcourse.data.preprocess import Preprocessor

__all__ = ["PCA", "Whiten"]


def _eigen(X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Mean, eigenvalues (descending) and eigenvectors (rows) of the covariance of ``X`` (N, D).

    Computed by an SVD of the centred data in float64. The sign of each eigenvector is fixed as
    scikit-learn fixes it (``svd_flip`` on the rows): its largest entry in absolute value is
    positive, so the result does not depend on the LAPACK build.
    """
    X64 = X.reshape(len(X), -1).double()
    mean = X64.mean(dim=0)
    _, S, Vt = torch.linalg.svd(X64 - mean, full_matrices=False)  # Vt: (min(N, D), D)
    top = Vt.abs().argmax(dim=1)
    signs = torch.sign(Vt[torch.arange(len(Vt)), top])
    variances = S**2 / max(len(X64) - 1, 1)
    return mean, variances, Vt * signs[:, None]


class PCA(Preprocessor):
    r"""Principal component analysis: project onto the top-``k`` directions of variance.

    With the training mean :math:`\mu`, the covariance
    :math:`\Sigma = \frac{1}{N-1}(X - \mu)^\top (X - \mu) = V^\top \Lambda V` (eigenvectors as the
    rows of :math:`V`, eigenvalues :math:`\lambda_1 \ge \lambda_2 \ge \dots`) and :math:`V_k` its
    first ``k`` rows:

    .. math::

        z = (x - \mu) V_k^\top, \qquad
        z^{\text{white}}_j = \frac{z_j}{\sqrt{\lambda_j + \varepsilon}}

    The components :math:`z_j` are uncorrelated with variances :math:`\lambda_j`; whitened, every
    variance is 1 (with :math:`\varepsilon = 0`). Inputs ``(N, ...)`` are flattened to ``(N, D)``;
    ``inverse_transform`` maps ``(N, k)`` back to ``(N, ...)`` (exact for ``k = D``, the best
    rank-``k`` approximation otherwise). Parity with scikit-learn's ``PCA`` (``svd_solver="full"``,
    ``whiten``) is tested in float64. Pearson (1901); Hotelling (1933).

    Args:
        n_components: ``k``, at most ``min(N, D)``; ``None`` keeps ``min(N, D)``.
        whiten: divide each component by :math:`\sqrt{\lambda_j + \varepsilon}`.
        eps: added to the eigenvalues before the square root when whitening (0, as scikit-learn).

    Attributes:
        mean_: :math:`\mu`, shape ``(D,)``.
        components_: :math:`V_k`, shape ``(k, D)``, orthonormal rows.
        explained_variance_: :math:`\lambda_1, \dots, \lambda_k`.
        explained_variance_ratio_: :math:`\lambda_j / \sum_i \lambda_i` over all eigenvalues.

    See the book: Data preprocessing (PCA and whitening).
    """

    mean_: Tensor
    components_: Tensor
    explained_variance_: Tensor
    explained_variance_ratio_: Tensor

    def __init__(
        self, n_components: int | None = None, whiten: bool = False, eps: float = 0.0
    ) -> None:
        if n_components is not None:
            check_int("n_components", n_components, min=1)
        self.n_components = n_components
        self.whiten = bool(whiten)
        self.eps = check_real("eps", eps, min=0)

    def _fit(self, X: Tensor) -> None:
        mean, variances, V = _eigen(X)
        k = len(variances) if self.n_components is None else self.n_components
        if k > len(variances):
            raise ValueError(
                f"n_components={k} is more than min(N, D) = {len(variances)} for X of shape "
                f"{tuple(X.shape)}: choose n_components <= {len(variances)}"
            )
        self.mean_, self.components_ = mean.to(X.dtype), V[:k].to(X.dtype)
        self.explained_variance_ = variances[:k].to(X.dtype)
        self.explained_variance_ratio_ = (variances[:k] / variances.sum()).to(X.dtype)

    def _scale(self, X: Tensor) -> Tensor:
        if not self.whiten:
            return torch.ones_like(self.explained_variance_).to(X)
        return torch.sqrt(self.explained_variance_.to(X) + self.eps)

    def _transform(self, X: Tensor) -> Tensor:
        Xc = X.reshape(len(X), -1) - self.mean_.to(X)  # (N, D)
        return Xc @ self.components_.to(X).T / self._scale(X)  # (N, k)

    def _inverse(self, Z: Tensor) -> Tensor:
        X = (Z * self._scale(Z)) @ self.components_.to(Z) + self.mean_.to(Z)  # (N, D)
        assert self.feature_shape_ is not None
        return X.reshape(len(Z), *self.feature_shape_)

    def inverse_transform(self, X: Tensor) -> Tensor:
        """Map components ``(N, k)`` back to the original space, shape ``(N, ...)``."""
        if self.feature_shape_ is None:
            self._check_fitted(X, "inverse_transform")  # raises: not fitted yet
        X = self._check_input(X, "inverse_transform")
        k = len(self.components_)
        if X.ndim != 2 or X.shape[1] != k:
            raise ValueError(
                f"{type(self).__name__}.inverse_transform expects components of shape (N, {k}), "
                f"got shape {tuple(X.shape)}: pass the output of .transform"
            )
        return self._inverse(X)


class Whiten(PCA):
    r"""Whitening: decorrelate and scale every direction to unit variance, PCA or ZCA style.

    With the eigen-decomposition :math:`\Sigma = V^\top \Lambda V` of the training covariance
    (see :class:`PCA`) and :math:`D_\varepsilon = \operatorname{diag}(1/\sqrt{\lambda_j +
    \varepsilon})`:

    .. math::

        \text{PCA:}\quad z = (x - \mu) V^\top D_\varepsilon, \qquad
        \text{ZCA:}\quad z = (x - \mu) V^\top D_\varepsilon V

    Both have identity covariance on the training set (for :math:`\varepsilon = 0`). PCA whitening
    gives the coordinates along the principal axes; ZCA rotates them back, so the output lives in
    the input's space and layout (``(N, C, H, W)`` stays an image) and is the whitened data closest
    to the input (Bell & Sejnowski, 1997). A direction of (almost) zero variance would be divided by
    :math:`\sqrt{0}`: ``eps`` bounds the gain at :math:`1/\sqrt{\varepsilon}`.

    Args:
        method: ``"pca"`` (output ``(N, D)``) or ``"zca"`` (output shaped as the input).
        eps: :math:`\varepsilon \ge 0`; 0 requires every eigenvalue to be positive.

    See the book: Data preprocessing (PCA and whitening).
    """

    def __init__(self, method: Literal["pca", "zca"] = "pca", eps: float = 1e-5) -> None:
        super().__init__(n_components=None, whiten=True, eps=eps)
        self.method = check_choice("method", method, ("pca", "zca"))

    def _fit(self, X: Tensor) -> None:
        D = math.prod(X.shape[1:])
        if len(X) < D:
            raise ValueError(
                f"Whiten needs at least as many samples as features to whiten every direction, "
                f"got X of shape {tuple(X.shape)} ({len(X)} < {D}): use PCA(n_components=k, "
                "whiten=True) with k < N instead"
            )
        super()._fit(X)
        variances = self.explained_variance_.double()
        tiny = variances.max() * D * torch.finfo(torch.float64).eps  # round-off of a zero
        if self.eps == 0 and bool((variances <= tiny).any()):
            raise ValueError(
                "Whiten(eps=0): the training covariance has a zero eigenvalue (a constant or "
                "redundant feature) and whitening would divide by 0: pass eps > 0, e.g. 1e-5"
            )

    def _transform(self, X: Tensor) -> Tensor:
        Z = super()._transform(X)  # (N, D), PCA-whitened
        if self.method == "pca":
            return Z
        return (Z @ self.components_.to(X)).reshape(X.shape)  # rotate back: ZCA

    def inverse_transform(self, X: Tensor) -> Tensor:
        """Map whitened data (``(N, D)`` for PCA, the input's shape for ZCA) back."""
        if self.method == "pca" or self.feature_shape_ is None:
            return super().inverse_transform(X)
        X = self._check_fitted(X, "inverse_transform")
        Z = X.reshape(len(X), -1) @ self.components_.to(X).T  # back to the principal axes
        return self._inverse(Z)

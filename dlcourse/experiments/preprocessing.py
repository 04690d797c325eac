"""The demos of the chapter *Data preprocessing*: point clouds, line fits, leaks, wrong statistics.

Every function here is deterministic (float64 and explicit seeds), so the chapter's printed numbers
are the same on any machine:

- :func:`cloud_2d`, :func:`plot_clouds` — the lecture's figure: original, zero-centred, normalized,
  decorrelated and whitened point clouds;
- :func:`line_fit` — fitting a line to points near and far from the origin (curvature, the
  largest stable learning rate, steps of gradient descent);
- :func:`sign_updates` — the zig-zag argument: with all-positive inputs every update of a neuron's
  weights has one sign;
- :func:`photo_patches` — CIFAR-like 32×32 RGB crops of scikit-learn's two bundled photos;
- :func:`knn_accuracy`, :func:`leak_gap` — the effect of computing statistics on the test data;
- :func:`train_standardized`, :func:`accuracy_under` — a network trained on standardized digits,
  evaluated with other preprocessing.

See the book: Data preprocessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dlcourse.data import Preprocessor, Standardize
from dlcourse.nn import mlp
from dlcourse.runtime import num_threads
from dlcourse.train import evaluate, fit

__all__ = [
    "LineFit",
    "accuracy_under",
    "cloud_2d",
    "knn_accuracy",
    "leak_gap",
    "line_fit",
    "photo_patches",
    "plot_clouds",
    "plot_sign_paths",
    "sign_updates",
    "steps_to",
    "train_standardized",
]


def cloud_2d(n: int = 500, seed: int = 0) -> Tensor:
    """``n`` correlated 2-D points far from the origin, with a wide x and a narrow y (float64)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=g, dtype=torch.float64)
    mix = torch.tensor([[3.0, 1.2], [0.0, 0.7]], dtype=torch.float64)  # std 3 and ~1.4, corr 0.86
    return z @ mix + torch.tensor([6.0, 4.0], dtype=torch.float64)


def plot_clouds(panels: Mapping[str, Tensor], limit: float = 12.0) -> Figure:
    """One scatter plot per panel, the same square axes, the axes through the origin drawn."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.3))
    for ax, (title, X) in zip(np.atleast_1d(axes), panels.items()):
        ax.scatter(X[:, 0], X[:, 1], s=4, alpha=0.5, color="C0")
        ax.axhline(0, color="k", lw=0.6)
        ax.axvline(0, color="k", lw=0.6)
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", title=title)
    fig.tight_layout()
    plt.close(fig)  # the caller owns it; pyplot does not display it a second time
    return fig


@dataclass
class LineFit:
    """Gradient descent on the mean squared error of a line ``y = w x + b``.

    Attributes:
        curvatures: the eigenvalues of the loss's Hessian in ``(w, b)``, largest first.
        max_lr: the largest stable learning rate, ``2 / curvatures[0]``.
        steps: steps of gradient descent with the best fixed rate to reach ``tol`` of the minimum.
        loss_rise: how much the loss rises when the slope is off by 0.01 from the best fit.
    """

    curvatures: tuple[float, float]
    max_lr: float
    steps: int
    loss_rise: float


def line_fit(offset: float, n: int = 50, seed: int = 0, tol: float = 1e-8) -> LineFit:
    r"""Fit ``y = 2 x + 1 + noise``, ``x ~ U(offset, offset + 1)``, by gradient descent.

    The loss :math:`L = \frac1n \sum (w x_i + b - y_i)^2` has the Hessian
    :math:`H = 2\begin{pmatrix}\overline{x^2} & \bar x \\ \bar x & 1\end{pmatrix}`; far from the
    origin (large :math:`\bar x`) it is badly conditioned, so a small change of the slope changes
    the loss a lot, the stable learning rate is small, and descent along the flat direction is slow.
    Gradient descent uses the best fixed rate :math:`2 / (\lambda_{\max} + \lambda_{\min})`.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g, dtype=torch.float64) + offset
    y = 2 * x + 1 + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)
    A = torch.stack([x, torch.ones_like(x)], dim=1)  # (n, 2)
    lam, U = torch.linalg.eigh(2 * A.T @ A / n)  # ascending
    lam, U = lam.flip(0), U.flip(1)
    best = torch.linalg.lstsq(A, y[:, None]).solution[:, 0]
    lr = 2 / (lam[0] + lam[1]).item()
    return LineFit(
        (lam[0].item(), lam[1].item()),
        2 / lam[0].item(),
        _gd_steps(lam, U.T @ (0 - best), lr, tol),  # start from w = b = 0
        (1e-4 * (x**2).mean()).item(),  # L(w + 0.01) - L(w) = 0.01² · mean(x²)
    )


def _gd_steps(lam: Tensor, c: Tensor, lr: float, tol: float) -> int:
    r"""Steps of gradient descent until the excess loss is at most ``tol``, exactly.

    On a quadratic the excess loss after :math:`t` steps is
    :math:`\sum_j \tfrac12 \lambda_j c_j^2 (1 - \eta\lambda_j)^{2t}`
    (:math:`c`: the start's offset from the minimum in the Hessian's eigenbasis), so the count is
    found by bisection instead of by running a million steps.
    """

    def excess(t: int) -> float:
        return float((0.5 * lam * c**2 * (1 - lr * lam) ** (2 * t)).sum())

    if excess(0) <= tol:
        return 0
    low, high = 0, 1
    while excess(high) > tol:
        low, high = high, high * 2
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if excess(mid) > tol else (low, mid)
    return high


def sign_updates(
    center: bool, steps: int = 400, lr: float = 0.05, seed: int = 0
) -> tuple[float, Tensor]:
    r"""Per-sample SGD of a linear neuron :math:`\hat y = w^\top x` towards :math:`w^* = (1, -1)`.

    The inputs are positive, :math:`x \sim U(1, 3)^2` (as the outputs of a sigmoid or ReLU layer
    are), or centred with their mean. The gradient of one sample is :math:`(\hat y - y)\,x`: with
    positive :math:`x`, both components share the sign of the error, so :math:`w` can only move
    along directions with both weights rising or both falling, and it zig-zags towards
    :math:`w^*`, which needs one weight to rise and the other to fall.

    Returns:
        The fraction of updates whose two components have the same sign, and the path of
        :math:`w` (``steps + 1`` points from the origin).
    """
    g = torch.Generator().manual_seed(seed)
    X = 1 + 2 * torch.rand(steps, 2, generator=g, dtype=torch.float64)
    if center:
        X = X - 2.0  # the mean of U(1, 3)
    y = X @ torch.tensor([1.0, -1.0], dtype=torch.float64)
    w, path, same = torch.zeros(2, dtype=torch.float64), [torch.zeros(2, dtype=torch.float64)], 0
    for x_i, y_i in zip(X, y):
        update = -lr * (w @ x_i - y_i) * x_i
        same += int(update[0] * update[1] > 0)
        w = w + update
        path.append(w)
    return same / steps, torch.stack(path)


def steps_to(
    path: Tensor, target: tuple[float, float] = (1.0, -1.0), tol: float = 0.05
) -> int | None:
    """The first step at which ``path`` comes within ``tol`` of ``target`` (``None``: never)."""
    dist = (path - torch.tensor(target, dtype=path.dtype)).norm(dim=1)
    hits = torch.nonzero(dist < tol)
    return int(hits[0]) if len(hits) else None


def plot_sign_paths(paths: Mapping[str, Tensor]) -> Figure:
    """The weight paths of :func:`sign_updates`, with the target ``(1, -1)`` marked."""
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for i, (label, path) in enumerate(paths.items()):
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2, lw=0.8, color=f"C{i}", label=label)
    ax.plot([1], [-1], "k*", ms=12, label="target $w^*$")
    ax.set(xlabel="$w_1$", ylabel="$w_2$", aspect="equal")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    plt.close(fig)  # the caller owns it; pyplot does not display it a second time
    return fig


def photo_patches(n: int = 400, size: int = 32, seed: int = 0) -> Tensor:
    """``n`` random ``size``×``size`` RGB crops of the two photos in scikit-learn, ``(N, 3, H, W)``.

    The photos (a temple in China and a flower, 427×640 pixels) ship with scikit-learn, so no
    download is needed; the crops stand in for CIFAR-10's 32×32 images. Values 0–255, float64.
    """
    from sklearn.datasets import load_sample_images

    images = [
        torch.tensor(np.array(im), dtype=torch.float64).permute(2, 0, 1)  # (3, H, W)
        for im in load_sample_images().images
    ]
    g = torch.Generator().manual_seed(seed)
    crops = []
    for i in range(n):
        im = images[i % len(images)]
        top = int(torch.randint(im.shape[1] - size + 1, (1,), generator=g))
        left = int(torch.randint(im.shape[2] - size + 1, (1,), generator=g))
        crops.append(im[:, top : top + size, left : left + size])
    return torch.stack(crops)


def knn_accuracy(X_train: Tensor, y_train: Tensor, X_test: Tensor, y_test: Tensor) -> float:
    """Test accuracy of the 1-nearest-neighbour classifier (Euclidean), a fraction in [0, 1]."""
    nearest = torch.cdist(X_test, X_train).argmin(dim=1)
    return (y_train[nearest] == y_test).double().mean().item()


def leak_gap(
    make: Callable[[], Preprocessor], train_size: int = 100, seeds: int = 5
) -> list[tuple[float, float]]:
    """1-NN accuracy on the digits with statistics from the training set vs from all the data.

    For each seed, a stratified split with ``train_size`` training images; the preprocessor
    ``make()`` is fitted once on the training images only (correct) and once on training and test
    images together (the leak), and the same classifier is scored on the test images.

    Returns:
        One ``(correct, leaked)`` pair of test accuracies per seed.
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    X, y = sklearn_digits(return_X_y=True)
    pairs = []
    for seed in range(seeds):
        parts = train_test_split(X, y, train_size=train_size, random_state=seed, stratify=y)
        X_tr, X_te, y_tr, y_te = (torch.as_tensor(a) for a in parts)
        X_tr, X_te = X_tr.double(), X_te.double()
        scores = []
        for fitted_on in (X_tr, torch.cat([X_tr, X_te])):
            prep = make().fit(fitted_on)
            scores.append(knn_accuracy(prep.transform(X_tr), y_tr, prep.transform(X_te), y_te))
        pairs.append((scores[0], scores[1]))
    return pairs


def train_standardized(
    X_train: Tensor, y_train: Tensor, seed: int = 0, epochs: int = 15
) -> tuple[nn.Module, Standardize]:
    """A 64-64-10 ReLU network trained in float64 on standardized inputs; returns it and its scaler.

    Float64 and one thread keep the trained weights the same on any machine to many digits.
    """
    scaler = Standardize()
    scaler.fit(X_train.double())
    net = mlp(
        X_train.shape[1], 10, width=64, depth=1, generator=torch.Generator().manual_seed(seed)
    ).double()
    with num_threads(1):
        fit(
            net,
            (scaler.transform(X_train.double()), y_train),
            epochs=epochs,
            lr=0.05,
            batch_size=32,
            seed=seed,
        )
    return net, scaler


def accuracy_under(net: nn.Module, inputs: Mapping[str, Tensor], y: Tensor) -> dict[str, float]:
    """Test accuracy of ``net`` for each way of preprocessing the same test images."""
    return {name: evaluate(net, X.double(), y)[1] for name, X in inputs.items()}

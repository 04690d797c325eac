r"""The demos of the chapter *Regularization*, on small seeded networks.

Dropout's scaling and dropout as an ensemble, weight penalties and early stopping.

Every network here trains in float64 on the scikit-learn digits: the chapter compares accuracies
and losses between variants, and float64 keeps those comparisons the same on any CPU.

See the book: Regularization.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dlcourse import init as dinit
from dlcourse._validate import check_choice, check_int, check_real
from dlcourse.nn.dropout import ClassicDropout, Dropout, keep_mask
from dlcourse.regularize import l1_penalty, l2_penalty
from dlcourse.runtime import generator, num_threads
from dlcourse.train import EarlyStopping, History, fit
from dlcourse.viz import DPI, label_axes

__all__ = [
    "Run",
    "drop_net",
    "dropout_outputs",
    "mask_average_accuracy",
    "mask_expectation",
    "plot_histograms",
    "small_split",
    "train_run",
    "weight_stats",
    "zero_grad_rows",
]

Penalty = Literal["none", "dropout", "l2", "l1"]


def small_split(
    data: Any, n_train: int = 200, n_valid: int = 300
) -> dict[str, tuple[Tensor, Tensor]]:
    """A small training set (overfitting is easy), a validation set and the test set, in float64.

    Args:
        data: a :class:`~dlcourse.data.digits.Split`; its first ``n_train`` training images train,
            the next ``n_valid`` validate, and its test set tests.
        n_train: training images.
        n_valid: validation images.

    Returns:
        ``{"train": (X, y), "valid": (X, y), "test": (X, y)}``.
    """
    X, y = data.X_train.double(), data.y_train
    end = n_train + n_valid
    return {
        "train": (X[:n_train], y[:n_train]),
        "valid": (X[n_train:end], y[n_train:end]),
        "test": (data.X_test.double(), data.y_test),
    }


def mask_expectation(
    a: Tensor, w: Tensor, keep_prob: float, n_masks: int = 100_000, seed: int = 0
) -> dict[str, float]:
    r"""One unit's input :math:`z = \sum_i w_i m_i a_i` under many masks, and at test time.

    Returns:
        The mean of :math:`z` over ``n_masks`` masks for the classic form (no scaling) and the
        inverted form (:math:`/q`), its standard error, and the test-time :math:`z` with the
        weights unchanged (:math:`w \cdot a`), scaled by :math:`q` (classic) and for inverted
        dropout (:math:`w \cdot a`, no mask).
    """
    q = check_real("keep_prob", keep_prob, min=0.0, max=1.0, min_open=True)
    masks = keep_mask((n_masks, a.numel()), q, generator(seed)).double()
    z = masks @ (w * a).double()  # (n_masks,)
    full = float((w * a).sum())
    return {
        "train classic": z.mean().item(),
        "train inverted": z.mean().item() / q,
        "std error": z.std().item() / math.sqrt(n_masks),
        "test w·a": full,
        "test classic (q·w)·a": q * full,
        "test inverted w·a": full,
    }


def drop_net(
    rate: float,
    hidden: Sequence[int] = (300, 100),
    input_drop: bool = True,
    classic: bool = False,
    seed: int = 0,
) -> nn.Sequential:
    """The third lecture's Keras model on 8×8 digits: Dropout before every Dense layer, ELU, He.

    ``[Dropout(rate)] -> Linear(64, 300) -> ELU -> Dropout(rate) -> Linear(300, 100) -> ELU ->
    Dropout(rate) -> Linear(100, 10)``, weights ``kaiming_normal_`` (He), biases zero, float64.

    Args:
        rate: the drop probability (Keras's ``rate``, PyTorch's ``p``); 0 for no dropout.
        hidden: the hidden widths.
        input_drop: drop input pixels too, as the lecture's model does.
        classic: use :class:`~dlcourse.nn.ClassicDropout` (``keep_prob = 1 - rate``) instead of
            inverted :class:`~dlcourse.nn.Dropout`.
        seed: seeds the weights.

    Returns:
        The model (masks come from the global generator, which :func:`~dlcourse.train.fit` seeds).
    """
    rate = check_real("rate", rate, min=0.0, max=1.0, max_open=True)
    sizes = [64, *hidden, 10]
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        if rate > 0 and (i > 0 or input_drop):
            layers.append(ClassicDropout(keep_prob=1 - rate) if classic else Dropout(rate))
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ELU())
    net = nn.Sequential(*layers).double()
    g = generator(seed)
    for layer in net:
        if isinstance(layer, nn.Linear):
            dinit.kaiming_normal_(layer.weight, nonlinearity="relu", generator=g)
            nn.init.zeros_(layer.bias)
    return net


@dataclass
class Run:
    """One training run: the trained network and its history."""

    net: nn.Sequential
    history: History


def train_run(
    split: dict[str, tuple[Tensor, Tensor]],
    penalty: Penalty = "none",
    strength: float = 0.0,
    epochs: int = 100,
    lr: float = 0.05,
    seed: int = 0,
    patience: int | None = None,
    batch_size: int = 32,
) -> Run:
    r"""Train :func:`drop_net` on ``split["train"]`` with one regularizer, validating each epoch.

    Args:
        split: from :func:`small_split`.
        penalty: ``"none"``, ``"dropout"`` (``strength`` is the drop rate), ``"l2"`` or ``"l1"``
            (``strength`` is :math:`\lambda`, added to the loss on the weights only).
        strength: the rate or :math:`\lambda`.
        epochs: passes over the training set (plain SGD, ``lr``).
        lr: the learning rate.
        seed: seeds weights, minibatch order and masks.
        patience: early stopping on the validation loss (weights of the best epoch restored).
        batch_size: minibatch size.

    Returns:
        The :class:`Run`.
    """
    check_choice("penalty", penalty, ("none", "dropout", "l2", "l1"))
    net = drop_net(strength if penalty == "dropout" else 0.0, seed=seed)
    terms: dict[str, Callable[[nn.Module], Tensor]] = {
        "l2": lambda m: l2_penalty(m, strength),
        "l1": lambda m: l1_penalty(m, strength),
    }
    term = terms.get(penalty)

    def loss_fn(y_hat: Tensor, y: Tensor) -> Tensor:
        loss = nn.functional.cross_entropy(y_hat, y)
        return loss + term(net) if term is not None and net.training else loss

    stop = None if patience is None else EarlyStopping(patience=patience)
    with num_threads(1):  # small nets train faster on one thread
        history = fit(
            net,
            split["train"],
            loss_fn=loss_fn,
            epochs=epochs,
            lr=lr,
            seed=seed,
            batch_size=batch_size,
            valid=split["valid"],
            early_stopping=stop,
        )
    return Run(net, history)


def weight_stats(net: nn.Module, tol: float = 1e-3) -> dict[str, float]:
    """The first layer's weights: their RMS, and the share (%) with :math:`|w| <` ``tol``."""
    w = next(m for m in net.modules() if isinstance(m, nn.Linear)).weight.detach()
    return {
        "rms": w.pow(2).mean().sqrt().item(),
        "% near zero": 100.0 * (w.abs() < tol).double().mean().item(),
    }


@torch.no_grad()
def mask_average_accuracy(
    net: nn.Module, X: Tensor, y: Tensor, n_masks: Sequence[int], seed: int = 0
) -> dict[str, float]:
    """Test accuracy of weight scaling (eval mode) and of averaging the softmax over random masks.

    Returns:
        ``{"weight scaling": acc, "1 mask": acc, "10 masks": acc, ...}``, each in %, masks
        seeded with ``seed``.
    """
    net.eval()
    out = {"weight scaling": _accuracy(net(X), y)}
    net.train()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        probs = []
        for _ in range(max(n_masks)):
            probs.append(torch.softmax(net(X), dim=1))
            if len(probs) in n_masks:
                key = f"{len(probs)} mask{'s' if len(probs) > 1 else ''}"
                out[key] = _accuracy(torch.stack(probs).mean(0), y)
    net.eval()
    return out


def _accuracy(scores: Tensor, y: Tensor) -> float:
    return 100.0 * (scores.argmax(dim=1) == y).double().mean().item()


def zero_grad_rows(net: nn.Module, X: Tensor, y: Tensor, seed: int = 0) -> float:
    """Share (%) of the first layer's units whose incoming weights get exactly zero gradient.

    One forward and backward pass of ``net`` (with dropout after that layer) in training mode.
    """
    net.train()
    net.zero_grad()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        nn.functional.cross_entropy(net(X), y).backward()
    first = next(m for m in net.modules() if isinstance(m, nn.Linear))
    assert first.weight.grad is not None
    return 100.0 * (first.weight.grad == 0).all(dim=1).double().mean().item()


def dropout_outputs(h: Tensor, keep_prob: float, seed: int = 0) -> dict[str, Tensor]:
    r"""What a dropout layer passes on from activations ``h``, in each form, training and test.

    Args:
        h: activations of a layer, ``(N, n)``.
        keep_prob: :math:`q`.
        seed: seeds the mask.

    Returns:
        ``"train (mask)"`` (:math:`m \odot h`), ``"test, unscaled"`` (:math:`h`), ``"test classic
        (q·h)"`` and ``"train inverted (mask / q)"``; inverted dropout at test time passes
        ``"test, unscaled"``.
    """
    q = check_real("keep_prob", keep_prob, min=0.0, max=1.0, min_open=True)
    m = keep_mask(h.shape, q, generator(seed)).to(h.dtype)
    return {
        "train (mask)": m * h,
        "test, unscaled": h,
        "test classic (q·h)": q * h,
        "train inverted (mask / q)": m * h / q,
    }


def plot_histograms(groups: dict[str, dict[str, Tensor]], bins: int = 60) -> Figure:
    """One panel per group, overlaid histograms of each tensor's values (shared bins).

    Args:
        groups: panel title -> (label -> values).
        bins: number of bins over the range of all values.

    Returns:
        The figure, one axes per group, with a logarithmic count axis.
    """
    check_int("bins", bins, min=1)
    values = [t.detach().flatten().double().numpy() for g in groups.values() for t in g.values()]
    edges = np.linspace(min(v.min() for v in values), max(v.max() for v in values), bins + 1)
    fig = plt.figure(figsize=(5.2 * len(groups), 3.4), dpi=DPI, layout="constrained")
    plt.close(fig)  # the caller owns it; pyplot neither keeps nor auto-displays it
    for ax, (title, group) in zip(fig.subplots(1, len(groups), squeeze=False)[0], groups.items()):
        for label, t in group.items():
            v = t.detach().flatten().double().numpy()
            ax.hist(
                v, bins=edges, histtype="step", linewidth=1.5, label=f"{label}, mean {v.mean():.2f}"
            )
        label_axes(ax, "activation passed on", "count", title, logy=True)
    return fig

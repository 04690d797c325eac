r"""The experiments of the Weight initialization chapter, as small tested functions.

The book's cells stay short: each demo is one call here, and the cell itself prints the lecture's
number beside ours (:class:`~dlcourse.experiments.claims.ClaimLog`) and asserts the claim. Random
numbers are drawn on the CPU from seeded generators; models run on :func:`dlcourse.device`, so
results agree on CPU and GPU.

* the variance of a sum, :math:`\operatorname{Var}(\sum_i w_i x_i) = n\operatorname{Var}(w)
  \operatorname{Var}(x)`: :func:`variance_of_sum`;
* the symmetry of constant initialization: :func:`quadrant_data`, :func:`train_tiny_net`,
  :func:`rows_identical`;
* deep stacks (100 x 512, 6 x 4096, 20 x 256), run by :func:`dlcourse.probes.run_stack`:
  :func:`first_layer`, :func:`blowup_depth`, :func:`pct_beyond`, :func:`gradient_decay`,
  :func:`stack_summary`, :func:`layer_table`;
* theory next to the measurements: :func:`relu_layer_moments`, :func:`relu_moments_theory`,
  :func:`tanh_mean_field_std`, :func:`glorot_table`;
* He et al.'s Xavier-versus-Kaiming curves: :func:`first_layer_grad_std`, :func:`train_deep_relu`.

See the book: Weight initialization.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from dlcourse.experiments.claims import text_table
from dlcourse.nn import mlp
from dlcourse.nn.builders import InitName
from dlcourse.probes.stack import StackRun
from dlcourse.probes.stats import LayerStats
from dlcourse.runtime import device, generator, num_threads
from dlcourse.train import History, fit

__all__ = [
    "blowup_depth", "first_layer", "first_layer_grad_std", "glorot_table",
    "gradient_decay", "layer_table", "pct_beyond", "quadrant_data", "relu_layer_moments",
    "relu_moments_theory", "rows_identical", "stack_summary", "tanh_mean_field_std",
    "train_deep_relu", "train_tiny_net", "variance_of_sum",
]


# --- section 1: the variance of a sum ----------------------------------------------------------

def variance_of_sum(n: int, weight_std: float, trials: int = 10_000, seed: int = 0) -> float:
    r"""The sample variance of :math:`y = \sum_{i=1}^n w_i x_i` over ``trials`` independent draws.

    The draws are :math:`w_i \sim N(0, \text{weight\_std}^2)` and :math:`x_i \sim N(0, 1)`;
    theory: :math:`n \cdot \text{weight\_std}^2`.
    """
    g = generator(seed)
    w = torch.randn(trials, n, generator=g, dtype=torch.float64) * weight_std
    x = torch.randn(trials, n, generator=g, dtype=torch.float64)
    return (w * x).sum(dim=1).var().item()


# --- section 2: constant initialization never breaks the symmetry -------------------------------

def quadrant_data(n: int = 256, features: int = 4, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``X ~ N(0, 1)^(n x features)`` and ``y = 1`` where ``x0 * x1 > 0``.

    The labels mark the first and third quadrants, the lecture's hard case for a linear
    classifier, as a float ``(n, 1)`` column.
    """
    g = generator(seed)
    X = torch.randn(n, features, generator=g)
    return X, (X[:, :1] * X[:, 1:2] > 0).float()


def train_tiny_net(init: Any, X: Tensor, y: Tensor, width: int = 2, epochs: int = 100,
                   lr: float = 1.0, batch_size: int = 32,
                   seed: int = 0) -> tuple[nn.Sequential, History]:
    r"""Train the first lecture text's net with SGD on the binary cross-entropy.

    The net is ``in -> width sigmoid units -> 1 sigmoid output``: with 4 inputs and the default
    width 2 it is the lecture's 4 -> 2 -> 1 network, hidden units :math:`\sigma_2, \sigma_3` and
    output unit :math:`\sigma_1` (the output's sigmoid sits in the loss, which takes logits).

    Args:
        init: as in :func:`dlcourse.nn.mlp`, for every weight (biases start at zero).
        X: the inputs, ``(N, in)``.
        y: a float ``(N, 1)`` column of 0/1 labels.
        width: hidden units.
        epochs: plain SGD's number of passes over the data.
        lr: plain SGD's learning rate.
        batch_size: plain SGD's minibatch size.
        seed: seeds the weights and the minibatch order.

    Returns:
        ``(net, history)``; ``history.loss`` holds the mean minibatch loss of every epoch.

    See the book: Weight initialization.
    """
    dev = device()
    net = mlp(X.shape[1], 1, width=width, depth=1, activation="sigmoid", init=init,
              generator=generator(seed)).to(dev)
    bce = nn.functional.binary_cross_entropy_with_logits
    history = fit(net, (X.to(dev), y.to(dev)), loss_fn=bce, epochs=epochs, lr=lr,
                  batch_size=batch_size, seed=seed)
    return net, history


def rows_identical(weight: Tensor) -> bool:
    """True when every row of ``weight`` equals the first, bit for bit.

    A row holds one hidden unit's incoming weights.
    """
    w = weight.detach()
    return all(torch.equal(w[0], w[i]) for i in range(1, w.shape[0]))


# --- sections 3 to 6: deep stacks --------------------------------------------------------------

def first_layer(values: Sequence[float], predicate: Callable[[float], bool]) -> int | None:
    """The 1-based number of the first layer whose value satisfies ``predicate`` (None if none)."""
    return next((i + 1 for i, v in enumerate(values) if predicate(v)), None)


def blowup_depth(gain: float, limit: float) -> float:
    r"""Layers until a signal multiplied by ``gain`` per layer reaches ``limit`` (from 1).

    That is :math:`\ln(\text{limit}) / \ln(\text{gain})`, e.g. with float32's largest number for
    ``gain > 1``, its smallest subnormal for ``gain < 1``.
    """
    if gain <= 0 or gain == 1 or limit <= 0:
        raise ValueError(f"need gain > 0, gain != 1 and limit > 0, got gain={gain}, limit={limit}")
    return math.log(limit) / math.log(gain)


def pct_beyond(rec: LayerStats, threshold: float) -> float:
    r"""Percentage of a layer's recorded values with :math:`|y| > \text{threshold}`.

    It is read from the layer's histogram; ``±threshold`` must be bin edges (range (-1, 1) with
    40 bins: every 0.05).
    """
    edges, counts = np.asarray(rec.hist_edges), np.asarray(rec.hist_counts)
    for t in (-threshold, threshold):
        if not np.isclose(edges, t, atol=1e-9).any():
            raise ValueError(f"±{threshold} is not a histogram edge; choose bins so it is")
    centers = (edges[:-1] + edges[1:]) / 2
    total = counts.sum()
    return 100.0 * counts[np.abs(centers) > threshold].sum() / total if total else 0.0


def gradient_decay(run: StackRun) -> tuple[float, float]:
    """``(ratio, per_layer)``: the first layer's gradient std over the last layer's, and per layer.

    ``per_layer`` is the geometric mean factor per layer, ``ratio ** (1 / (depth - 1))``.
    """
    grads = run.values("grad_std")
    if any(v is None for v in grads):
        raise ValueError("no gradients recorded: run the stack with backward=True")
    ratio = grads[0] / grads[-1]
    return ratio, ratio ** (1.0 / max(len(grads) - 1, 1))


def stack_summary(run: StackRun) -> dict[str, float]:
    """The numbers the chapter compares across activations and scales.

    They are the gradient's first/last ratio and per-layer factor (:func:`gradient_decay`), the
    mean % saturated over layers 2 and up (layer 1 sees the raw input), and the last layer's
    activation std.
    """
    ratio, per_layer = gradient_decay(run)
    saturated = run.values("pct_saturated")[1:] or run.values("pct_saturated")
    return {"grad first/last": ratio, "grad per layer": per_layer,
            "% saturated": sum(saturated) / len(saturated), "std last": run.values("std")[-1]}


def layer_table(runs: dict[str, StackRun], quantities: Sequence[str] = ("std", "pct_saturated"),
                extra: dict[str, Callable[[LayerStats], float]] | None = None) -> str:
    """Per-layer statistics of several runs in one narrow table.

    One row per (run, quantity), one column per layer. ``pct_saturated`` is labelled ``%>0.99``;
    ``extra`` adds computed rows, e.g.
    ``{"%>0.9": lambda rec: pct_beyond(rec, 0.9)}``.
    """
    depth = min(len(run.stats.layers) for run in runs.values())
    rows = []
    for label, run in runs.items():
        getters = {("%>0.99" if q == "pct_saturated" else q): (lambda rec, q=q: getattr(rec, q))
                   for q in quantities}
        for name, fn in {**getters, **(extra or {})}.items():
            row: dict[str, Any] = {"run": label, "": name}
            row.update({str(i + 1): fn(run.stats.layers[i]) for i in range(depth)})
            rows.append(row)
    return text_table(rows, digits=3)


# --- theory beside the measurements ------------------------------------------------------------

def relu_layer_moments(width: int = 512, trials: int = 10_000, chunk: int = 1_000,
                       seed: int = 0) -> dict[str, float]:
    r"""The lecture's single ReLU layer :math:`y = \max(0, a x)`, averaged over ``trials``.

    With :math:`a \sim N(0,1)^{n \times n}` and :math:`x \sim N(0, 1)^n`: ``mean`` :math:`E[y]`,
    ``rms``
    :math:`\sqrt{E[y^2]}` (what the lecture calls "std") and the true ``std``.

    Trials are batched: ``trials / chunk`` weight matrices, each applied to ``chunk`` input vectors
    in one matmul. Every :math:`y_i` has the same distribution as in the lecture's loop.
    """
    if trials % chunk:
        raise ValueError(f"trials ({trials}) must be a multiple of chunk ({chunk})")
    g, s1, s2 = generator(seed), 0.0, 0.0
    for _ in range(trials // chunk):
        a = torch.randn(width, width, generator=g).to(device())
        X = torch.randn(chunk, width, generator=g).to(device())  # (chunk, n), one trial per row
        y = torch.relu(X @ a.T).double()
        s1, s2 = s1 + y.mean().item(), s2 + y.pow(2).mean().item()
    mean, second = s1 / (trials // chunk), s2 / (trials // chunk)
    return {"mean": mean, "rms": math.sqrt(second), "std": math.sqrt(second - mean**2)}


def relu_moments_theory(width: int = 512, weight_std: float = 1.0) -> dict[str, float]:
    r"""Exact moments of :math:`y = \max(0, z)`, :math:`z \sim N(0, s^2)`.

    Here :math:`s^2 = n\sigma^2` (unit-variance inputs): mean :math:`s/\sqrt{2\pi}`, rms
    :math:`s/\sqrt 2`, std
    :math:`s\sqrt{1/2 - 1/(2\pi)}`.
    """
    s = math.sqrt(width) * weight_std
    return {"mean": s / math.sqrt(2 * math.pi), "rms": s / math.sqrt(2),
            "std": s * math.sqrt(0.5 - 0.5 / math.pi)}


def tanh_mean_field_std(depth: int, gain2: float = 1.0, q0: float = 1.0,
                        nodes: int = 101) -> list[float]:
    r"""The infinitely wide prediction of the std after each tanh layer.

    With pre-activation variance :math:`q_l`,
    :math:`q_{l+1} = n\sigma^2 \, E[\tanh(\sqrt{q_l} z)^2]`,
    :math:`z \sim N(0,1)` (Gauss–Hermite quadrature), starting from :math:`q_1 = n\sigma^2 q_0`.
    For :math:`n\sigma^2 = 1` (``gain2``) it decays like :math:`1/\sqrt{2l}`.
    """
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    q, out = gain2 * q0, []
    for _ in range(depth):
        second = float((w * np.tanh(math.sqrt(q) * z) ** 2).sum())  # E[a^2] of this layer
        out.append(math.sqrt(second))
        q = gain2 * second
    return out


def glorot_table(n_in: int, n_out: int) -> list[dict[str, Any]]:
    r"""The third lecture text's table for one layer beside Glorot & Bengio's factors and PyTorch.

    Rows: logistic, tanh, ReLU. Columns: the table's factor and its uniform bound ``r`` and normal
    ``σ`` (factor times :math:`\sqrt{6/(n_{in}+n_{out})}` and :math:`\sqrt{2/(n_{in}+n_{out})}`);
    the factor from the derivative at 0 (:math:`1/f'(0)`: 4 for logistic, 1 for tanh) and for ReLU
    He et al.'s :math:`\sigma = \sqrt{2/n_{in}}`; and PyTorch's ``calculate_gain``.
    """
    from dlcourse.init import calculate_gain

    base_r, base_s = math.sqrt(6 / (n_in + n_out)), math.sqrt(2 / (n_in + n_out))
    he = math.sqrt(2 / n_in)
    rows = []
    for name, table_factor, derived, torch_name in (
            ("logistic", 1.0, 4.0, "sigmoid"), ("tanh", 4.0, 1.0, "tanh"),
            ("relu", math.sqrt(2), he / base_s, "relu")):
        rows.append({"activation": name, "table factor": table_factor,
                     "table r": table_factor * base_r, "table σ": table_factor * base_s,
                     "derived factor": derived, "derived σ": derived * base_s,
                     "torch gain": calculate_gain(torch_name)})
    return rows


# --- section 7: He et al.'s figure on the digits -------------------------------------------------

def first_layer_grad_std(model: nn.Module, X: Tensor, y: Tensor) -> float:
    """The std of the cross-entropy gradient on ``(X, y)`` w.r.t. the first Linear layer's weight.

    The model's gradients are cleared again afterwards.
    """
    first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
    if first is None:
        raise ValueError("model has no nn.Linear layer; first_layer_grad_std needs one")
    model.zero_grad()
    nn.functional.cross_entropy(model(X), y).backward()
    grad = first.weight.grad
    if grad is None:
        raise ValueError("the first nn.Linear layer's weight got no gradient: it is frozen "
                         "(requires_grad=False); unfreeze it to measure its gradient")
    value = grad.std().item()
    model.zero_grad()
    return value


def train_deep_relu(init: InitName, train: tuple[Tensor, Tensor], depth: int = 30, width: int = 128,
                    lr: float = 0.005, epochs: int = 25, batch_size: int = 64,
                    seed: int = 0) -> tuple[History, float]:
    """Train a ``depth``-layer ReLU :func:`~dlcourse.nn.mlp` with plain SGD on ``train``.

    Returns its history and the first layer's gradient std at initialization (same seed: same
    data order).
    """
    X, y = train
    dev = device()
    net = mlp(X.shape[1], int(y.max()) + 1, width=width, depth=depth, activation="relu", init=init,
              generator=generator(seed)).to(dev)
    X, y = X.to(dev), y.to(dev)
    grad0 = first_layer_grad_std(net, X, y)
    with num_threads(1):  # this small net trains faster on one thread
        history = fit(net, (X, y), epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
    return history, grad0

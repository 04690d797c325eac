r"""The demos of the Activation functions chapter.

* :data:`FUNCTIONS` and :func:`plot_activations` — every function beside its derivative;
* :func:`gradient_profile` — the weight-gradient size layer by layer through a deep stack
  (saturation kills gradients; the explorer in :mod:`dlcourse.widgets` draws it);
* :func:`positive_input_demo` — why non-zero-centred inputs force a unit's weight gradients to
  share one sign, and the zig-zag path that results;
* :func:`train_classifier`, :func:`epochs_to_error` — the convergence race on digits;
* :func:`inactive_units`, :func:`dying_run` — dying ReLU under too high a learning rate;
* :func:`fit_boundary`, :func:`plot_boundaries` — the three hard cases, linear model vs MLP.

Training runs here are in float64: the chapter's stored numbers (epochs, counts, accuracies) then
come out the same on any CPU, which float32 does not guarantee.

See the book: Activation functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dlcourse._validate import check_choice, check_int, check_positive_float
from dlcourse.nn import functional as F
from dlcourse.nn import layers
from dlcourse.nn.builders import InitName, mlp

__all__ = [
    "FUNCTIONS",
    "MODULES",
    "DyingRun",
    "PositiveInputDemo",
    "TrainRun",
    "dying_run",
    "epochs_to_error",
    "fit_boundary",
    "gradient_profile",
    "inactive_units",
    "plot_activations",
    "plot_boundaries",
    "plot_zigzag",
    "positive_input_demo",
    "train_classifier",
]

Fn = Callable[[Tensor], Tensor]

#: name -> (function, derivative), in the lectures' order.
FUNCTIONS: dict[str, tuple[Fn, Fn]] = {
    "sigmoid": (F.sigmoid, F.sigmoid_grad),
    "tanh": (F.tanh, F.tanh_grad),
    "ReLU": (F.relu, F.relu_grad),
    "leaky ReLU (0.1)": (
        functools.partial(F.leaky_relu, negative_slope=0.1),
        functools.partial(F.leaky_relu_grad, negative_slope=0.1),
    ),
    "ELU": (F.elu, F.elu_grad),
    "SELU": (F.selu, F.selu_grad),
    "GELU": (F.gelu, F.gelu_grad),
}

#: name -> zero-argument module factory (the course's modules), for the training demos.
MODULES: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": layers.Sigmoid,
    "tanh": layers.Tanh,
    "relu": layers.ReLU,
    "leaky_relu": functools.partial(layers.LeakyReLU, 0.1),
    "elu": layers.ELU,
    "selu": layers.SELU,
    "gelu": layers.GELU,
}


def _init_for(activation: str) -> InitName:
    """Xavier for the squashing activations (sigmoid, tanh), Kaiming for the ReLU-like ones."""
    return "xavier_normal" if activation in ("sigmoid", "tanh") else "kaiming_normal"


def plot_activations(
    low: float = -5.0, high: float = 5.0, names: Sequence[str] | None = None
) -> Figure:
    """One panel per activation: the function (solid) and its derivative (dashed).

    See the book: Activation functions.
    """
    names = list(names or FUNCTIONS)
    for name in names:
        check_choice("names", name, FUNCTIONS)
    x = torch.linspace(low, high, 401, dtype=torch.float64)
    fig = Figure(
        figsize=(3.0 * min(4, len(names)), 2.6 * ((len(names) + 3) // 4)), layout="constrained"
    )
    axes = fig.subplots((len(names) + 3) // 4, min(4, len(names)), squeeze=False).ravel()
    for ax, name in zip(axes, names):
        f, df = FUNCTIONS[name]
        ax.plot(x, f(x), label="f(x)")
        ax.plot(x, df(x), "--", label="f'(x)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name)
        ax.set_ylim(-2, 3)
    axes[0].legend(loc="upper left")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    return fig


def gradient_profile(
    activation: str,
    depth: int = 10,
    width: int = 256,
    input_scale: float = 1.0,
    batch: int = 256,
    seed: int = 0,
) -> list[float]:
    r"""The std of each layer's weight gradient, first layer first, in a fresh deep MLP.

    ``depth`` hidden layers of ``width`` units (Xavier for sigmoid/tanh, Kaiming otherwise,
    biases 0), inputs :math:`x \sim N(0, s^2 I)` with :math:`s` = ``input_scale``; a gradient
    :math:`G \sim N(0, I)` is fed into the last hidden layer's output and backpropagated (float64).

    See the book: Activation functions.
    """
    check_choice("activation", activation, MODULES)
    check_int("depth", depth, min=1)
    check_positive_float("input_scale", input_scale)
    g = torch.Generator(device="cpu").manual_seed(seed)
    model = mlp(
        width,
        width,
        width=width,
        depth=depth,
        activation=MODULES[activation],
        init=_init_for(activation),
        generator=g,
    ).double()
    hidden = nn.Sequential(*list(model)[:-1])  # no output layer: G enters the last activation
    X = input_scale * torch.randn(batch, width, generator=g, dtype=torch.float64)
    G = torch.randn(batch, width, generator=g, dtype=torch.float64)
    (hidden(X) * G).sum().backward()
    return [_grad(m.weight).std().item() for m in hidden if isinstance(m, nn.Linear)]


def _grad(t: Tensor) -> Tensor:
    if t.grad is None:
        raise RuntimeError("no gradient reached this weight")
    return t.grad


@dataclass
class PositiveInputDemo:
    r"""One unit :math:`\hat y = w^\top x`, two weights, inputs all positive or centred."""

    condition: float
    gd_steps: int
    same_sign: float
    path: np.ndarray


def positive_input_demo(
    centred: bool, n: int = 256, sgd_steps: int = 200, lr: float = 0.5, seed: int = 0
) -> PositiveInputDemo:
    r"""Fit :math:`w^\star = (2, -1)` by least squares from inputs :math:`x = \sigma(z) > 0`.

    Returns the condition number of :math:`H = \tfrac1n X^\top X`, the full-batch gradient-descent
    steps (learning rate :math:`1/\lambda_{max}`) to come within 0.01 of :math:`w^\star`, the share
    of single-example gradients whose two entries share a sign, and the path of SGD with one
    example per step. ``centred`` subtracts the mean from the inputs first.

    See the book: Activation functions.
    """
    g = torch.Generator(device="cpu").manual_seed(seed)
    X = torch.sigmoid(1.5 * torch.randn(n, 2, generator=g, dtype=torch.float64))  # (n, 2) in (0, 1)
    X = X - X.mean(0) if centred else X
    w_star = torch.tensor([2.0, -1.0], dtype=torch.float64)
    y = X @ w_star
    H = X.T @ X / n
    eig = torch.linalg.eigvalsh(H)
    w, steps = torch.zeros(2, dtype=torch.float64), 0
    while (w - w_star).norm() > 0.01 and steps < 10_000:
        w, steps = w - H @ (w - w_star) / eig[-1], steps + 1
    w, same, path = torch.zeros(2, dtype=torch.float64), 0, [np.zeros(2)]
    for i in torch.randperm(n, generator=g)[:sgd_steps]:
        grad = (X[i] @ w - y[i]) * X[i]  # dL/dw for L = (w·x - y)² / 2
        same += int(grad[0] * grad[1] > 0)
        w = w - lr * grad
        path.append(w.numpy().copy())
    return PositiveInputDemo((eig[-1] / eig[0]).item(), steps, same / sgd_steps, np.array(path))


def plot_zigzag(demos: Mapping[str, PositiveInputDemo]) -> Figure:
    r"""The SGD paths of :func:`positive_input_demo` towards :math:`w^\star = (2, -1)`."""
    fig = Figure(figsize=(4.5 * len(demos), 3.6), layout="constrained")
    for ax, (name, demo) in zip(fig.subplots(1, len(demos), squeeze=False)[0], demos.items()):
        ax.plot(demo.path[:60, 0], demo.path[:60, 1], ".-", lw=0.8, ms=3)
        ax.plot([2.0], [-1.0], "r*", ms=12, label="w*")
        ax.set(title=name, xlabel="w1", ylabel="w2")
        ax.legend()
    return fig


@dataclass
class TrainRun:
    """A training run: the model and, per epoch, the training error (share) and mean loss."""

    model: nn.Module
    error: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)


def _error(model: nn.Module, X: Tensor, y: Tensor) -> float:
    with torch.no_grad():
        return (model(X).argmax(1) != y).double().mean().item()


def train_classifier(
    activation: str,
    train: tuple[Tensor, Tensor],
    epochs: int = 20,
    lr: float = 0.05,
    width: int = 100,
    depth: int = 2,
    batch_size: int = 32,
    seed: int = 0,
    model: nn.Module | None = None,
) -> TrainRun:
    """Train an MLP classifier with plain minibatch SGD in float64; record error and loss.

    The model is ``mlp(in, classes, width, depth)`` with the course's activation module and the
    matching initialization, seeded with ``seed`` (as is the minibatch order), unless ``model`` is
    given (it is trained in place, in float64).

    See the book: Activation functions.
    """
    check_choice("activation", activation, MODULES)
    check_int("epochs", epochs, min=0)
    check_positive_float("lr", lr)
    X, y = train[0].double(), train[1]
    g = torch.Generator(device="cpu").manual_seed(seed)
    if model is None:
        model = mlp(
            X.shape[1],
            int(y.max()) + 1,
            width=width,
            depth=depth,
            activation=MODULES[activation],
            init=_init_for(activation),
            generator=g,
        )
    model = model.double()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    run = TrainRun(model)
    for _ in range(epochs):
        order, total = torch.randperm(len(X), generator=g), 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        run.loss.append(total / len(X))
        run.error.append(_error(model, X, y))
    return run


def epochs_to_error(errors: Sequence[float], threshold: float) -> int | None:
    """The first epoch (1-based) whose training error is at most ``threshold``, or ``None``."""
    return next((i + 1 for i, e in enumerate(errors) if e <= threshold), None)


@torch.no_grad()
def inactive_units(model: nn.Module, X: Tensor) -> list[int]:
    r"""Per activation module, the units whose input is :math:`\le 0` for every row of ``X``.

    For ReLU these are the dead units (:func:`dlcourse.probes.dead_units` counts the same); a
    leaky ReLU or ELU unit in that state still passes a gradient and can come back.

    See the book: Activation functions.
    """
    acts = [m for m in model.modules() if isinstance(m, tuple(type(f()) for f in MODULES.values()))]
    peaks: dict[int, Tensor] = {}
    handles = [
        m.register_forward_hook(lambda mod, args, out, i=i: peaks.__setitem__(i, args[0].amax(0)))
        for i, m in enumerate(acts)
    ]
    try:
        model(X.to(next(model.parameters()).dtype))
    finally:
        for h in handles:
            h.remove()
    return [int((peaks[i] <= 0).sum()) for i in range(len(acts))]


@dataclass
class DyingRun:
    """Inactive units per layer at three moments of :func:`dying_run`, the final error and model."""

    activation: str
    at_init: list[int]
    after_kick: list[int]
    after_recovery: list[int]
    error: float
    model: nn.Module


def dying_run(
    activation: str,
    train: tuple[Tensor, Tensor],
    kick_lr: float = 5.0,
    kick_steps: int = 5,
    lr: float = 0.05,
    epochs: int = 10,
    width: int = 100,
    seed: int = 0,
) -> DyingRun:
    """A few SGD steps with a learning rate far too high, then ordinary training.

    Counts :func:`inactive_units` over the whole training set at initialization, after the
    ``kick_steps`` steps at ``kick_lr`` (minibatches of 32), and after ``epochs`` epochs at
    ``lr``; returns them with the final training error.

    See the book: Activation functions.
    """
    X, y = train[0].double(), train[1]
    run = train_classifier(activation, (X, y), epochs=0, width=width, seed=seed)
    model, before = run.model, inactive_units(run.model, X)
    opt = torch.optim.SGD(model.parameters(), lr=kick_lr)
    g = torch.Generator(device="cpu").manual_seed(seed + 1000)
    for _ in range(kick_steps):
        idx = torch.randperm(len(X), generator=g)[:32]
        opt.zero_grad()
        nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()
    kicked = inactive_units(model, X)
    run = train_classifier(activation, (X, y), epochs=epochs, lr=lr, seed=seed, model=model)
    return DyingRun(activation, before, kicked, inactive_units(model, X), run.error[-1], model)


def fit_boundary(
    X: Tensor,
    y: Tensor,
    hidden: int = 0,
    activation: str = "relu",
    steps: int = 500,
    lr: float = 0.05,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    """Fit a linear classifier (``hidden=0``) or a one-hidden-layer MLP; return it and its accuracy.

    Full-batch Adam on the cross-entropy, float64, seeded.

    See the book: Activation functions.
    """
    check_int("hidden", hidden, min=0)
    g = torch.Generator(device="cpu").manual_seed(seed)
    model = mlp(
        2,
        2,
        width=max(hidden, 1),
        depth=1 if hidden else 0,
        activation=MODULES[activation],
        init=_init_for(activation),
        generator=g,
    ).double()
    X = X.double()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model, 1.0 - _error(model, X, y)


def plot_boundaries(
    cases: Mapping[str, tuple[Tensor, Tensor]], models: Mapping[tuple[str, str], nn.Module]
) -> Figure:
    """One row per model kind, one column per case: the points and the predicted regions.

    ``models`` maps ``(case, kind)`` to a fitted model.
    """
    kinds = list(dict.fromkeys(kind for _, kind in models))
    fig = Figure(figsize=(3.2 * len(cases), 3.0 * len(kinds)), layout="constrained")
    axes = fig.subplots(len(kinds), len(cases), squeeze=False)
    grid = torch.linspace(-3, 3, 121, dtype=torch.float64)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    points = torch.stack([gx.ravel(), gy.ravel()], dim=1)  # (121², 2)
    for j, (case, (X, y)) in enumerate(cases.items()):
        for i, kind in enumerate(kinds):
            ax = axes[i, j]
            with torch.no_grad():
                region = models[(case, kind)](points).argmax(1).reshape(gx.shape)
            ax.contourf(gx, gy, region, levels=[-0.5, 0.5, 1.5], colors=["#f4cccc", "#cfe2f3"])
            ax.scatter(X[:, 0], X[:, 1], c=y, s=4, cmap="coolwarm_r")
            ax.set(title=f"{case}: {kind}", xticks=[], yticks=[])
    return fig

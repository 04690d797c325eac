r"""The experiments of the Computational graphs and backpropagation chapter.

Each demo is one call here; the book's cell prints the lecture's number beside ours and asserts
the claim. The scalar graphs are :class:`dlcourse.autograd.Value`; PyTorch's autograd, in float64,
is the oracle they are checked against.

* the lecture's :math:`f(x, y, z) = (x + y)\,z`: :func:`lecture_example`, :func:`torch_gradients`;
* the gate patterns (add distributes, multiply swaps, max routes): :func:`gate_table`;
* the sigmoid neuron :math:`\sigma(\sum_i w_i x_i + b)`: :func:`sigmoid_neuron`,
  :func:`sigmoid_from_primitives`, :func:`weight_gradient_signs`;
* the training loop (sample, forward, backward, update) in both engines: :class:`ScalarMLP`,
  :func:`train_both`.

See the book: Computational graphs and backpropagation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.nn import functional as F

from dlcourse._validate import check_int, check_positive_float
from dlcourse.autograd import Value
from dlcourse.experiments.initialization import quadrant_data
from dlcourse.runtime import generator

__all__ = [
    "ScalarMLP",
    "TrainingRun",
    "gate_table",
    "lecture_example",
    "sigmoid_from_primitives",
    "sigmoid_neuron",
    "torch_gradients",
    "train_both",
    "weight_gradient_signs",
]


# --- the lecture's example ---------------------------------------------------------------------


def lecture_example(x: float = -2.0, y: float = 5.0, z: float = -4.0) -> dict[str, Value]:
    r""":math:`q = x + y`, :math:`f = q z`, backpropagated: the nodes by name.

    The lecture gives :math:`q = 3` and :math:`z = -4`; :math:`x = -2, y = 5` are CS231n's.
    """
    nodes = {"x": Value(x, "x"), "y": Value(y, "y"), "z": Value(z, "z")}
    nodes["q"] = nodes["x"] + nodes["y"]
    nodes["q"].label = "q"
    nodes["f"] = nodes["q"] * nodes["z"]
    nodes["f"].label = "f"
    nodes["f"].backward()
    return nodes


def torch_gradients(fn: Callable[..., torch.Tensor], **inputs: float) -> dict[str, float]:
    """``fn(**inputs)`` on float64 tensors, backpropagated by PyTorch: each input's gradient."""
    xs = {
        k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True)
        for k, v in inputs.items()
    }
    fn(**xs).backward()
    return {k: (0.0 if t.grad is None else t.grad.item()) for k, t in xs.items()}


# --- gate patterns -----------------------------------------------------------------------------


def gate_table(a: float = 3.0, b: float = -1.0, upstream: float = 2.0) -> list[dict[str, object]]:
    """For ``a + b``, ``a * b`` and ``max(a, b)``: the local gradients and the input gradients.

    The output's gradient is ``upstream``; the rows show how each gate passes it on.
    """
    rows = []
    for gate, op in [
        ("add", lambda p, q: p + q),
        ("mul", lambda p, q: p * q),
        ("max", lambda p, q: p.max(q)),
    ]:
        pa, pb = Value(a, "a"), Value(b, "b")
        out = op(pa, pb)
        out.backward(upstream)
        rows.append(
            {
                "gate": gate,
                "a": a,
                "b": b,
                "out": out.data,
                "upstream": upstream,
                "local a": out.local_grads[0],
                "local b": out.local_grads[1],
                "dL/da": pa.grad,
                "dL/db": pb.grad,
            }
        )
    return rows


# --- the sigmoid neuron ------------------------------------------------------------------------


def sigmoid_neuron(w: list[float], x: list[float], b: float) -> tuple[Value, list[Value]]:
    r""":math:`\sigma(\sum_i w_i x_i + b)` as one sigmoid gate, backpropagated.

    Returns:
        The output node and the leaves ``[w_0, ..., x_0, ..., b]`` (labelled).
    """
    ws = [Value(v, f"w{i}") for i, v in enumerate(w)]
    xs = [Value(v, f"x{i}") for i, v in enumerate(x)]
    bias = Value(b, "b")
    z = bias
    for wi, xi in zip(ws, xs):
        z = wi * xi + z
    out = z.sigmoid()
    out.backward()
    return out, [*ws, *xs, bias]


def sigmoid_from_primitives(z: Value) -> Value:
    r""":math:`1 / (1 + e^{-z})` built from ``*``, ``exp``, ``+`` and ``**-1``: four gates."""
    return ((z * -1.0).exp() + 1.0) ** -1


def weight_gradient_signs(
    trials: int = 1000, inputs: int = 5, batch: int = 16, seed: int = 0
) -> dict[str, float]:
    r"""How often the gradients :math:`\partial L/\partial w_i` of a sigmoid neuron share one sign.

    Each trial draws weights :math:`w \sim N(0, 1)`, inputs :math:`x > 0` (sigmoid outputs of
    :math:`N(0, 1)` draws, as from a previous sigmoid layer) and an upstream gradient
    :math:`\partial L / \partial \sigma \sim N(0, 1)`. For one example
    :math:`\partial L/\partial w_i = \partial L/\partial\sigma \cdot \sigma'(z) \cdot x_i`; for a
    minibatch the per-example gradients are summed.

    Returns:
        The share of trials whose gradient entries all have one sign, for one example (key
        ``"one example"``) and for the sum over a minibatch (key ``"minibatch"``).
    """
    check_int("trials", trials, min=1)
    g = generator(seed)
    w = torch.randn(trials, 1, inputs, generator=g, dtype=torch.float64)
    x = torch.sigmoid(torch.randn(trials, batch, inputs, generator=g, dtype=torch.float64))
    upstream = torch.randn(trials, batch, 1, generator=g, dtype=torch.float64)
    s = torch.sigmoid((w * x).sum(-1, keepdim=True))
    per_example = upstream * s * (1 - s) * x  # (trials, batch, inputs)

    def same_sign(grads: torch.Tensor) -> torch.Tensor:
        return (grads > 0).all(-1) | (grads < 0).all(-1)

    return {
        "one example": same_sign(per_example[:, 0]).double().mean().item(),
        "minibatch": same_sign(per_example.sum(1)).double().mean().item(),
    }


# --- the training loop in both engines ----------------------------------------------------------


class ScalarMLP:
    """``in -> hidden tanh units -> 1 logit``, one :class:`Value` per weight, copied from torch.

    Args:
        net: an ``nn.Sequential(Linear, Tanh, Linear)`` whose weights start ours.
    """

    def __init__(self, net: nn.Sequential) -> None:
        first, last = net[0], net[-1]
        if not (isinstance(first, nn.Linear) and isinstance(last, nn.Linear)):
            raise TypeError("net must be nn.Sequential(Linear, Tanh, Linear): copy its weights")
        self.W1 = [[Value(v) for v in row] for row in first.weight.tolist()]
        self.b1 = [Value(v) for v in first.bias.tolist()]
        self.W2 = [Value(v) for v in last.weight[0].tolist()]
        self.b2 = Value(last.bias.item())

    def parameters(self) -> list[Value]:
        """Every weight and bias, in torch's order (``W1`` row by row, ``b1``, ``W2``, ``b2``)."""
        return [v for row in self.W1 for v in row] + self.b1 + self.W2 + [self.b2]

    def __call__(self, x: list[float]) -> Value:
        """The logit for one example ``x``."""
        hidden = [
            sum((w * xi for w, xi in zip(row, x)), b).tanh() for row, b in zip(self.W1, self.b1)
        ]
        return sum((w * h for w, h in zip(self.W2, hidden)), self.b2)


def _bce_with_logits(logit: Value, label: float) -> Value:
    r""":math:`\log(1 + e^{z}) - y z`, the binary cross-entropy of ``sigmoid(z)``."""
    return (logit.exp() + 1.0).log() - logit * label


@dataclass
class TrainingRun:
    """Both engines' minibatch losses, step by step, and how far their weights ended apart."""

    ours: list[float]
    torch: list[float]
    max_weight_diff: float
    accuracy: float


def _torch_net(hidden: int, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)  # nn.Linear's default init draws from the global generator
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1)).double()


def train_both(
    steps: int = 100, batch_size: int = 16, hidden: int = 8, lr: float = 0.5, seed: int = 0
) -> TrainingRun:
    """Train the same net on the quadrants with our engine and with PyTorch, side by side.

    Each step: **sample** a minibatch (seeded), **forward** to the mean cross-entropy,
    **backward**, **update** every parameter by ``-lr * grad`` (plain SGD).
    """
    steps, lr = check_int("steps", steps, min=1), check_positive_float("lr", lr)
    X, y = quadrant_data(n=256, features=2, seed=seed)
    X, y = X.double(), y.double()
    net = _torch_net(hidden, seed)
    ours, g = ScalarMLP(net), generator(seed + 1)
    run = TrainingRun([], [], 0.0, 0.0)
    for _ in range(steps):
        idx = torch.randperm(len(X), generator=g)[:batch_size]  # sample
        loss = (
            sum(
                (_bce_with_logits(ours(X[i].tolist()), y[i].item()) for i in idx.tolist()),
                Value(0.0),
            )
            / batch_size
        )  # forward
        loss.zero_grad()
        loss.backward()  # backward
        for p in ours.parameters():
            p.data -= lr * p.grad  # update
        run.ours.append(loss.data)
        run.torch.append(_torch_step(net, X[idx], y[idx], lr))
    theirs = torch.cat([p.detach().flatten() for p in net.parameters()]).tolist()
    run.max_weight_diff = max(abs(p.data - t) for p, t in zip(ours.parameters(), theirs))
    run.accuracy = sum((ours(x.tolist()).data > 0) == bool(t) for x, t in zip(X, y)) / len(X)
    return run


def _torch_step(net: nn.Sequential, X: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """One SGD step of ``net`` on the minibatch; its loss before the update."""
    net.zero_grad()
    loss = F.binary_cross_entropy_with_logits(net(X), y)
    loss.backward()
    with torch.no_grad():
        for p in net.parameters():
            if p.grad is not None:
                p.sub_(lr * p.grad)
    return loss.item()

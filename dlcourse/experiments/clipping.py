r"""The experiments of the Exploding gradients and clipping chapter, as small tested functions.

* gradients growing through a deep stack whose layers multiply by more than 1:
  :func:`stack_gradient_norms`;
* the direction of a clipped gradient: :func:`angle_deg`, :func:`clip_angles`;
* a deep MLP trained with and without clipping: :func:`train_clipped`.

Random numbers come from seeded CPU generators, so every result is a function of the arguments.

See the book: Exploding gradients and clipping.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor, nn

from dlcourse._validate import check_choice, check_int, check_positive_float
from dlcourse.data import loader
from dlcourse.experiments.schedules import digits_splits
from dlcourse.nn import clip_grad_norm_, clip_grad_value_, mlp
from dlcourse.runtime import generator

__all__ = [
    "ClipRun",
    "angle_deg",
    "clip_angles",
    "deep_mlp",
    "initial_gradient",
    "stack_gradient_norms",
    "train_clipped",
]

Clip = Literal["none", "value", "norm"]


def _stack(depth: int, width: int, gain: float, seed: int, tanh: bool) -> nn.Sequential:
    g = generator(seed)
    layers: list[nn.Module] = []
    for _ in range(depth):
        layer = nn.Linear(width, width, bias=False)
        with torch.no_grad():
            layer.weight.normal_(0.0, gain / math.sqrt(width), generator=g)
        layers += [layer, nn.Tanh()] if tanh else [layer]
    return nn.Sequential(*layers)


def stack_gradient_norms(
    depth: int = 50,
    width: int = 256,
    gain: float = 1.2,
    seed: int = 0,
    batch: int = 64,
    tanh: bool = False,
) -> list[float]:
    r"""The norm of :math:`\partial L / \partial h_k` at the input of each layer, first layer first.

    Each layer is ``Linear(width, width)`` with weights :math:`N(0, \text{gain}^2/\text{width})`
    (then a tanh with ``tanh=True``). The loss is :math:`L = \frac{1}{B}\sum_b r^\top h_L^{(b)}`
    for a fixed random unit vector :math:`r`, so the gradient at the top is the same for every
    stack, and the backward pass :math:`g_{k-1} = W_k^\top g_k` multiplies its norm by about
    ``gain`` per layer: :math:`\lVert g_k \rVert \approx \text{gain}^{\,\text{depth}-k}
    \lVert g_\text{depth} \rVert` (Pascanu et al., 2013). The last entry is the top,
    :math:`\lVert r \rVert / \sqrt{B}` summed over the batch.
    """
    depth = check_int("depth", depth, min=1)
    width = check_int("width", width, min=1)
    model = _stack(depth, width, gain, seed, tanh)
    g = generator(seed + 1)
    x = torch.randn(batch, width, generator=g)
    r = torch.randn(width, generator=g)
    hs = []
    h = x.requires_grad_(True)
    for module in model:
        if isinstance(module, nn.Linear):
            h.retain_grad()
            hs.append(h)
        h = module(h)
    h.retain_grad()
    hs.append(h)
    (h @ (r / r.norm())).mean().backward()
    return [t.grad.norm().item() for t in hs if t.grad is not None]


def angle_deg(a: Tensor, b: Tensor) -> float:
    """The angle between two vectors (any shapes, flattened), in degrees, computed in float64."""
    a, b = a.flatten().double(), b.flatten().double()
    cos = torch.dot(a, b) / (a.norm() * b.norm())
    return math.degrees(math.acos(max(-1.0, min(1.0, cos.item()))))


def clip_angles(grad: Tensor, threshold: float = 1.0) -> dict[str, float]:
    """How far clipping by value and by norm turn ``grad``: angles in degrees and the norms.

    Returns:
        A dict with ``value_angle``, ``norm_angle`` (degrees from the original direction) and
        ``value_norm``, ``norm_norm`` (the norms after clipping).
    """
    by_value = grad.detach().clone().requires_grad_(False)
    by_norm = grad.detach().clone()
    p_value, p_norm = nn.Parameter(torch.zeros_like(grad)), nn.Parameter(torch.zeros_like(grad))
    p_value.grad, p_norm.grad = by_value, by_norm
    clip_grad_value_(p_value, threshold)
    clip_grad_norm_(p_norm, threshold)
    return {
        "value_angle": angle_deg(grad, by_value),
        "norm_angle": angle_deg(grad, by_norm),
        "value_norm": by_value.norm().item(),
        "norm_norm": by_norm.norm().item(),
    }


def deep_mlp(
    depth: int = 12, gain: float = 1.6, activation: str = "relu", seed: int = 0
) -> nn.Module:
    r"""An MLP 64 -> 64 x ``depth`` -> 10 with weights :math:`N(0, \text{gain}^2/n_\text{in})`.

    Kaiming's gain for ReLU is :math:`\sqrt 2 \approx 1.41`; a larger one makes the signal, and
    the gradients, grow with depth.
    """
    return mlp(
        64,
        10,
        width=64,
        depth=check_int("depth", depth, min=1),
        activation=activation,
        init=lambda w, generator=None: nn.init.normal_(
            w, 0.0, gain / math.sqrt(w.shape[1]), generator=generator
        ),
        generator=generator(seed),
    )


def initial_gradient(
    depth: int = 12,
    gain: float = 1.6,
    activation: str = "relu",
    seed: int = 0,
    data: dict[str, tuple[Tensor, Tensor]] | None = None,
) -> Tensor:
    """The gradient of the first minibatch (64 training digits) of :func:`deep_mlp`, flattened."""
    data = data or digits_splits()
    model = deep_mlp(depth, gain, activation, seed)
    X, y = data["train"]
    nn.functional.cross_entropy(model(X[:64]), y[:64]).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


@dataclass
class ClipRun:
    """One training run of :func:`train_clipped`.

    ``grad_norms`` is the joint gradient norm of every step *before* clipping, ``step_loss`` the
    loss of every step; ``diverged`` says the loss became non-finite or exceeded 100.
    """

    step_loss: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    test_accuracy: float = float("nan")
    diverged: bool = False

    @property
    def final_loss(self) -> float:
        """The mean loss of the last 17 steps (one epoch), ``inf`` after a divergence."""
        return math.inf if self.diverged else statistics.fmean(self.step_loss[-17:])


def train_clipped(
    clip: Clip = "none",
    threshold: float = 1.0,
    lr: float = 0.3,
    epochs: int = 5,
    seed: int = 0,
    depth: int = 12,
    gain: float = 1.6,
    activation: str = "relu",
    data: dict[str, tuple[Tensor, Tensor]] | None = None,
) -> ClipRun:
    """Train :func:`deep_mlp` on the digits with plain SGD, clipping each gradient or not.

    With the defaults (12 ReLU layers, gain 1.6, rate 0.3) the first gradients are large and an
    unclipped step throws the network off: the loss becomes infinite.

    Args:
        clip: ``"none"``, ``"value"`` (:func:`~dlcourse.nn.clip_grad_value_`) or ``"norm"``
            (:func:`~dlcourse.nn.clip_grad_norm_`, 2-norm over all parameters).
        threshold: the clipping threshold.
        lr: SGD's learning rate (no momentum).
        epochs: passes over the 1,077 training digits.
        seed: seeds the initialization and the batch order.
        depth: hidden layers.
        gain: the initialization's gain.
        activation: the hidden layers' activation, a name of :func:`dlcourse.nn.get_activation`.
        data: the splits of :func:`~dlcourse.experiments.schedules.digits_splits`.

    Returns:
        The :class:`ClipRun`.
    """
    check_choice("clip", clip, ("none", "value", "norm"))
    check_positive_float("lr", lr)
    data = data or digits_splits()
    model = deep_mlp(depth, gain, activation, seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    run = ClipRun()
    for _ in range(check_int("epochs", epochs, min=1)):
        for X, y in loader(*data["train"], batch_size=64, seed=seed + len(run.step_loss)):
            loss = nn.functional.cross_entropy(model(X), y)
            if not torch.isfinite(loss) or loss.item() > 100:
                run.diverged = True
                return run
            opt.zero_grad()
            loss.backward()
            if clip == "value":
                run.grad_norms.append(_norm(model))
                clip_grad_value_(model.parameters(), threshold)
            elif clip == "norm":
                run.grad_norms.append(clip_grad_norm_(model.parameters(), threshold).item())
            else:
                run.grad_norms.append(_norm(model))
            opt.step()
            run.step_loss.append(loss.item())
    with torch.no_grad():
        X, y = data["test"]
        run.test_accuracy = (model(X).argmax(1) == y).float().mean().item()
    return run


def _norm(model: nn.Module) -> float:
    return math.sqrt(
        sum(p.grad.pow(2).sum().item() for p in model.parameters() if p.grad is not None)
    )

r"""Two-dimensional loss surfaces, and a helper that runs any optimizer on them.

Three surfaces reproduce the situations the lectures describe:

* :data:`RAVINE` — an elongated bowl :math:`f(x, y) = \tfrac12 (a x^2 + b y^2)` with
  :math:`b/a = 40`: steep across, nearly flat along the valley floor;
* :data:`SADDLE` — :math:`f(x, y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2`, a saddle point at the
  origin between two minima at :math:`(0, \pm 1)`;
* :data:`NARROW` — a wide shallow bowl with a steep narrow well near :math:`(1, 1)` (the bowl
  pulls its minimum to :math:`(0.9978, 0.9978)`).

Every surface is a plain torch function of a tensor of shape ``(2,)`` (or ``(..., 2)`` for a grid),
so autograd gives its gradient and :func:`trajectory` can run any :class:`torch.optim.Optimizer`.

See the book: Optimizers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from dlcourse._validate import check_callable, check_int

__all__ = ["NARROW", "RAVINE", "SADDLE", "SURFACES", "Surface", "trajectory"]


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface with where to start, where its minimum is, and what to plot.

    Attributes:
        name: a short label.
        fn: ``(..., 2) tensor -> (...) tensor``, the loss at each point.
        start: the usual starting point.
        minimum: the global minimum (one of them, for a symmetric surface).
        xlim: the x range for a plot.
        ylim: the y range for a plot.
    """

    name: str
    fn: Callable[[Tensor], Tensor]
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def __call__(self, xy: Tensor) -> Tensor:
        """The loss at ``xy`` (shape ``(..., 2)``)."""
        return self.fn(xy)

    def min_value(self) -> float:
        """The loss at :attr:`minimum`."""
        return float(self.fn(torch.tensor(self.minimum, dtype=torch.float64)))


def _ravine(xy: Tensor) -> Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * (0.05 * x**2 + 4.0 * y**2)  # curvatures 0.05 and 4: condition number 80


def _saddle(xy: Tensor) -> Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return x**2 + 0.25 * y**4 - 0.5 * y**2 + 0.25  # minima (0, ±1) at 0, saddle (0, 0) at 0.25


def _narrow(xy: Tensor) -> Tensor:
    x, y = xy[..., 0], xy[..., 1]
    well = torch.exp(-((x - 1) ** 2 + (y - 1) ** 2) / (2 * 0.15**2))
    return 0.05 * (x**2 + y**2) - well


RAVINE = Surface(
    "ravine", _ravine, start=(-9.0, 1.0), minimum=(0.0, 0.0), xlim=(-10.0, 2.0), ylim=(-1.6, 1.6)
)
SADDLE = Surface(
    "saddle", _saddle, start=(-1.5, 1e-3), minimum=(0.0, 1.0), xlim=(-1.8, 1.8), ylim=(-1.6, 1.6)
)
NARROW = Surface(
    "narrow well",
    _narrow,
    start=(-1.5, 0.2),
    minimum=(0.99775454913528, 0.99775454913528),
    xlim=(-2.0, 2.0),
    ylim=(-1.5, 2.0),
)
#: The surfaces by name.
SURFACES = {s.name: s for s in (RAVINE, SADDLE, NARROW)}


def trajectory(
    surface: Surface | Callable[[Tensor], Tensor],
    make_optimizer: Callable[[list[Tensor]], torch.optim.Optimizer],
    steps: int,
    start: tuple[float, float] | None = None,
    lr_factor: Callable[[int], float] | None = None,
) -> Tensor:
    """Run an optimizer on a surface in float64 and return the visited points.

    Args:
        surface: a :class:`Surface` or any function ``(2,) tensor -> scalar``.
        make_optimizer: ``[param] -> optimizer``, e.g. ``lambda p: SGD(p, lr=0.1, momentum=0.9)``.
        steps: how many updates (>= 0).
        start: the first point; defaults to ``surface.start``.
        lr_factor: step -> factor applied to every group's initial learning rate before that
            step (steps count from 0), to change the learning rate mid-run; ``None`` keeps it.

    Returns:
        A ``(steps + 1, 2)`` float64 tensor: the start, then the point after each update.

    See the book: Optimizers.
    """
    check_callable("surface", surface, "a Surface or a function (2,) tensor -> scalar")
    check_callable("make_optimizer", make_optimizer, "a function [param] -> optimizer")
    check_int("steps", steps, min=0)
    if start is None:
        if not isinstance(surface, Surface):
            raise ValueError("start is needed when surface is a plain function: pass (x, y)")
        start = surface.start
    point = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = make_optimizer([point])
    base = [group["lr"] for group in opt.param_groups]
    path = [point.detach().clone()]
    for t in range(steps):
        if lr_factor is not None:
            for group, lr in zip(opt.param_groups, base, strict=True):
                group["lr"] = lr * lr_factor(t)
        opt.zero_grad()
        loss = surface(point)
        if not math.isfinite(float(loss.detach())):
            raise FloatingPointError(
                f"the loss became {float(loss.detach())} at step {t}: lower the learning rate"
            )
        loss.backward()
        opt.step()
        path.append(point.detach().clone())
    return torch.stack(path)  # (steps + 1, 2)

"""What :class:`~dlcourse.probes.stats.ActivationStats` computes from one tensor.

Moments in float64, histograms of the finite values, and the percentages of saturated units
(tanh, sigmoid) and of dead units (ReLU family). Each helper takes a tensor and returns plain
Python numbers, so no tensor outlives a hook.

See the book: Weight initialization.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

__all__: list[str] = []  # helpers of dlcourse.probes.stats; nothing public here

Kind = Literal["tanh", "sigmoid", "relu", "activation"]


def _moments(x: Tensor) -> tuple[float, float]:
    """Mean and sample std in float64 (std 0 for a single value)."""
    xd = x.detach().double().flatten()
    std = xd.std().item() if xd.numel() > 1 else 0.0
    return xd.mean().item(), std


def _histogram(x: Tensor, bins: int,
               rng: tuple[float, float] | None) -> tuple[list[int], list[float]]:
    """Counts and edges of ``x``'s finite values; values outside a fixed range are not counted."""
    finite = x.detach().flatten()
    finite = finite[torch.isfinite(finite)]
    if finite.dtype not in (torch.float32, torch.float64):
        finite = finite.float()
    if rng is not None:
        lo, hi = float(rng[0]), float(rng[1])
    elif finite.numel() == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = finite.min().item(), finite.max().item()
    if lo == hi:  # numpy's convention for a constant sample
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(finite, bins=bins, min=lo, max=hi) if finite.numel() else torch.zeros(bins)
    edges = torch.linspace(lo, hi, bins + 1, dtype=torch.float64)
    return [int(c) for c in counts.round().tolist()], edges.tolist()


def _pct_dead(y: Tensor) -> float:
    """Percentage of units never positive over the batch.

    A unit is a column of an ``(N, D)`` output, a channel of ``(N, C, ...)``.
    """
    positive = y.detach() > 0
    if positive.ndim == 0:
        return 0.0
    if positive.ndim == 1:  # a single example: each element is a unit
        alive = positive
    else:
        alive = positive.movedim(1, 0).reshape(positive.shape[1], -1).any(dim=1)  # (C,)
    return 100.0 * (1.0 - alive.double().mean().item()) if alive.numel() else 0.0


def _pct_saturated(y: Tensor, kind: Kind | None, s: float) -> float:
    y = y.detach()
    if y.numel() == 0:
        return 0.0
    if kind == "tanh":
        return 100.0 * (y.abs() > s).double().mean().item()
    if kind == "sigmoid":
        return 100.0 * ((y < 1.0 - s) | (y > s)).double().mean().item()
    return 0.0


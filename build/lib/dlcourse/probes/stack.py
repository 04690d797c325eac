"""The lecture's deep-stack experiment, run through the probes.

The lecture's loop draws a weight matrix, applies it and the activation, and records the result,
a hundred times over::

    for i in range(100):
        a = torch.randn(512, 512) * sigma
        x = act(a @ x)

:func:`run_stack` runs the same network, built once by :func:`dlcourse.nn.deep_stack` from a seeded
generator, and records every layer with :class:`~dlcourse.probes.stats.ActivationStats`. The book's
chapter and the widgets' explorer both use it. :func:`stack_output` runs the same draws without
the probes, for spreads over many seeds.

See the book: Weight initialization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from dlcourse.nn import deep_stack
from dlcourse.probes.stats import ActivationStats
from dlcourse.runtime import device, generator

__all__ = ["StackRun", "run_stack", "stack_output"]


@dataclass
class StackRun:
    """What :func:`run_stack` measured: per-layer statistics and the last layer's output (CPU)."""

    stats: ActivationStats
    output: Tensor

    def values(self, quantity: str = "std") -> list[float]:
        """One :class:`~dlcourse.probes.stats.LayerStats` field per layer.

        Args:
            quantity: the field's name, e.g. ``"std"``, ``"grad_std"`` or ``"pct_saturated"``.

        Returns:
            The field of every recorded layer, first layer first.
        """
        return [getattr(rec, quantity) for rec in self.stats.layers]


def run_stack(depth: int, width: int, activation: Any = None, *, weight_std: float | None = None,
              init: Any = None, batch: int = 1, seed: int = 0, backward: bool = False,
              hist_range: tuple[float, float] | None = None, bins: int = 40) -> StackRun:
    r"""Push a seeded batch through a deep stack and record every layer.

    The batch :math:`X \sim N(0, 1)^{batch \times width}` goes through
    ``deep_stack(depth, width, activation, ...)``, recorded with
    :class:`~dlcourse.probes.stats.ActivationStats`.

    Weights, ``X`` and (with ``backward``) a gradient :math:`G \sim N(0, 1)^{batch \times width}`
    come from ``generator(seed)`` in that order, on the CPU; the model runs on
    :func:`dlcourse.device`. With ``backward``, ``output.backward(G)`` makes each layer's
    ``grad_std`` the backpropagated signal.

    Args:
        depth: number of layers, as in :func:`dlcourse.nn.deep_stack`.
        width: units per layer, as in :func:`dlcourse.nn.deep_stack`.
        activation: as in :func:`dlcourse.nn.deep_stack`.
        weight_std: as in :func:`dlcourse.nn.deep_stack`.
        init: as in :func:`dlcourse.nn.deep_stack`.
        batch: rows of ``X`` (the lecture's ``x`` is one vector, ``batch=1``).
        seed: seeds the weights, ``X`` and ``G``.
        backward: also backpropagate ``G`` and record gradients.
        hist_range: the histograms' range (see ``ActivationStats``).
        bins: the histograms' number of bins (see ``ActivationStats``).

    Returns:
        A :class:`StackRun` with the statistics and the last layer's output.

    See the book: Weight initialization.
    """
    model, X, g = _stack(depth, width, activation, weight_std, init, batch, seed)
    G = torch.randn(batch, width, generator=g).to(X.device) if backward else None
    stats = ActivationStats(model, bins=bins, range=hist_range)
    with torch.set_grad_enabled(backward), stats:
        out = model(X)
        if backward:
            out.backward(G)
    return StackRun(stats, out.detach().cpu())


def stack_output(depth: int, width: int, activation: Any = None, *,
                 weight_std: float | None = None, init: Any = None, batch: int = 1,
                 seed: int = 0) -> Tensor:
    """The last layer's output of :func:`run_stack` with the same arguments, without the probes.

    The same draws in the same order give the same output, several times faster: for spreads
    over many seeds, where only the output counts.

    Args:
        depth: number of layers, as in :func:`dlcourse.nn.deep_stack`.
        width: units per layer.
        activation: the activation after every layer.
        weight_std: the weights' standard deviation.
        init: an initializer instead of ``weight_std``.
        batch: rows of ``X``.
        seed: seeds the weights and ``X``.

    Returns:
        The output, shape ``(batch, width)``, on the CPU.

    See the book: Weight initialization.
    """
    model, X, _ = _stack(depth, width, activation, weight_std, init, batch, seed)
    with torch.no_grad():
        return model(X).cpu()


def _stack(depth: int, width: int, activation: Any, weight_std: float | None, init: Any,
           batch: int, seed: int) -> tuple[torch.nn.Module, Tensor, torch.Generator]:
    """The seeded stack and its input, drawn in :func:`run_stack`'s order; the generator after."""
    g = generator(seed)
    dev = device()
    model = deep_stack(depth, width, activation, weight_std=weight_std, init=init,
                       generator=g).to(dev)
    X = torch.randn(batch, width, generator=g).to(dev)  # (N, D): the lecture's x is N = 1
    return model, X, g

r"""Dead units: units whose activation passes no gradient for *any* example of a data set.

A ReLU unit is dead when its pre-activation is :math:`\le 0` for every input: it outputs 0
everywhere, its local derivative is 0 everywhere, so no gradient ever reaches its weights and it
never recovers. Whether a unit is dead is a property of the whole data set: a unit silent on one
minibatch may fire on the next, so :func:`dead_units` runs every batch of the set before judging.

The rule is general: a unit is dead when the activation's derivative :math:`f'(z)` is 0 for all
examples (and, for convolutions, all positions). For ReLU this is "never positive"; a leaky ReLU
or ELU unit is never dead, since :math:`f' > 0` everywhere. It works on any model: it hooks every
elementwise activation module (recognised by class name, as :mod:`dlcourse.probes.stats` does;
modules with parameters such as maxout are left out) and differentiates the module at its input.

See the book: Activation functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from dlcourse._validate import check_int, check_module, check_tensor
from dlcourse.probes.stats import _kind

__all__ = ["DeadUnits", "dead_units", "local_derivative"]


@dataclass
class DeadUnits:
    """Dead units of one activation module over a data set.

    ``alive`` is a boolean tensor of shape ``(units,)``: ``True`` where the derivative was non-zero
    for at least one example. ``units`` is the number of units (features of an ``(N, D)`` output,
    channels of an ``(N, C, ...)`` one).
    """

    name: str
    alive: Tensor

    @property
    def units(self) -> int:
        """The number of units of the layer."""
        return int(self.alive.numel())

    @property
    def dead(self) -> int:
        """The number of dead units."""
        return int((~self.alive).sum())

    @property
    def fraction(self) -> float:
        """The share of dead units, between 0 and 1."""
        return self.dead / self.units


def local_derivative(module: nn.Module, z: Tensor) -> Tensor:
    r"""The elementwise derivative :math:`f'(z)` of an elementwise activation ``module`` at ``z``.

    Computed with autograd as :math:`\partial \sum f(z) / \partial z`, which is :math:`f'(z)` for
    elementwise functions.
    """
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(module.forward(z).sum(), z)  # forward: no hooks
    return grad


def _alive_units(grad: Tensor) -> Tensor:
    """``(units,)``: any non-zero derivative over examples and positions of ``(N, units, ...)``."""
    nonzero = grad != 0
    if nonzero.ndim == 1:
        return nonzero
    return nonzero.transpose(0, 1).reshape(nonzero.shape[1], -1).any(dim=1)


@torch.no_grad()
def dead_units(model: nn.Module, X: Tensor, batch_size: int = 256) -> list[DeadUnits]:
    """Count the dead units of every activation layer of ``model`` over the whole set ``X``.

    Args:
        model: any module with activation modules (``nn.ReLU``, ``dlcourse.nn.ReLU``, ...); it is
            run in evaluation mode and restored to its previous mode.
        X: the data set, shape ``(N, ...)``, on the model's device; all of it is used.
        batch_size: examples per forward pass (memory only: the result does not depend on it).

    Returns:
        One :class:`DeadUnits` per activation module, in ``named_modules`` order.

    Raises:
        ValueError: the model has no activation module.

    See the book: Activation functions.
    """
    check_module("model", model)
    check_tensor("X", X, floating=True)
    check_int("batch_size", batch_size, min=1)
    chosen = [
        (n or "(model)", m)
        for n, m in model.named_modules()
        if _kind(m) is not None
        and next(m.children(), None) is None
        and next(m.parameters(), None) is None
    ]
    if not chosen:
        raise ValueError(
            f"model has no activation module ({type(model).__name__}): dead units "
            "are found by hooking nn.ReLU-like modules, not functional calls"
        )
    alive: dict[str, Tensor] = {}

    def hook(name: str, module: nn.Module, args: tuple, output: Tensor) -> None:
        now = _alive_units(local_derivative(module, args[0]))
        alive[name] = now if name not in alive else alive[name] | now

    handles = [
        m.register_forward_hook(lambda mod, a, o, n=n: hook(n, mod, a, o)) for n, m in chosen
    ]
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(X), batch_size):
            model(X[start : start + batch_size])
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return [DeadUnits(name, alive[name]) for name, _ in chosen if name in alive]

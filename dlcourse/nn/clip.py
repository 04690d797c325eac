r"""Gradient clipping from scratch, with :mod:`torch.nn.utils`'s signatures.

Clipping by value caps every gradient entry at :math:`\pm c`; it changes the *direction* of the
gradient whenever some entries are cut and others are not. Clipping by norm rescales the whole
gradient (all parameters together) when its norm exceeds a threshold,

.. math:: g \leftarrow g \cdot \min\Big(1, \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}\Big),

which keeps the direction (Pascanu, Mikolov and Bengio, "On the difficulty of training recurrent
neural networks", 2013). Both work in place on ``p.grad``.

See the book: Exploding gradients and clipping.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from dlcourse._validate import check_real

__all__ = ["clip_grad_norm_", "clip_grad_value_", "total_norm"]

Params = torch.Tensor | Iterable[torch.Tensor]


def _grads(parameters: Params) -> list[torch.Tensor]:
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    elif not isinstance(parameters, Iterable):
        raise TypeError(
            f"parameters must be a tensor or an iterable of tensors, got "
            f"{type(parameters).__name__}: pass model.parameters()"
        )
    params = list(parameters)
    for p in params:
        if not isinstance(p, torch.Tensor):
            raise TypeError(
                f"parameters must hold tensors, got a {type(p).__name__}: pass model.parameters()"
            )
    return [p.grad for p in params if p.grad is not None]


def _norm_type(norm_type: float | str) -> float:
    if isinstance(norm_type, str):
        if norm_type != "inf":
            raise ValueError(f"norm_type must be a number or 'inf', got {norm_type!r}")
        return math.inf
    return check_real("norm_type", norm_type, min=0, min_open=True, finite=False)


def total_norm(grads: list[torch.Tensor], norm_type: float = 2.0) -> torch.Tensor:
    r"""The norm of all gradients taken as one vector: :math:`(\sum_i \lVert g_i \rVert_p^p)^{1/p}`.

    For ``norm_type = inf`` it is the largest absolute entry. An empty list gives 0.
    """
    if not grads:
        return torch.tensor(0.0)
    if math.isinf(norm_type):
        return torch.stack([g.detach().abs().max() for g in grads]).max()
    per_tensor = torch.stack([torch.linalg.vector_norm(g.detach(), norm_type) for g in grads])
    return torch.linalg.vector_norm(per_tensor, norm_type)


def clip_grad_norm_(
    parameters: Params,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> torch.Tensor:
    r"""Rescale the gradients in place so that their joint norm is at most ``max_norm``.

    Every gradient is multiplied by the same factor
    :math:`\min(1, \text{max\_norm} / (\lVert g \rVert + 10^{-6}))`, so the update keeps its
    direction. Equivalent to :func:`torch.nn.utils.clip_grad_norm_`.

    Args:
        parameters: a tensor or an iterable of tensors (``model.parameters()``); those without a
            gradient are skipped.
        max_norm: the largest allowed norm, >= 0.
        norm_type: :math:`p` of the :math:`p`-norm, > 0, or ``inf`` (``float("inf")``, ``"inf"``).
        error_if_nonfinite: raise ``RuntimeError`` when the norm is ``nan`` or ``inf`` instead of
            scaling by it.

    Returns:
        The joint norm of the gradients *before* clipping, a scalar tensor.

    See the book: Exploding gradients and clipping.
    """
    grads = _grads(parameters)
    max_norm = check_real("max_norm", max_norm, min=0)
    p = _norm_type(norm_type)
    norm = total_norm(grads, p)
    if error_if_nonfinite and not torch.isfinite(norm):
        raise RuntimeError(
            f"the total norm of order {p} of the gradients is {norm.item()}, so "
            "they cannot be clipped: lower the learning rate, or pass "
            "error_if_nonfinite=False"
        )
    factor = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
    for g in grads:
        g.detach().mul_(factor.to(g.device, g.dtype))
    return norm


def clip_grad_value_(parameters: Params, clip_value: float) -> None:
    r"""Clamp every gradient entry in place to :math:`[-c, c]`, ``c = clip_value``.

    The lecture's Keras ``SGD(clipvalue=1.0)`` is ``clip_grad_value_(params, 1.0)`` before each
    step. Entries beyond :math:`c` are cut, the others kept, so the gradient can turn.
    Equivalent to :func:`torch.nn.utils.clip_grad_value_`.

    Args:
        parameters: a tensor or an iterable of tensors; those without a gradient are skipped.
        clip_value: the bound :math:`c`, >= 0.

    See the book: Exploding gradients and clipping.
    """
    grads = _grads(parameters)
    c = check_real("clip_value", clip_value, min=0)
    for g in grads:
        g.detach().clamp_(-c, c)

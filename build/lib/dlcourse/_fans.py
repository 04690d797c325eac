r"""Fans and gains: the two numbers every fan-based initializer in :mod:`dlcourse.init` needs.

Public through :mod:`dlcourse.init`; this module only keeps that one short.

See the book: Weight initialization.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch

from dlcourse._validate import check_choice, check_int, check_real

__all__ = ["FanMode", "calculate_gain", "calculate_fan_in_and_fan_out", "fan"]

FanMode = Literal["fan_in", "fan_out"]

_LINEAR = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)
_NONLINEARITIES = (*_LINEAR, "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""Return the gain that keeps the activations' variance steady through ``nonlinearity``.

    ================================ ===================================================
    nonlinearity                     gain
    ================================ ===================================================
    linear, conv*, sigmoid           :math:`1`
    tanh                             :math:`5/3`
    relu                             :math:`\sqrt{2}`
    leaky_relu (slope ``param``)     :math:`\sqrt{2 / (1 + \text{param}^2)}`, param 0.01 by default
    selu                             :math:`3/4`
    ================================ ===================================================

    The ReLU gain comes from He et al. (2015), *Delving Deep into Rectifiers*: a ReLU zeroes half
    its input, halving the second moment, so the weights' variance is doubled to compensate.

    Args:
        nonlinearity: the ``torch.nn.functional`` name of the nonlinearity after the layer.
        param: the negative slope, for ``"leaky_relu"`` only (ignored otherwise).

    Returns:
        The gain, the same value ``torch.nn.init.calculate_gain`` returns.

    See the book: Weight initialization.
    """
    check_choice("nonlinearity", nonlinearity, _NONLINEARITIES)
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else check_real("param (the leaky_relu slope)", param)
        return math.sqrt(2.0 / (1 + slope**2))
    # selu: found empirically by PyTorch (pytorch/pytorch#50664); self-normalizing nets want
    # "linear".
    return 3.0 / 4


def _shape_of(tensor_or_shape: torch.Tensor | Sequence[int]) -> tuple[int, ...]:
    if isinstance(tensor_or_shape, torch.Tensor):
        return tuple(tensor_or_shape.shape)
    if not isinstance(tensor_or_shape, (tuple, list)):
        raise TypeError(
            "tensor must be a torch.Tensor or a shape (a tuple or list of non-negative ints), "
            f"got {type(tensor_or_shape).__name__} {tensor_or_shape!r}"
        )
    return tuple(check_int("each size of the shape", s, min=0) for s in tensor_or_shape)


def calculate_fan_in_and_fan_out(tensor: torch.Tensor | Sequence[int]) -> tuple[int, int]:
    r"""Return ``(fan_in, fan_out)`` of a weight or of a weight's shape.

    A weight is laid out as PyTorch lays it out, ``(out_features, in_features, *kernel)``
    (``Linear`` computes ``x @ w.T``). With :math:`k` the product of the kernel sizes (1 for
    ``Linear``):

    .. math::
        \text{fan\_in} = \text{in\_features} \cdot k, \qquad
        \text{fan\_out} = \text{out\_features} \cdot k

    so a conv layer's :math:`D_\text{in}` is kernel_size² · input_channels, as the lecture says.

    Args:
        tensor: a tensor with at least 2 dimensions, or its shape (tuple, list or ``torch.Size``).

    Returns:
        ``(fan_in, fan_out)`` as ints, equal to torch's private ``_calculate_fan_in_and_fan_out``.

    See the book: Weight initialization.
    """
    shape = _shape_of(tensor)
    if len(shape) < 2:
        raise ValueError(
            "fans need a weight with at least 2 dimensions (out_features, in_features, *kernel); "
            f"got shape {shape} — biases are initialized with zeros_ or constant_, "
            "not with fan-based schemes"
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def fan(tensor: torch.Tensor | Sequence[int], mode: FanMode) -> int:
    """Return the fan named by ``mode`` (``"fan_in"`` or ``"fan_out"``, any case, as in PyTorch)."""
    wanted = check_choice("mode", mode.lower() if isinstance(mode, str) else mode,
                          ("fan_in", "fan_out"))
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if wanted == "fan_in" else fan_out

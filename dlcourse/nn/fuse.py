"""Fold an eval-mode batch-norm layer into the linear or convolutional layer before it.

At test time batch normalization is an affine map per channel,
``y = gamma * (z - mu) / sqrt(var + eps) + beta = s * z + t`` with ``s = gamma / sqrt(var + eps)``
and ``t = beta - s * mu``. When ``z = W x + b`` comes from a linear or convolutional layer, the
two compose into one layer with ``W' = s W`` (row ``j``, or output channel ``j``, scaled by
``s_j``) and ``b' = s (b - mu) + beta``: same outputs, one layer fewer, zero cost for the
normalization {Ioffe and Szegedy, 2015}.

See the book: Batch normalization.
"""

from __future__ import annotations

import copy
from typing import cast

import torch
from torch import nn

__all__ = ["fuse"]

_BN_TYPES = (nn.modules.batchnorm._BatchNorm,)


def _is_batch_norm(module: object) -> bool:
    from dlcourse.nn.batchnorm import _BatchNorm

    return isinstance(module, (_BatchNorm, *_BN_TYPES))


def fuse(layer: nn.Linear | nn.Conv1d | nn.Conv2d, bn: nn.Module) -> nn.Module:
    r"""Return a new layer equal to ``bn(layer(x))`` for an eval-mode ``bn``.

    .. math::

        s = \frac{\gamma}{\sqrt{\sigma^2_{\text{run}}+\epsilon}}, \quad
        W' = \operatorname{diag}(s)\,W, \quad b' = s\,(b - \mu_{\text{run}}) + \beta .

    Args:
        layer: a :class:`torch.nn.Linear`, :class:`torch.nn.Conv1d` or :class:`torch.nn.Conv2d`
            (with or without bias); it is not changed.
        bn: a batch-norm layer (ours or PyTorch's) in eval mode, with running statistics, whose
            ``num_features`` equals the layer's outputs.

    Returns:
        A copy of ``layer`` with folded weight and bias (a bias is added when it had none).

    Raises:
        TypeError: ``layer`` is not linear/convolutional or ``bn`` is not a batch-norm layer.
        ValueError: ``bn`` is in training mode, has no running statistics, or its size differs.

    See the book: Batch normalization.
    """
    if not isinstance(layer, (nn.Linear, nn.Conv1d, nn.Conv2d)):
        raise TypeError(
            f"layer must be an nn.Linear, nn.Conv1d or nn.Conv2d, got {type(layer).__name__}"
        )
    if not _is_batch_norm(bn):
        raise TypeError(f"bn must be a batch-norm layer, got {type(bn).__name__}")
    if bn.training:
        raise ValueError(
            "bn is in training mode, where it uses batch statistics and cannot be "
            "folded; call bn.eval() first"
        )
    if bn.running_mean is None:
        raise ValueError(
            "bn has no running statistics (track_running_stats=False); "
            "only a layer with running statistics can be folded"
        )
    outputs = layer.weight.shape[0]
    if bn.num_features != outputs:
        raise ValueError(
            f"bn has num_features={bn.num_features} but the layer has {outputs} "
            "outputs; fold a batch norm into the layer right before it"
        )
    return _folded(layer, bn)


@torch.no_grad()
def _folded(layer: nn.Module, bn: nn.Module) -> nn.Module:
    """The copy of ``layer`` with the batch norm's scale and shift in its weight and bias."""
    get = lambda module, name: cast("torch.Tensor | None", getattr(module, name))  # noqa: E731
    weight, mean, var = get(layer, "weight"), get(bn, "running_mean"), get(bn, "running_var")
    assert weight is not None and mean is not None and var is not None
    gamma, beta, bias = get(bn, "weight"), get(bn, "bias"), get(layer, "bias")
    gamma = gamma if gamma is not None else torch.ones_like(mean)
    beta = beta if beta is not None else torch.zeros_like(mean)
    bias = bias if bias is not None else torch.zeros_like(mean)
    scale = gamma / torch.sqrt(var + float(cast(float, bn.eps)))  # (C_out,)
    fused = copy.deepcopy(layer)
    shape = (-1, *([1] * (weight.dim() - 1)))  # (C_out, 1, ...) scales each output row/channel
    fused.weight = nn.Parameter(weight * scale.view(shape).to(weight.dtype))
    fused.bias = nn.Parameter(((bias - mean) * scale + beta).to(weight.dtype))
    return fused

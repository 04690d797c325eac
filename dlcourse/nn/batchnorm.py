r"""Batch normalization from scratch: :class:`BatchNorm1d` and :class:`BatchNorm2d`.

In training a batch-norm layer normalizes each feature (each channel of an image) with the mean and
the biased variance of the current batch, then scales and shifts it with learnable ``weight``
(gamma) and ``bias`` (beta) {Ioffe and Szegedy, 2015}:

.. math::

    \mu_j = \frac{1}{m}\sum_i x_{ij}, \quad
    \sigma_j^2 = \frac{1}{m}\sum_i (x_{ij}-\mu_j)^2, \quad
    y_{ij} = \gamma_j \frac{x_{ij}-\mu_j}{\sqrt{\sigma_j^2+\epsilon}} + \beta_j .

It also keeps running averages for test time, ``r <- (1 - momentum) r + momentum * batch``
with the *unbiased* batch variance (``m / (m - 1)`` times the biased one), as PyTorch does.
Arguments, buffers and ``state_dict`` keys are those of :class:`torch.nn.BatchNorm1d`, so each
loads the other's weights.

The backward pass is either autograd's or the compact hand-written formula of
:class:`BatchNormFunction` (``backward="manual"``).

See the book: Batch normalization.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from dlcourse._validate import check_choice, check_int, check_real

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNormFunction", "batch_norm"]

Backward = Literal["autograd", "manual"]


def _reduce_dims(x: Tensor) -> list[int]:
    """Every dimension but the channel one (1): the statistics are per feature or per channel."""
    return [0, *range(2, x.dim())]


def _per_channel(v: Tensor, x: Tensor) -> Tensor:
    """``v`` of shape (C,) viewed as (1, C, 1, ...) so that it broadcasts against ``x``."""
    return v.view(1, -1, *([1] * (x.dim() - 2)))


class BatchNormFunction(torch.autograd.Function):
    r"""Training-mode batch normalization with the compact hand-written backward pass.

    With :math:`\hat x = (x-\mu)/\sqrt{\sigma^2+\epsilon}` and :math:`m` values per channel,
    the gradients of :math:`y = \gamma \hat x + \beta` are

    .. math::

        \frac{\partial L}{\partial x} = \frac{\gamma}{m\sqrt{\sigma^2+\epsilon}}
        \Big(m\,g - \sum g - \hat x \sum g\,\hat x\Big), \quad
        \frac{\partial L}{\partial \gamma} = \sum g\,\hat x, \quad
        \frac{\partial L}{\partial \beta} = \sum g,

    where :math:`g = \partial L/\partial y` and the sums run over the batch (and space). Call it
    as ``BatchNormFunction.apply(x, weight, bias, eps)``; it returns the output, the batch mean
    and the biased batch variance (the last two without gradient).

    See the book: Batch normalization.
    """

    @staticmethod
    def forward(
        ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, eps: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Normalize with the batch statistics; save x_hat, gamma and 1/std for backward."""
        dims = _reduce_dims(x)
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        inv_std = torch.rsqrt(var + eps)
        x_hat = (x - _per_channel(mean, x)) * _per_channel(inv_std, x)
        ctx.save_for_backward(x_hat, weight, inv_std)
        ctx.mark_non_differentiable(mean, var)
        return x_hat * _per_channel(weight, x) + _per_channel(bias, x), mean, var

    @staticmethod
    def backward(ctx: Any, grad: Tensor, *_: Any) -> tuple[Tensor, Tensor, Tensor, None]:
        """The compact formula: gradients of x, gamma and beta (none for eps)."""
        x_hat, weight, inv_std = ctx.saved_tensors
        dims = _reduce_dims(grad)
        m = grad.numel() // grad.shape[1]
        sum_g = grad.sum(dim=dims)
        sum_gx = (grad * x_hat).sum(dim=dims)
        scale = _per_channel(weight * inv_std / m, grad)
        grad_x = scale * (m * grad - _per_channel(sum_g, grad) - x_hat * _per_channel(sum_gx, grad))
        return grad_x, sum_gx, sum_g, None


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    backward: Backward = "autograd",
) -> Tensor:
    """Normalize ``x`` (N, C, ...) per channel, like :func:`torch.nn.functional.batch_norm`.

    In training the batch statistics normalize ``x`` and, when given, the running buffers are
    updated in place: ``r <- (1 - momentum) r + momentum * s``, where ``s`` is the batch mean, or
    the *unbiased* batch variance ``m / (m - 1) * var``. Otherwise the running statistics normalize.

    Args:
        x: input of shape (N, C) or (N, C, ...).
        running_mean: (C,) buffer, or ``None``.
        running_var: (C,) buffer, or ``None``.
        weight: gamma (C,), or ``None`` for 1.
        bias: beta (C,), or ``None`` for 0.
        training: use the batch statistics (and update the running ones).
        momentum: the weight of the new batch in the running averages.
        eps: added to the variance before the square root.
        backward: ``"autograd"`` or ``"manual"`` (:class:`BatchNormFunction`).

    Returns:
        The normalized, scaled and shifted tensor, of the shape of ``x``.

    See the book: Batch normalization.
    """
    channels = x.shape[1]
    gamma = weight if weight is not None else x.new_ones(channels)
    beta = bias if bias is not None else x.new_zeros(channels)
    if not training:
        assert running_mean is not None and running_var is not None
        inv_std = torch.rsqrt(running_var + eps)
        x_hat = (x - _per_channel(running_mean, x)) * _per_channel(inv_std, x)
        return x_hat * _per_channel(gamma, x) + _per_channel(beta, x)
    if backward == "manual":
        y, mean, var = BatchNormFunction.apply(x, gamma, beta, eps)
    else:
        dims = _reduce_dims(x)
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        x_hat = (x - _per_channel(mean, x)) * _per_channel(torch.rsqrt(var + eps), x)
        y = x_hat * _per_channel(gamma, x) + _per_channel(beta, x)
    if running_mean is not None and running_var is not None:
        m = x.numel() // channels
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
            running_var.mul_(1 - momentum).add_(var.detach() * (m / (m - 1)), alpha=momentum)
    return y


class _BatchNorm(nn.Module):
    """What :class:`BatchNorm1d` and :class:`BatchNorm2d` share; they differ in the input's rank."""

    _ranks: tuple[int, ...] = ()
    weight: nn.Parameter | None
    bias: nn.Parameter | None
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: torch.dtype | None = None,
        *,
        bias: bool = True,
        backward: Backward = "autograd",
    ) -> None:
        super().__init__()
        self.num_features = check_int("num_features", num_features, min=1)
        self.eps = check_real("eps", eps, min=0.0, min_open=True)
        self.momentum = (
            None if momentum is None else check_real("momentum", momentum, min=0.0, max=1.0)
        )
        self.affine = bool(check_choice("affine", affine, (True, False)))
        self.use_bias = bool(check_choice("bias", bias, (True, False)))
        self.track_running_stats = bool(
            check_choice("track_running_stats", track_running_stats, (True, False))
        )
        self.backward_mode: Backward = check_choice("backward", backward, ("autograd", "manual"))
        kw = {"device": device, "dtype": dtype}
        if self.affine:
            self.weight = nn.Parameter(torch.ones(num_features, **kw))  # gamma
        else:
            self.register_parameter("weight", None)
        if self.affine and self.use_bias:
            self.bias = nn.Parameter(torch.zeros(num_features, **kw))  # beta
        else:
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **kw))
            self.register_buffer("running_var", torch.ones(num_features, **kw))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Set the running mean to 0, the running variance to 1 and the batch count to 0."""
        if self.running_mean is not None and self.running_var is not None:
            self.running_mean.zero_()
            self.running_var.fill_(1)
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.zero_()

    def _check_input(self, x: object) -> Tensor:
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(
                f"{type(self).__name__} expects a floating-point tensor, got {type(x).__name__}"
            )
        if x.dim() not in self._ranks:
            raise ValueError(
                f"{type(self).__name__} expects a {' or '.join(map(str, self._ranks))}"
                f"-D input, got shape {tuple(x.shape)}"
            )
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) got {x.shape[1]} "
                f"features/channels in dim 1 (shape {tuple(x.shape)}); "
                "num_features must equal the input's dim 1"
            )
        if self.training and x.numel() // x.shape[1] < 2:
            raise ValueError(
                f"batch normalization needs more than 1 value per channel when "
                f"training, got shape {tuple(x.shape)}: use a batch of 2 or more, "
                "or call eval()"
            )
        return x

    def forward(self, x: Tensor) -> Tensor:
        """Normalize ``x``: batch statistics in training (or without running ones), else running."""
        x = self._check_input(x)
        use_batch = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative (equal-weight) average of all batches
                momentum = 1.0 / float(self.num_batches_tracked)
        update = self.training and self.track_running_stats
        return batch_norm(
            x,
            self.running_mean if update or not use_batch else None,
            self.running_var if update or not use_batch else None,
            self.weight,
            self.bias,
            use_batch,
            momentum,
            self.eps,
            self.backward_mode,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.use_bias}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over a (N, C) or (N, C, L) input, one mean and variance per feature.

    The statistics of feature ``j`` are taken over the batch (and the length ``L``). Arguments,
    parameters (``weight`` = gamma, ``bias`` = beta), buffers (``running_mean``, ``running_var``,
    ``num_batches_tracked``) and their meaning are those of :class:`torch.nn.BatchNorm1d`
    {Ioffe and Szegedy, 2015}.

    Args:
        num_features: C, the number of features.
        eps: added to the variance before the square root.
        momentum: weight of the newest batch in the running averages; ``None`` for the cumulative
            average ``1 / num_batches_tracked``.
        affine: learn gamma and beta (else gamma = 1, beta = 0).
        track_running_stats: keep running averages for eval mode; without them eval mode uses
            the batch statistics too.
        device: where the parameters and buffers live.
        dtype: their floating-point dtype.
        bias: with ``affine``, learn beta too (``False``: gamma only, as PyTorch's ``bias=``).
        backward: ``"autograd"`` or ``"manual"`` (:class:`BatchNormFunction`'s compact formula).

    See the book: Batch normalization.
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over a (N, C, H, W) input, one mean and variance per channel.

    The statistics of channel ``j`` are taken over the batch and every position ``(h, w)``, so
    ``m = N * H * W`` values; otherwise as :class:`BatchNorm1d` and :class:`torch.nn.BatchNorm2d`.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance before the square root.
        momentum: weight of the newest batch in the running averages; ``None`` for the cumulative
            average.
        affine: learn gamma and beta.
        track_running_stats: keep running averages for eval mode.
        device: where the parameters and buffers live.
        dtype: their floating-point dtype.
        bias: with ``affine``, learn beta too.
        backward: ``"autograd"`` or ``"manual"``.

    See the book: Batch normalization.
    """

    _ranks = (4,)

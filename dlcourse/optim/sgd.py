r"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

See the book: Optimizers.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from dlcourse._validate import check_real
from dlcourse.optim._base import ParameterwiseOptimizer, Params, check_lr

__all__ = ["SGD", "sgd_update_"]


def sgd_update_(
    param: Tensor,
    grad: Tensor,
    buf: Tensor | None,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    nesterov: bool,
) -> Tensor | None:
    r"""One SGD step on ``param`` in place; returns the new momentum buffer (``None`` without).

    .. math::
        b_t = \mu b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1), \qquad
        \theta_t = \theta_{t-1} - \eta \,(g_t + \mu b_t \text{ if Nesterov, else } b_t).
    """
    if momentum != 0:
        if buf is None:
            buf = grad.detach().clone()  # the first step takes the gradient undamped, as PyTorch
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        grad = grad.add(buf, alpha=momentum) if nesterov else buf
    param.add_(grad, alpha=-lr)
    return buf


class SGD(ParameterwiseOptimizer):
    r"""Stochastic gradient descent, optionally with (Nesterov) momentum.

    .. math::
        g_t &= \nabla_\theta J(\theta_{t-1}) + \lambda \theta_{t-1} \\
        b_t &= \mu b_{t-1} + (1 - \tau) g_t \qquad (b_1 = g_1) \\
        \theta_t &= \theta_{t-1} - \eta\, b_t
        \quad\text{or, with Nesterov,}\quad \theta_t = \theta_{t-1} - \eta\,(g_t + \mu b_t)

    with learning rate :math:`\eta`, momentum :math:`\mu`, dampening :math:`\tau` and weight
    decay :math:`\lambda`. This is PyTorch's form of heavy-ball momentum
    :cite:`polyak1964some`; the form :math:`m \leftarrow \beta m - \eta g,\ \theta \leftarrow
    \theta + m` of many lecture notes gives the same trajectory while :math:`\eta` is constant
    (:math:`m = -\eta b`), but not when :math:`\eta` changes. Nesterov momentum follows
    :cite:`sutskever2013importance`'s reformulation of :cite:`nesterov1983method`.

    Args:
        params: the parameters, or a list of parameter-group dicts.
        lr: learning rate :math:`\eta \ge 0`.
        momentum: :math:`\mu \ge 0`; 0 is plain gradient descent.
        dampening: :math:`\tau \ge 0`.
        weight_decay: L2 penalty :math:`\lambda \ge 0`.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend instead of descend.

    State (per parameter): ``momentum_buffer`` (:math:`b_t`), as in :class:`torch.optim.SGD`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_real("momentum", momentum, min=0.0)
        check_real("dampening", dampening, min=0.0)
        check_real("weight_decay", weight_decay, min=0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening == 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        buf = sgd_update_(
            p,
            grad,
            state.get("momentum_buffer"),
            lr=group["lr"],
            momentum=group["momentum"],
            dampening=group["dampening"],
            nesterov=group["nesterov"],
        )
        if buf is not None:
            state["momentum_buffer"] = buf

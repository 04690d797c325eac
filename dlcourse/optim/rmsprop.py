r"""RMSProp: AdaGrad with a decaying average of squared gradients instead of their sum.

See the book: Optimizers.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from dlcourse._validate import check_real
from dlcourse.optim._base import ParameterwiseOptimizer, Params, check_lr, zero_state

__all__ = ["RMSprop", "rmsprop_update_"]


def rmsprop_update_(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    *,
    lr: float,
    alpha: float,
    eps: float,
    momentum: float,
    centered: bool,
) -> None:
    r"""One RMSProp step, updating ``param`` and the tensors of ``state`` in place.

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha)\, g_t \odot g_t, \qquad
        \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}
    """
    square_avg = state["square_avg"]
    square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    if centered:
        grad_avg = state["grad_avg"]
        grad_avg.lerp_(grad, 1 - alpha)
        avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
    else:
        avg = square_avg.sqrt()
    avg = avg.add_(eps)
    if momentum > 0:
        buf = state["momentum_buffer"]
        buf.mul_(momentum).addcdiv_(grad, avg)
        param.add_(buf, alpha=-lr)
    else:
        param.addcdiv_(grad, avg, value=-lr)


class RMSprop(ParameterwiseOptimizer):
    r"""RMSProp :cite:`hinton2012rmsprop`: divide by a running root mean square of the gradients.

    .. math::
        g_t &= \nabla_\theta J(\theta_{t-1}) + \lambda \theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha)\, g_t \odot g_t \qquad (v_0 = 0) \\
        \theta_t &= \theta_{t-1} - \eta\,\frac{g_t}{\sqrt{v_t} + \epsilon}

    The average forgets old gradients (time constant :math:`1/(1-\alpha)` steps), so steps do not
    shrink forever as AdaGrad's do. ``centered`` divides by an estimate of the standard deviation,
    :math:`\sqrt{v_t - \bar g_t^2}`; ``momentum`` accumulates :math:`b_t = \mu b_{t-1} +
    g_t / (\sqrt{v_t} + \epsilon)` and steps by :math:`-\eta b_t`. PyTorch's default
    :math:`\alpha = 0.99` differs from the lecture's 0.9 (Keras's ``rho``).

    Args:
        params: the parameters, or a list of parameter-group dicts.
        lr: learning rate :math:`\eta \ge 0`.
        alpha: smoothing constant :math:`\alpha \in [0, 1)`.
        eps: :math:`\epsilon \ge 0`, added outside the square root.
        weight_decay: L2 penalty :math:`\lambda \ge 0`.
        momentum: :math:`\mu \ge 0`.
        centered: normalize by the centered second moment.
        maximize: ascend instead of descend.

    State (per parameter): ``step``, ``square_avg``, and ``momentum_buffer`` / ``grad_avg`` when
    used, as in :class:`torch.optim.RMSprop`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_real("alpha", alpha, min=0.0, max=1.0, max_open=True)
        check_real("eps", eps, min=0.0)
        check_real("weight_decay", weight_decay, min=0.0)
        check_real("momentum", momentum, min=0.0)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        zero_state(state, p, *names)

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        rmsprop_update_(
            p,
            grad,
            state,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            momentum=group["momentum"],
            centered=group["centered"],
        )

r"""AdaMax: Adam with the infinity norm of past gradients in place of their root mean square.

See the book: Optimizers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from dlcourse.optim._base import (
    ParameterwiseOptimizer,
    Params,
    adam_defaults,
    zero_state,
)

__all__ = ["Adamax", "adamax_update_"]


def adamax_update_(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    step: float,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
) -> None:
    r"""One AdaMax step (``step`` counts from 1), updating ``param`` and ``state`` in place.

    .. math::
        u_t = \max(\beta_2 u_{t-1},\ |g_t| + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}
    """
    beta1, beta2 = betas
    exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
    exp_avg.lerp_(grad, 1 - beta1)
    torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
    param.addcdiv_(exp_avg, exp_inf, value=-lr / (1 - beta1**step))


class Adamax(ParameterwiseOptimizer):
    r"""AdaMax :cite:`kingma2015adam`: the :math:`L^\infty` variant of Adam.

    .. math::
        g_t &= \nabla_\theta J(\theta_{t-1}) + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        u_t = \max\big(\beta_2 u_{t-1},\ |g_t| + \epsilon\big) \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,\frac{m_t}{u_t}

    :math:`u_t` needs no bias correction: a maximum is not pulled toward its zero start.

    Args:
        params: the parameters, or a list of parameter-group dicts.
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon \ge 0`.
        weight_decay: L2 penalty :math:`\lambda \ge 0`.
        maximize: ascend instead of descend.

    State (per parameter): ``step``, ``exp_avg``, ``exp_inf``, as in :class:`torch.optim.Adamax`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, adam_defaults(lr, betas, eps, weight_decay, maximize))

    def _init_state(self, state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        zero_state(state, p, "exp_avg", "exp_inf")

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        adamax_update_(
            p,
            grad,
            state,
            state["step"].item(),
            lr=group["lr"],
            betas=group["betas"],
            eps=group["eps"],
        )

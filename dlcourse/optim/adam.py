r"""Adam: momentum on the gradient and RMSProp on its square, both bias-corrected; and AMSGrad.

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

__all__ = ["Adam", "adam_update_"]


def adam_update_(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    step: float,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    amsgrad: bool = False,
    bias_correction: bool = True,
) -> None:
    r"""One Adam step (``step`` counts from 1), updating ``param`` and ``state`` in place.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \quad
        \theta_t = \theta_{t-1} - \frac{\eta}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    ``bias_correction=False`` drops both :math:`1-\beta^t` factors (the lectures' form, for the
    book's demo of what the correction is for); PyTorch always corrects.
    """
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    beta1, beta2 = betas
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bc1 = 1 - beta1**step if bias_correction else 1.0
    bc2_sqrt = (1 - beta2**step) ** 0.5 if bias_correction else 1.0
    second = exp_avg_sq
    if amsgrad:
        torch.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
        second = state["max_exp_avg_sq"]
    denom = (second.sqrt() / bc2_sqrt).add_(eps)
    param.addcdiv_(exp_avg, denom, value=-lr / bc1)


class Adam(ParameterwiseOptimizer):
    r"""Adam :cite:`kingma2015adam`: momentum plus RMSProp, with bias correction.

    .. math::
        g_t &= \nabla_\theta J(\theta_{t-1}) + \lambda \theta_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t \odot g_t \qquad (m_0 = v_0 = 0) \\
        \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t}, \qquad
        \theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    Both averages start at zero, so without the division by :math:`1-\beta^t` they are far too
    small in the first steps (by a factor :math:`1-\beta^t`). With ``amsgrad`` the denominator uses
    the running maximum of :math:`v_t` (AMSGrad), which never lets a step grow back.

    Args:
        params: the parameters, or a list of parameter-group dicts.
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon \ge 0`, added outside the square root.
        weight_decay: L2 penalty :math:`\lambda \ge 0` (added to the gradient, not decoupled).
        amsgrad: use the AMSGrad variant.
        maximize: ascend instead of descend.

    State (per parameter): ``step``, ``exp_avg`` (:math:`m_t`), ``exp_avg_sq`` (:math:`v_t`) and
    ``max_exp_avg_sq`` with AMSGrad, as in :class:`torch.optim.Adam`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = adam_defaults(lr, betas, eps, weight_decay, maximize, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        extra = ("max_exp_avg_sq",) if group["amsgrad"] else ()
        zero_state(state, p, "exp_avg", "exp_avg_sq", *extra)

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        adam_update_(
            p,
            grad,
            state,
            state["step"].item(),
            lr=group["lr"],
            betas=group["betas"],
            eps=group["eps"],
            amsgrad=group["amsgrad"],
        )

r"""NAdam: Adam with Nesterov momentum and a momentum warm-up schedule.

See the book: Optimizers.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from dlcourse._validate import check_real
from dlcourse.optim._base import (
    ParameterwiseOptimizer,
    Params,
    adam_defaults,
    scalar_tensor,
    zero_state,
)

__all__ = ["NAdam", "nadam_update_"]


def _mu(beta1: float, step: float, momentum_decay: float) -> float:
    r""":math:`\mu_t = \beta_1 (1 - \tfrac12\, 0.96^{t\psi})`, the momentum of step ``t``."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


def nadam_update_(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Tensor],
    step: float,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    momentum_decay: float,
) -> None:
    r"""One NAdam step (``step`` counts from 1), updating ``param`` and ``state`` in place.

    .. math::
        \theta_t = \theta_{t-1}
            - \eta\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
            - \eta\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{\sqrt{\hat v_t}+\epsilon}
    """
    beta1, beta2 = betas
    mu = _mu(beta1, step, momentum_decay)
    mu_next = _mu(beta1, step + 1, momentum_decay)
    state["mu_product"] *= mu
    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = exp_avg_sq.div(1 - beta2**step).sqrt().add(eps)
    mu_product = state["mu_product"].item()  # PyTorch rounds it to the state's dtype, so do we
    param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - mu_product))
    param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1.0 - mu_product * mu_next))


class NAdam(ParameterwiseOptimizer):
    r"""NAdam :cite:`dozat2016incorporating`: Adam whose momentum step looks ahead as Nesterov's.

    .. math::
        \mu_t &= \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        \hat v_t = \frac{\beta_2 v_{t-1} + (1-\beta_2) g_t^2}{1-\beta_2^t} \\
        \theta_t &= \theta_{t-1}
            - \eta\,\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\,\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
            - \eta\,\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\,\frac{m_t}{\sqrt{\hat v_t}+\epsilon}

    The second term uses next step's momentum on today's average: the Nesterov look-ahead.
    :math:`\psi` (``momentum_decay``) warms the momentum up from :math:`\beta_1/2` to
    :math:`\beta_1`.

    Args:
        params: the parameters, or a list of parameter-group dicts.
        lr: learning rate :math:`\eta \ge 0`.
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`.
        eps: :math:`\epsilon \ge 0`.
        weight_decay: L2 penalty :math:`\lambda \ge 0` added to the gradient.
        momentum_decay: :math:`\psi \ge 0`.
        maximize: ascend instead of descend.

    State (per parameter): ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``, as in
    :class:`torch.optim.NAdam`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        *,
        maximize: bool = False,
    ) -> None:
        check_real("momentum_decay", momentum_decay, min=0.0)
        defaults = adam_defaults(
            lr, betas, eps, weight_decay, maximize, momentum_decay=momentum_decay
        )
        super().__init__(params, defaults)

    def _init_state(self, state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        zero_state(state, p, "exp_avg", "exp_avg_sq")
        state["mu_product"] = scalar_tensor(1.0)

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        nadam_update_(
            p,
            grad,
            state,
            state["step"].item(),
            lr=group["lr"],
            betas=group["betas"],
            eps=group["eps"],
            momentum_decay=group["momentum_decay"],
        )

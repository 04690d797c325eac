r"""AdaGrad: per-coordinate learning rates from the sum of squared gradients.

See the book: Optimizers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from dlcourse._validate import check_real
from dlcourse.optim._base import ParameterwiseOptimizer, Params, check_lr, scalar_tensor

__all__ = ["Adagrad", "adagrad_update_"]


def adagrad_update_(
    param: Tensor,
    grad: Tensor,
    state_sum: Tensor,
    step: float,
    *,
    lr: float,
    lr_decay: float,
    eps: float,
) -> None:
    r"""One AdaGrad step (``step`` counts from 1), updating ``state_sum`` and ``param`` in place.

    .. math::
        s_t = s_{t-1} + g_t \odot g_t, \qquad
        \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t-1)\,\delta}\; \frac{g_t}{\sqrt{s_t} + \epsilon}
    """
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum.addcmul_(grad, grad, value=1)
    param.addcdiv_(grad, state_sum.sqrt().add_(eps), value=-clr)


class Adagrad(ParameterwiseOptimizer):
    r"""AdaGrad :cite:`duchi2011adaptive`: each coordinate's step shrinks with its gradient history.

    .. math::
        g_t &= \nabla_\theta J(\theta_{t-1}) + \lambda \theta_{t-1} \\
        s_t &= s_{t-1} + g_t \odot g_t \qquad (s_0 = \text{initial\_accumulator\_value}) \\
        \theta_t &= \theta_{t-1} - \frac{\eta}{1 + (t-1)\,\delta}\;\frac{g_t}{\sqrt{s_t} + \epsilon}

    Steep coordinates (large past gradients) get small steps, flat ones large steps, which turns
    the path toward the optimum on an elongated bowl. Because :math:`s_t` only grows, every step
    shrinks like :math:`1/\sqrt{t}` and training may stop before the optimum.

    Args:
        params: the parameters, or a list of parameter-group dicts.
        lr: learning rate :math:`\eta \ge 0`.
        lr_decay: :math:`\delta \ge 0`.
        weight_decay: L2 penalty :math:`\lambda \ge 0`.
        initial_accumulator_value: :math:`s_0 \ge 0`.
        eps: :math:`\epsilon \ge 0`, added outside the square root.
        maximize: ascend instead of descend.

    State (per parameter): ``step`` and ``sum`` (:math:`s_t`), as in :class:`torch.optim.Adagrad`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_real("lr_decay", lr_decay, min=0.0)
        check_real("weight_decay", weight_decay, min=0.0)
        check_real("initial_accumulator_value", initial_accumulator_value, min=0.0)
        check_real("eps", eps, min=0.0)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            eps=eps,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates Adagrad's state at once
            for p in group["params"]:
                self.state[p]["step"] = scalar_tensor(0.0)
                self.state[p]["sum"] = torch.full_like(
                    p, group["initial_accumulator_value"], memory_format=torch.preserve_format
                )

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        adagrad_update_(
            p,
            grad,
            state["sum"],
            state["step"].item(),
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            eps=group["eps"],
        )

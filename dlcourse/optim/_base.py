"""What every optimizer of :mod:`dlcourse.optim` shares.

Argument checks, the dtype of scalar state such as ``step``, and the gradient with weight decay.

See the book: Optimizers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from dlcourse._validate import check_real

__all__ = [
    "ParameterwiseOptimizer",
    "adam_defaults",
    "check_betas",
    "check_lr",
    "closure_loss",
    "effective_grad",
    "scalar_tensor",
    "zero_state",
]

Params = Iterable[Tensor] | Iterable[dict[str, Any]]


def check_lr(lr: object) -> float:
    """``lr`` as a float; it must be a finite number ``>= 0`` (0 freezes the parameters)."""
    return check_real("lr", lr, min=0.0)


def check_betas(betas: object) -> tuple[float, float]:
    """``betas`` as a pair of floats, each in ``[0, 1)`` (1 would never forget a gradient)."""
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise TypeError(
            f"betas must be a pair (beta1, beta2), got {betas!r}: pass e.g. (0.9, 0.999)"
        )
    b1 = check_real("betas[0]", betas[0], min=0.0, max=1.0, max_open=True)
    b2 = check_real("betas[1]", betas[1], min=0.0, max=1.0, max_open=True)
    return b1, b2


def adam_defaults(
    lr: object, betas: object, eps: object, weight_decay: object, maximize: bool, **extra: Any
) -> dict[str, Any]:
    """The checked defaults the Adam family shares (``lr``, ``betas``, ``eps``, ``weight_decay``).

    ``extra`` holds each optimizer's own, already checked, hyperparameters.
    """
    check_lr(lr)
    check_real("eps", eps, min=0.0)
    check_real("weight_decay", weight_decay, min=0.0)
    return dict(
        lr=lr,
        betas=check_betas(betas),
        eps=eps,
        weight_decay=weight_decay,
        maximize=maximize,
        **extra,
    )


def scalar_tensor(value: float) -> Tensor:
    """A 0-d tensor for ``step`` and similar counters, in the dtype PyTorch uses for them.

    PyTorch keeps these in float64 when the default dtype is float64 and in float32 otherwise;
    we do the same so that a state dict moves between our optimizers and PyTorch's unchanged.
    """
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(value, dtype=dtype)


def zero_state(state: dict[str, Any], p: Tensor, *names: str) -> None:
    """A fresh step counter (``state["step"]``) and a zero buffer shaped like ``p`` per name.

    The buffers keep ``p``'s memory format, as PyTorch's optimizers do.
    """
    state["step"] = scalar_tensor(0.0)
    for name in names:
        state[name] = torch.zeros_like(p, memory_format=torch.preserve_format)


def effective_grad(p: Tensor, weight_decay: float, maximize: bool) -> Tensor:
    r"""The gradient the update uses: :math:`\pm\nabla_\theta J + \lambda\theta` (L2 weight decay).

    ``maximize`` flips the sign (gradient ascent). Returns a new tensor when it changes anything,
    never modifying ``p.grad``.
    """
    assert p.grad is not None
    grad = -p.grad if maximize else p.grad
    if weight_decay != 0:
        grad = grad.add(p, alpha=weight_decay)
    return grad


def closure_loss(closure: Callable[[], Any] | None) -> Any:
    """Evaluate ``closure`` with gradients enabled (as :meth:`torch.optim.Optimizer.step` does)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


class ParameterwiseOptimizer(torch.optim.Optimizer):
    """An optimizer whose step updates each parameter on its own, as every one here does.

    :meth:`step` visits every parameter that has a gradient: it creates the parameter's state on
    first use (:meth:`_init_state`), counts the step when the state has a ``step``, forms the
    gradient with weight decay and the sign of ``maximize`` (:func:`effective_grad`), and hands
    both to :meth:`_update`, where each optimizer's update rule lives.
    """

    def _init_state(self, state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        """Fill a parameter's empty ``state`` (no state by default)."""

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply the update rule to ``p`` in place."""
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one update of every parameter that has a gradient; returns the closure's loss."""
        loss = closure_loss(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    self._init_state(state, p, group)
                if "step" in state:
                    state["step"] += 1
                self._update(
                    p, effective_grad(p, group["weight_decay"], group["maximize"]), state, group
                )
        return loss

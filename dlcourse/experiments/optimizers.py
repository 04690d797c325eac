r"""The demos of the Optimizers chapter.

The lectures' update rules beside PyTorch's, races on the 2-D surfaces of
:mod:`dlcourse.optim.surfaces`, and the convergence table on the digits.

See the book: Optimizers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from dlcourse._validate import check_int, check_real
from dlcourse.optim._base import ParameterwiseOptimizer, check_lr, zero_state
from dlcourse.optim.adam import adam_update_
from dlcourse.optim.surfaces import Surface

__all__ = [
    "AdamNoBiasCorrection",
    "LectureMomentum",
    "RMSpropEpsInside",
    "RaceResult",
    "bias_correction_factor",
    "digits_race",
    "step_angles",
    "step_lengths",
    "steps_to_target",
]

MakeOptimizer = Callable[[Any], torch.optim.Optimizer]


# The lectures' variants have neither weight decay nor gradient ascent.
_PLAIN = dict(weight_decay=0.0, maximize=False)


class LectureMomentum(ParameterwiseOptimizer):
    r"""Momentum as the lectures write it.

    .. math:: m \leftarrow \beta m - \eta g, \qquad \theta \leftarrow \theta + m

    PyTorch's :class:`~dlcourse.optim.SGD` keeps :math:`b \leftarrow \beta b + g` and steps
    :math:`\theta \leftarrow \theta - \eta b`. With a constant :math:`\eta`, :math:`m = -\eta b`
    and the two trajectories are the same; when :math:`\eta` changes, PyTorch's form rescales the
    whole velocity at once, the lectures' form only the new gradients.

    See the book: Optimizers.
    """

    def __init__(self, params: Any, lr: float, momentum: float = 0.9) -> None:
        check_lr(lr)
        check_real("momentum", momentum, min=0.0, max=1.0, max_open=True)
        super().__init__(params, dict(lr=lr, momentum=momentum, **_PLAIN))

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        m = state.setdefault("velocity", torch.zeros_like(p))
        m.mul_(group["momentum"]).add_(grad, alpha=-group["lr"])
        p.add_(m)


class RMSpropEpsInside(ParameterwiseOptimizer):
    r"""RMSProp with :math:`\epsilon` inside the square root.

    It steps :math:`\theta \leftarrow \theta - \eta\, g / \sqrt{v + \epsilon}`; PyTorch's
    :class:`~dlcourse.optim.RMSprop` steps by :math:`g / (\sqrt{v} + \epsilon)`.

    See the book: Optimizers.
    """

    def __init__(self, params: Any, lr: float, alpha: float = 0.9, eps: float = 1e-8) -> None:
        check_lr(lr)
        check_real("alpha", alpha, min=0.0, max=1.0, max_open=True)
        check_real("eps", eps, min=0.0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, **_PLAIN))

    def _update(
        self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        v = state.setdefault("square_avg", torch.zeros_like(p))
        v.mul_(group["alpha"]).addcmul_(grad, grad, value=1 - group["alpha"])
        p.addcdiv_(grad, v.add(group["eps"]).sqrt(), value=-group["lr"])


class AdamNoBiasCorrection(ParameterwiseOptimizer):
    r"""Adam without the :math:`1-\beta^t` corrections, the form the lectures print.

    It steps :math:`\theta \leftarrow \theta - \eta\, m_t / (\sqrt{v_t} + \epsilon)`.

    See the book: Optimizers.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        check_lr(lr)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, **_PLAIN))

    def _init_state(self, state: dict[str, Any], p: Tensor, group: dict[str, Any]) -> None:
        zero_state(state, p, "exp_avg", "exp_avg_sq")

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
            bias_correction=False,
        )


def bias_correction_factor(t: int | Tensor, betas: tuple[float, float] = (0.9, 0.999)) -> Any:
    r"""How much larger Adam's step is *without* bias correction, for a constant gradient.

    With :math:`m_0 = v_0 = 0` and a constant :math:`g`, :math:`m_t = (1-\beta_1^t) g` and
    :math:`v_t = (1-\beta_2^t) g^2`, so the uncorrected step :math:`m_t/\sqrt{v_t}` is the
    corrected one times :math:`(1-\beta_1^t)/\sqrt{1-\beta_2^t}` (ignoring :math:`\epsilon`).
    """
    b1, b2 = betas
    if isinstance(t, Tensor):
        return (1 - b1**t) / torch.sqrt(1 - b2**t)
    return (1 - b1**t) / math.sqrt(1 - b2**t)


def steps_to_target(path: Tensor, surface: Surface, tol: float) -> int | None:
    """The first step at which ``surface(point) - min < tol``, or ``None`` if never."""
    check_real("tol", tol, min=0.0, min_open=True)
    gap = surface(path) - surface.min_value()
    hits = (gap < tol).nonzero()
    return int(hits[0]) if len(hits) else None


def step_lengths(path: Tensor) -> Tensor:
    """The length of every step of a ``(T + 1, 2)`` path: a ``(T,)`` tensor."""
    return (path[1:] - path[:-1]).norm(dim=1)


def step_angles(path: Tensor, target: Sequence[float]) -> Tensor:
    """The angle in degrees between each step and the straight line from its start to ``target``."""
    steps = path[1:] - path[:-1]
    to_target = torch.tensor(target, dtype=path.dtype) - path[:-1]
    cos = (steps * to_target).sum(1) / (steps.norm(dim=1) * to_target.norm(dim=1))
    return torch.rad2deg(torch.arccos(cos.clamp(-1.0, 1.0)))


@dataclass
class RaceResult:
    """One optimizer's training run on the digits: when it reached the target, where it ended.

    Attributes:
        steps_to_target: the first evaluation step with training loss below the target, or None.
        final_train_loss: the training loss after the last step.
        val_accuracy: the validation accuracy after the last step.
    """

    steps_to_target: int | None
    final_train_loss: float
    val_accuracy: float


def _race_one(
    model: nn.Module,
    make_optimizer: MakeOptimizer,
    data: Any,
    steps: int,
    batch_size: int,
    target: float,
    seed: int,
    every: int,
) -> RaceResult:
    opt = make_optimizer(model.parameters())
    g = torch.Generator().manual_seed(seed)
    X, y = data.X_train, data.y_train
    loss_fn = nn.CrossEntropyLoss()
    reached = None
    for t in range(1, steps + 1):
        idx = torch.randint(0, X.shape[0], (batch_size,), generator=g)
        opt.zero_grad()
        loss_fn(model(X[idx]), y[idx]).backward()
        opt.step()
        if reached is None and t % every == 0:
            with torch.no_grad():
                if loss_fn(model(X), y).item() < target:
                    reached = t
    with torch.no_grad():
        train_loss = loss_fn(model(X), y).item()
        acc = (model(data.X_test).argmax(1) == data.y_test).double().mean().item()
    return RaceResult(reached, train_loss, acc)


def digits_race(
    make_model: Callable[[int], nn.Module],
    optimizers: Mapping[str, MakeOptimizer],
    data: Any,
    seeds: Sequence[int],
    steps: int = 400,
    batch_size: int = 64,
    target: float = 0.1,
    every: int = 10,
) -> dict[str, list[RaceResult]]:
    """Train one fresh model per optimizer and seed on the digits; the chapter's table.

    Args:
        make_model: seed -> a new float64 model (the same seed gives the same weights).
        optimizers: name -> ``params -> optimizer``.
        data: a :class:`~dlcourse.data.digits.Split` in float64.
        seeds: one run per seed for each optimizer (the seed fixes weights and minibatches).
        steps: minibatch steps per run.
        batch_size: examples per minibatch, drawn with replacement.
        target: the training loss that counts as converged.
        every: evaluate the full training loss every this many steps.

    Returns:
        name -> one :class:`RaceResult` per seed.

    See the book: Optimizers.
    """
    check_int("steps", steps, min=1)
    check_int("batch_size", batch_size, min=1)
    check_int("every", every, min=1)
    return {
        name: [
            _race_one(make_model(s), make, data, steps, batch_size, target, s, every) for s in seeds
        ]
        for name, make in optimizers.items()
    }

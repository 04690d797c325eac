r"""Learning-rate schedules from scratch: piecewise constant, plateau, exponential, power, 1cycle.

Each schedule is a :class:`torch.optim.lr_scheduler.LRScheduler` (the plateau one mirrors
:class:`torch.optim.lr_scheduler.ReduceLROnPlateau`), so it plugs into any PyTorch loop:
``optimizer.step(); scheduler.step()``. Each also has a plain formula function
(:func:`exponential_lr`, ...), the one place its math lives.

**Per batch or per epoch.** ``t`` in a formula counts the calls of ``scheduler.step()``. A
schedule's ``interval`` says what one call should be: ``"batch"`` (exponential, power, 1cycle:
the lecture's "iteration number t") or ``"epoch"`` (piecewise constant, plateau). The scheduler
counts the ``optimizer.step()`` calls between two of its own steps (an optimizer step hook) and
warns once when that count says it is stepped the other way:

- a ``"batch"`` schedule warns when more than one optimizer step came between two of its steps;
- an ``"epoch"`` schedule that was told ``steps_per_epoch > 1`` warns when exactly one did.
  Without ``steps_per_epoch`` it cannot tell (full-batch training also makes one optimizer step
  per epoch), so it stays silent.

See the book: Learning-rate schedules.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from dlcourse._validate import check_choice, check_int, check_real

__all__ = [
    "ExponentialDecayLR",
    "OneCycleLR",
    "PiecewiseConstantLR",
    "PowerLR",
    "ReduceLROnPlateau",
    "exponential_lr",
    "one_cycle",
    "piecewise_constant_lr",
    "power_lr",
]

Interval = Literal["batch", "epoch"]


def piecewise_constant_lr(t: int, lr0: float, milestones: Sequence[int], gamma: float) -> float:
    r""":math:`\eta(t) = \eta_0\,\gamma^{k(t)}`, :math:`k(t)` = milestones :math:`\le t`."""
    return lr0 * gamma ** bisect.bisect_right(sorted(milestones), t)


def exponential_lr(t: int, lr0: float, r: float) -> float:
    r""":math:`\eta(t) = \eta_0\,10^{-t/r}`: the rate drops tenfold every ``r`` steps."""
    return lr0 * 10.0 ** (-t / r)


def power_lr(t: int, lr0: float, r: float, c: float = 1.0) -> float:
    r""":math:`\eta(t) = \eta_0\,(1 + t/r)^{-c}`: halved at ``t = r`` when ``c = 1``."""
    return lr0 * (1.0 + t / r) ** (-c)


def _anneal(start: float, end: float, pct: float, strategy: str) -> float:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1.0)
    return start + (end - start) * pct


def one_cycle(
    t: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
) -> tuple[float, float]:
    r"""The 1cycle learning rate and momentum at step ``t`` (0-based), as PyTorch's OneCycleLR.

    The rate climbs from :math:`\eta_\max/\text{div\_factor}` to :math:`\eta_\max` over the first
    ``pct_start`` of the steps while the momentum falls from ``max_momentum`` to
    ``base_momentum``; then the rate anneals to :math:`\eta_\max/(\text{div\_factor} \cdot
    \text{final\_div\_factor})` while the momentum climbs back. With ``three_phase`` (Smith's
    original shape) the rate first comes back down to the start over as many steps as it rose,
    and only the last phase anneals it to the floor, at the top momentum.

    Returns:
        ``(lr, momentum)``.
    """
    lo = max_lr / div_factor
    floor = lo / final_div_factor
    up = float(pct_start * total_steps) - 1
    if three_phase:
        phases = [
            (up, lo, max_lr, max_momentum, base_momentum),
            (float(2 * pct_start * total_steps) - 2, max_lr, lo, base_momentum, max_momentum),
            (total_steps - 1, lo, floor, max_momentum, max_momentum),
        ]
    else:
        phases = [
            (up, lo, max_lr, max_momentum, base_momentum),
            (total_steps - 1, max_lr, floor, base_momentum, max_momentum),
        ]
    start = 0.0
    for i, (end, lr_a, lr_b, m_a, m_b) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            pct = (t - start) / (end - start)
            return (
                _anneal(lr_a, lr_b, pct, anneal_strategy),
                _anneal(m_a, m_b, pct, anneal_strategy),
            )
        start = end
    raise AssertionError("unreachable")  # pragma: no cover


class _CountsSteps:
    """Counts optimizer steps between scheduler steps and warns when the interval is wrong."""

    interval: Interval
    optimizer: Optimizer

    def _watch(self, optimizer: Optimizer, steps_per_epoch: int | None) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"optimizer must be a torch.optim.Optimizer, got "
                f"{type(optimizer).__name__}: build one from model.parameters()"
            )
        self.steps_per_epoch = (
            None
            if steps_per_epoch is None
            else check_int("steps_per_epoch", steps_per_epoch, min=1)
        )
        self._between = 0
        self._warned = False
        self._handle = optimizer.register_step_post_hook(self._count)

    def _count(self, *_: Any) -> None:
        self._between += 1

    def _check_interval(self) -> None:
        n, self._between = self._between, 0
        if self._warned:
            return
        if self.interval == "batch" and n > 1:
            self._warn(
                f"{n} optimizer steps came between two scheduler.step() calls, but "
                f"{type(self).__name__} counts batches: call scheduler.step() after every "
                "optimizer.step(), not once per epoch"
            )
        elif self.interval == "epoch" and n == 1 and (self.steps_per_epoch or 1) > 1:
            self._warn(
                f"{type(self).__name__} counts epochs ({self.steps_per_epoch} batches "
                "each) but was stepped after a single optimizer step: call "
                "scheduler.step() once per epoch"
            )

    def _warn(self, message: str) -> None:
        self._warned = True
        warnings.warn(message, UserWarning, stacklevel=4)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state, as PyTorch's, without the optimizer and the step hook."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_handle")}


class _Scheduler(_CountsSteps, LRScheduler):
    """An LRScheduler whose rate is a closed-form function of ``last_epoch`` (``t``)."""

    def __init__(self, optimizer: Optimizer, steps_per_epoch: int | None) -> None:
        self._watch(optimizer, steps_per_epoch)
        LRScheduler.__init__(self, optimizer)

    def step(self, epoch: int | None = None) -> None:
        """Advance ``t`` by one and set each group's rate; call it after ``optimizer.step()``."""
        if self._step_count > 0:  # torch's own first step happens in __init__
            self._check_interval()
        super().step(epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The rates at the current ``t`` (``last_epoch``), one per parameter group."""
        return [self._rate(self.last_epoch, float(base)) for base in self.base_lrs]

    def _rate(self, t: int, base: float) -> float:
        raise NotImplementedError


class PiecewiseConstantLR(_Scheduler):
    r"""Piecewise constant: :math:`\eta(t) = \eta_0\,\gamma^{k}` after the :math:`k`-th milestone.

    The lecture's example, :math:`\eta_0 = 0.1` then :math:`0.001` after 50 epochs, is
    ``milestones=[50], gamma=0.01``. Equivalent to :class:`torch.optim.lr_scheduler.MultiStepLR`.
    Stepped once per epoch (``interval = "epoch"``).

    Args:
        optimizer: the wrapped optimizer; its ``lr`` is :math:`\eta_0`.
        milestones: the epochs at which the rate is multiplied by ``gamma``, increasing.
        gamma: the factor, in (0, 1].
        steps_per_epoch: batches per epoch, to warn when stepped per batch.

    See the book: Learning-rate schedules.
    """

    interval: Interval = "epoch"

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        steps_per_epoch: int | None = None,
    ) -> None:
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Sequence):
            raise TypeError(f"milestones must be a list of ints, got {type(milestones).__name__}")
        self.milestones = [check_int("milestones[i]", m, min=1) for m in milestones]
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:])):
            raise ValueError(f"milestones must increase, got {list(milestones)}: sort them")
        self.gamma = check_real("gamma", gamma, min=0, max=1, min_open=True)
        super().__init__(optimizer, steps_per_epoch)

    def _rate(self, t: int, base: float) -> float:
        return piecewise_constant_lr(t, base, self.milestones, self.gamma)


class ExponentialDecayLR(_Scheduler):
    r"""Exponential scheduling: :math:`\eta(t) = \eta_0\,10^{-t/r}`, tenfold smaller every ``r``.

    The same as :class:`torch.optim.lr_scheduler.ExponentialLR` with
    :math:`\gamma = 10^{-1/r}`. Stepped once per batch (``interval = "batch"``).

    Args:
        optimizer: the wrapped optimizer; its ``lr`` is :math:`\eta_0`.
        r: steps per tenfold drop, > 0.
        steps_per_epoch: batches per epoch (informative only for a per-batch schedule).

    See the book: Learning-rate schedules.
    """

    interval: Interval = "batch"

    def __init__(self, optimizer: Optimizer, r: float, steps_per_epoch: int | None = None) -> None:
        self.r = check_real("r", r, min=0, min_open=True)
        super().__init__(optimizer, steps_per_epoch)

    def _rate(self, t: int, base: float) -> float:
        return exponential_lr(t, base, self.r)


class PowerLR(_Scheduler):
    r"""Power scheduling: :math:`\eta(t) = \eta_0\,(1 + t/r)^{-c}`, usually with ``c = 1``.

    It falls like :math:`t^{-c}` for :math:`t \gg r`: much more slowly than exponential scheduling.
    Stepped once per batch (``interval = "batch"``).

    Args:
        optimizer: the wrapped optimizer; its ``lr`` is :math:`\eta_0`.
        r: the step at which the rate has fallen by :math:`2^{c}`, > 0.
        c: the power, > 0.
        steps_per_epoch: batches per epoch (informative only for a per-batch schedule).

    See the book: Learning-rate schedules.
    """

    interval: Interval = "batch"

    def __init__(
        self, optimizer: Optimizer, r: float, c: float = 1.0, steps_per_epoch: int | None = None
    ) -> None:
        self.r = check_real("r", r, min=0, min_open=True)
        self.c = check_real("c", c, min=0, min_open=True)
        super().__init__(optimizer, steps_per_epoch)

    def _rate(self, t: int, base: float) -> float:
        return power_lr(t, base, self.r, self.c)


class OneCycleLR(_Scheduler):
    r"""1cycle (Smith, 2018): one rise and one fall of the rate, the momentum cycling inversely.

    The rate at step ``t`` is :func:`one_cycle` (it follows
    :class:`torch.optim.lr_scheduler.OneCycleLR` exactly, with the same arguments and defaults):
    warm-up from ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of ``total_steps``, then
    annealing to ``max_lr / (div_factor * final_div_factor)``. With ``cycle_momentum`` the
    momentum (SGD's ``momentum``, Adam's :math:`\beta_1`) goes the other way, from
    ``max_momentum`` down to ``base_momentum`` and back: a large rate with a large momentum would
    overshoot. ``three_phase=True`` is the shape of Smith's paper: up, down to the start over as
    many steps, then a short final phase to the floor. Stepped once per batch; stepping more than
    ``total_steps`` times raises ``ValueError``.

    Args:
        optimizer: the wrapped optimizer (its ``lr`` is replaced).
        max_lr: the peak rate, > 0.
        total_steps: the number of batches of the whole run.
        pct_start: the fraction of steps spent rising, in (0, 1).
        anneal_strategy: ``"cos"`` or ``"linear"`` interpolation within a phase.
        cycle_momentum: cycle the momentum inversely to the rate.
        base_momentum: the momentum at the peak rate.
        max_momentum: the momentum at the low rates.
        div_factor: ``max_lr / div_factor`` is the starting rate.
        final_div_factor: the final rate is the starting rate divided by this.
        three_phase: use Smith's three phases instead of PyTorch's default two.
        steps_per_epoch: batches per epoch (informative only for a per-batch schedule).

    Paper: Smith, "A disciplined approach to neural network hyper-parameters" (2018).

    See the book: Learning-rate schedules.
    """

    interval: Interval = "batch"

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        steps_per_epoch: int | None = None,
    ) -> None:
        self.max_lr = check_real("max_lr", max_lr, min=0, min_open=True)
        self.total_steps = check_int("total_steps", total_steps, min=2)
        self.pct_start = check_real(
            "pct_start", pct_start, min=0, max=1, min_open=True, max_open=True
        )
        self.anneal_strategy = check_choice("anneal_strategy", anneal_strategy, ("cos", "linear"))
        self.div_factor = check_real("div_factor", div_factor, min=0, min_open=True)
        self.final_div_factor = check_real(
            "final_div_factor", final_div_factor, min=0, min_open=True
        )
        self.base_momentum = check_real("base_momentum", base_momentum, min=0, max=1)
        self.max_momentum = check_real("max_momentum", max_momentum, min=0, max=1)
        self.cycle_momentum, self.three_phase = bool(cycle_momentum), bool(three_phase)
        if self.cycle_momentum and not ({"momentum", "betas"} & set(optimizer.defaults)):
            raise ValueError(
                "cycle_momentum=True needs an optimizer with momentum or betas "
                f"({type(optimizer).__name__} has neither): pass "
                "cycle_momentum=False"
            )
        for group in optimizer.param_groups:
            group["initial_lr"] = self.max_lr / self.div_factor
        super().__init__(optimizer, steps_per_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The rate at ``t``; with ``cycle_momentum`` it also sets each group's momentum."""
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR was stepped {t} times but total_steps is "
                f"{self.total_steps}: pass the run's number of batches"
            )
        lr, momentum = one_cycle(
            t,
            self.total_steps,
            self.max_lr,
            self.pct_start,
            self.div_factor,
            self.final_div_factor,
            self.anneal_strategy,
            self.three_phase,
            self.base_momentum,
            self.max_momentum,
        )
        if self.cycle_momentum:
            for group in self.optimizer.param_groups:
                if "betas" in group:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return [lr for _ in self.optimizer.param_groups]


class ReduceLROnPlateau(_CountsSteps, LRScheduler):
    r"""Performance scheduling: multiply the rate by ``factor`` when a metric stops improving.

    Call ``scheduler.step(valid_loss)`` once per evaluation (per epoch, ``interval = "epoch"``).
    A value is an improvement when it beats the best so far by the threshold: in ``"min"`` mode
    :math:`v < b\,(1 - \text{threshold})` (``"rel"``) or :math:`v < b - \text{threshold}`
    (``"abs"``). After more than ``patience`` evaluations without improvement the rate becomes
    :math:`\max(\eta \cdot \text{factor}, \text{min\_lr})` (unchanged when that moves it by less
    than ``eps``), and the next ``cooldown`` evaluations do not count as bad. Mirrors
    :class:`torch.optim.lr_scheduler.ReduceLROnPlateau` (same arguments and results).

    Args:
        optimizer: the wrapped optimizer.
        mode: ``"min"`` (a loss) or ``"max"`` (an accuracy).
        factor: the multiplier, in (0, 1).
        patience: bad evaluations tolerated before a cut, >= 0.
        threshold: the margin an improvement needs, >= 0.
        threshold_mode: ``"rel"`` or ``"abs"``.
        cooldown: evaluations after a cut during which bad ones are not counted, >= 0.
        min_lr: the floor of the rate, >= 0.
        eps: the smallest change of rate that is applied.
        steps_per_epoch: batches per epoch, to warn when stepped per batch.

    See the book: Learning-rate schedules.
    """

    interval: Interval = "epoch"

    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
        steps_per_epoch: int | None = None,
    ) -> None:
        self._watch(optimizer, steps_per_epoch)
        self.optimizer = optimizer
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.factor = check_real("factor", factor, min=0, max=1, min_open=True, max_open=True)
        self.patience = check_int("patience", patience, min=0)
        self.threshold = check_real("threshold", threshold, min=0)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = check_int("cooldown", cooldown, min=0)
        self.min_lr = check_real("min_lr", min_lr, min=0)
        self.eps = check_real("eps", eps, min=0)
        self.last_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self._last_lr = [float(g["lr"]) for g in optimizer.param_groups]

    def is_better(self, value: float, best: float) -> bool:
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            return sign * value < sign * best * (1.0 - sign * self.threshold)
        return sign * value < sign * best - self.threshold

    def step(self, metrics: float, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one evaluation of the metric and cut the rate after a plateau."""
        self._check_interval()
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad evaluations during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group in self.optimizer.param_groups:
                new_lr = max(float(group["lr"]) * self.factor, self.min_lr)
                if float(group["lr"]) - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

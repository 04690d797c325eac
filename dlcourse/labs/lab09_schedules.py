r"""Lab 9 — Learning-rate schedules: public tests, and helpers its hidden tests import from here.

Questions (the signatures students implement; every one a pure function of plain numbers):

* q1 ``piecewise_constant(t, lr0, milestones, gamma)``: :math:`\eta_0 \gamma^{k}`, :math:`k` = the
  milestones reached (``t >= m``);
* q2 ``exponential_lr(t, lr0, r)`` (:math:`\eta_0 10^{-t/r}`) and ``power_lr(t, lr0, r, c=1.0)``
  (:math:`\eta_0 (1 + t/r)^{-c}`);
* q3 ``one_cycle(t, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
  base_momentum=0.85, max_momentum=0.95) -> (lr, momentum)``: Smith's three linear phases;
* q4 ``plateau_lrs(losses, lr0, factor=0.1, patience=2, threshold=0.0, cooldown=0, min_lr=0.0)``:
  the rate after each validation loss, as ``ReduceLROnPlateau`` (mode ``"min"``, relative
  threshold).

The references are :func:`one_cycle_reference` and :func:`plateau_reference` (the latter runs
:class:`dlcourse.optim.lr_scheduler.ReduceLROnPlateau`); the messages name the mistake (a
milestone counted one step late, a missing final phase, ...) without giving the code.
See the book: Learning-rate schedules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from dlcourse.grading import Lab, expect
from dlcourse.grading.expect import fmt
from dlcourse.optim.lr_scheduler import ReduceLROnPlateau

__all__ = [
    "LAB",
    "expect_one_cycle",
    "expect_plateau",
    "expect_rate",
    "one_cycle_reference",
    "plateau_reference",
]

LAB = Lab("lab09_schedules", title="Learning-rate schedules")


def expect_rate(got: Any, want: float, call: str, hint: str = "") -> None:
    """Fail unless ``got`` is a number within 1e-9 (relative) of ``want``."""
    expect(
        isinstance(got, (int, float)) and not isinstance(got, bool),
        f"{call} should return a number; it returned {got!r}",
    )
    tail = f": {hint}" if hint else ""
    expect(
        math.isclose(float(got), want, rel_tol=1e-9, abs_tol=1e-15),
        f"{call} returned {fmt(float(got))}, expected {fmt(want)}{tail}",
    )


def one_cycle_reference(
    t: int,
    total_steps: int,
    max_lr: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
) -> tuple[float, float]:
    """q3's 1cycle at step ``t``: ``(lr, momentum)``.

    Up over ``n = round(pct_start * total_steps)`` steps, down over ``n``, then the final phase to
    ``total_steps``, all linear; the momentum moves the other way.
    """
    n = round(pct_start * total_steps)
    low, floor = max_lr / div_factor, max_lr / div_factor / final_div_factor
    if t <= n:
        f = t / n
        return low + (max_lr - low) * f, max_momentum + (base_momentum - max_momentum) * f
    if t <= 2 * n:
        f = (t - n) / n
        return max_lr + (low - max_lr) * f, base_momentum + (max_momentum - base_momentum) * f
    f = (t - 2 * n) / (total_steps - 2 * n)
    return low + (floor - low) * f, max_momentum


def _one_cycle_hint(got: Sequence[float], t: int, args: tuple) -> str:
    total, max_lr = args[0], args[1]
    n = round(0.3 * total)
    if t > 0 and math.isclose(got[0], one_cycle_reference(t - 1, *args)[0], rel_tol=1e-9):
        return (
            "that is the rate of step t - 1: the warm-up starts at t = 0 with max_lr / div_factor"
        )
    if t < total and math.isclose(got[0], one_cycle_reference(t + 1, *args)[0], rel_tol=1e-9):
        return "that is the rate of step t + 1: at t = 0 the rate is max_lr / div_factor"
    if t > 2 * n and math.isclose(got[0], max_lr / 25, rel_tol=1e-9):
        return (
            "after 2n steps comes the final phase, which takes the rate from "
            "max_lr / div_factor down to max_lr / (div_factor * final_div_factor)"
        )
    return f"phase boundaries at n = round(pct_start * total_steps) = {n}, 2n and total_steps"


def expect_one_cycle(student: Any, t: int, total_steps: int = 100, max_lr: float = 1.0) -> None:
    """Compare the student's ``one_cycle`` at step ``t`` with :func:`one_cycle_reference`."""
    args = (total_steps, max_lr)
    call = f"one_cycle({t}, {total_steps}, {max_lr})"
    got = student.one_cycle(t, total_steps, max_lr)
    expect(
        isinstance(got, list) and len(got) == 2,
        f"{call} should return the pair (lr, momentum); it returned {got!r}",
    )
    lr, momentum = one_cycle_reference(t, *args)
    expect(
        math.isclose(got[0], lr, rel_tol=1e-9, abs_tol=1e-15),
        f"{call} gave lr {fmt(got[0])}, expected {fmt(lr)}: {_one_cycle_hint(got, t, args)}",
    )
    rising = t <= round(0.3 * total_steps)
    hint = (
        "the momentum moves against the rate: from max_momentum down to base_momentum while "
        "the rate rises, back up while it falls, then stays at max_momentum"
    )
    expect(
        math.isclose(got[1], momentum, rel_tol=1e-9),
        f"{call} gave momentum {fmt(got[1])}, expected {fmt(momentum)} "
        f"({'warm-up' if rising else 'after the peak'}): {hint}",
    )


def plateau_reference(losses: Sequence[float], lr0: float, **kwargs: Any) -> list[float]:
    """The rate after each loss, from :class:`~dlcourse.optim.lr_scheduler.ReduceLROnPlateau`."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr0)
    scheduler = ReduceLROnPlateau(opt, eps=0.0, threshold=kwargs.pop("threshold", 0.0), **kwargs)
    lrs = []
    for loss in losses:
        scheduler.step(loss)
        lrs.append(float(opt.param_groups[0]["lr"]))
    return lrs


def expect_plateau(student: Any, losses: list[float], lr0: float, rule: str, **kwargs: Any) -> None:
    """Compare ``plateau_lrs(losses, lr0, **kwargs)`` with :func:`plateau_reference`."""
    got = student.plateau_lrs(losses, lr0, **kwargs)
    want = plateau_reference(losses, lr0, **dict(kwargs))
    shown = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    expect(
        isinstance(got, list) and len(got) == len(losses),
        f"plateau_lrs should return one rate per loss ({len(losses)}); it returned {got!r}",
    )
    wrong = [i for i, (a, b) in enumerate(zip(got, want)) if not math.isclose(a, b, rel_tol=1e-9)]
    first = wrong[0] + 1 if wrong else 0
    expect(
        not wrong,
        (
            f"plateau_lrs(losses={losses}, lr0={lr0}, {shown}) gave {[fmt(x) for x in got]}, "
            f"expected {[fmt(x) for x in want]} (first difference after loss {first}): {rule}"
        ),
    )


# ---------------------------------------------------------------- q1: piecewise constant


@LAB.test("q1")
def lecture_example(student):
    """The lecture's example: 0.1, then 0.001 from epoch 50 on."""
    for t, want in [(0, 0.1), (49, 0.1), (50, 0.001), (80, 0.001)]:
        expect_rate(
            student.piecewise_constant(t, 0.1, [50], 0.01),
            want,
            f"piecewise_constant({t}, 0.1, [50], 0.01)",
            "the rate is multiplied by gamma at t = 50 (a milestone) and stays there",
        )


@LAB.test("q1")
def two_milestones(student):
    """Each milestone reached multiplies the rate by gamma once more."""
    for t, want in [(9, 1.0), (10, 0.5), (19, 0.5), (20, 0.25), (100, 0.25)]:
        expect_rate(
            student.piecewise_constant(t, 1.0, [10, 20], 0.5),
            want,
            f"piecewise_constant({t}, 1.0, [10, 20], 0.5)",
            "with two milestones reached the factor is gamma ** 2",
        )


# ---------------------------------------------------------------- q2: exponential and power


@LAB.test("q2")
def exponential_tenfold_every_r(student):
    """Exponential scheduling divides the rate by 10 every r steps."""
    for t, want in [(0, 0.01), (20, 0.001), (40, 0.0001), (10, 0.01 / math.sqrt(10))]:
        expect_rate(
            student.exponential_lr(t, 0.01, 20),
            want,
            f"exponential_lr({t}, 0.01, 20)",
            "η(t) = η0 · 10^(-t/r): a factor 10 every r steps, base 10, not e",
        )


@LAB.test("q2")
def power_halves_at_r(student):
    """Power scheduling with c = 1 halves the rate after r steps; c is a power."""
    for t, c, want in [(0, 1.0, 0.01), (20, 1.0, 0.005), (60, 1.0, 0.0025), (20, 2.0, 0.0025)]:
        expect_rate(
            student.power_lr(t, 0.01, 20, c),
            want,
            f"power_lr({t}, 0.01, 20, c={c})",
            "η(t) = η0 · (1 + t/r)^(-c)",
        )


# ---------------------------------------------------------------- q3: 1cycle


@LAB.test("q3")
def one_cycle_start_peak_and_end(student):
    """1cycle starts at max_lr / 25, peaks at max_lr after 30 % of the steps, ends near 0."""
    for t in (0, 30, 60, 100):
        expect_one_cycle(student, t)


@LAB.test("q3")
def one_cycle_in_between(student):
    """The three phases are linear, and the momentum moves against the rate."""
    for t in (15, 45, 80):
        expect_one_cycle(student, t)


# ---------------------------------------------------------------- q4: plateau


@LAB.test("q4")
def plateau_patience(student):
    """The rate is cut after more than `patience` evaluations without improvement."""
    expect_plateau(
        student,
        [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94],
        0.1,
        "count the evaluations since the best loss; cut when the count exceeds "
        "patience, then start counting again",
        patience=2,
    )


@LAB.test("q4")
def plateau_min_lr(student):
    """The rate never goes below min_lr."""
    expect_plateau(
        student,
        [1.0] * 8,
        0.1,
        "the new rate is max(lr · factor, min_lr)",
        patience=1,
        min_lr=0.005,
    )

"""Lab 8 — Optimizers: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement; every function returns new tensors):

* q1 ``sgd_momentum_step(param, grad, buf, lr, momentum=0.9, nesterov=False) -> (param, buf)``,
  PyTorch's momentum (``buf`` is ``None`` before the first step);
* q2 ``rmsprop_step(param, grad, square_avg, lr, alpha=0.99, eps=1e-8) -> (param, square_avg)``;
* q3 ``adam_step(param, grad, exp_avg, exp_avg_sq, step, lr, betas=(0.9, 0.999), eps=1e-8)
  -> (param, exp_avg, exp_avg_sq)`` with ``step`` counting from 1.

Each test runs the student's function for several steps on a quadratic bowl, computing the
gradients here, and compares the path with :mod:`torch.optim`'s. When the path matches a known
mistake (the lecture's velocity form of momentum, an EMA instead of a sum, ``eps`` inside the
square root, a missing bias correction, ...) the message names it. See the book: Optimizers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dlcourse.grading import Lab, expect_array, tensor
from dlcourse.grading.expect import Failure
from dlcourse.labs._lab08_rules import MISTAKES, Rule, run_rule, torch_path

__all__ = ["LAB", "MISTAKES", "expect_path", "student_path", "torch_path"]

LAB = Lab("lab08_optimizers", title="Optimizers")

_NAMES = {"q1": "sgd_momentum_step", "q2": "rmsprop_step", "q3": "adam_step"}


def _student_rule(student: Any, question: str, **hyper: Any) -> Rule:
    """The student's step function as a rule ``(p, g, state, t, lr) -> (p, state)`` on arrays."""
    name = _NAMES[question]

    def rule(p: np.ndarray, g: np.ndarray, state: list, t: int, lr: float):
        args: list[Any] = [tensor(p, "float64"), tensor(g, "float64")]
        if question == "q1":
            args.append(None if state[0] is None else tensor(state[0], "float64"))
        else:
            args += [tensor(s, "float64") for s in state]
        if question == "q3":
            args.append(t + 1)
        out = student.call_info(name, *args, lr=lr, **hyper).value
        if not isinstance(out, list) or len(out) != 1 + len(state):
            raise Failure(
                f"{name} should return a tuple of {1 + len(state)} tensors "
                f"(the new param and state); it returned {type(out).__name__}"
            )
        arrays = [expect_array(x, f"what {name} returned", np.shape(p)) for x in out]
        return arrays[0], arrays[1:]

    return rule


def student_path(
    student: Any, question: str, steps: int, lr_at: Callable[[int], float], **hyper: Any
) -> np.ndarray:
    """The points the student's optimizer visits on the lab's bowl: ``(steps + 1, 3)``."""
    return run_rule(_student_rule(student, question, **hyper), question, steps, lr_at)


def expect_path(
    student: Any, question: str, steps: int, lr_at: Callable[[int], float], what: str, **hyper: Any
) -> None:
    """Fail unless the student's path equals torch.optim's; name the mistake when one matches."""
    ours = student_path(student, question, steps, lr_at, **hyper)
    ref = torch_path(question, steps, lr_at, **hyper)
    if np.allclose(ours, ref, rtol=1e-7, atol=1e-10):
        return
    bad = int(np.argmax(~np.isclose(ours, ref, rtol=1e-7, atol=1e-10).all(axis=1)))
    msg = (
        f"{what}: after step {bad} the parameter is {np.round(ours[bad], 6).tolist()}, "
        f"torch.optim gives {np.round(ref[bad], 6).tolist()}"
    )
    for hint, mistake in MISTAKES[question].items():
        alt = run_rule(mistake(**hyper), question, steps, lr_at)
        if np.allclose(ours, alt, rtol=1e-7, atol=1e-10):
            raise Failure(f"{msg} — {hint}")
    raise Failure(msg)


def _constant(lr: float) -> Callable[[int], float]:
    return lambda t: lr


# ---------------------------------------------------------------- q1: SGD with momentum


@LAB.test("q1")
def sgd_momentum_first_steps(student):
    expect_path(
        student, "q1", 3, _constant(0.1), "sgd_momentum_step (lr 0.1, momentum 0.9)", momentum=0.9
    )


@LAB.test("q1")
def sgd_nesterov_first_steps(student):
    expect_path(
        student,
        "q1",
        3,
        _constant(0.1),
        "sgd_momentum_step with nesterov=True",
        momentum=0.9,
        nesterov=True,
    )


# ---------------------------------------------------------------- q2: RMSProp


@LAB.test("q2")
def rmsprop_first_steps(student):
    expect_path(student, "q2", 3, _constant(0.01), "rmsprop_step (lr 0.01, alpha 0.9)", alpha=0.9)


# ---------------------------------------------------------------- q3: Adam


@LAB.test("q3")
def adam_first_steps(student):
    expect_path(student, "q3", 3, _constant(0.01), "adam_step (lr 0.01)")

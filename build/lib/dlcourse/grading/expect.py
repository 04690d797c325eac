"""Assertions for lab tests that explain a failure in teaching terms.

A test raises :class:`Failure` with a message a student can act on: what was measured, what the
formula expects, and the likely mistake. Messages never show solution code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["Failure", "diagnose", "expect", "expect_array", "expect_close", "expect_raises", "fmt"]


class Failure(AssertionError):
    """A test's verdict that the answer is wrong, with the explanation as its message."""


def fmt(x: float, digits: int = 4) -> str:
    """Format a number compactly for messages (4 significant digits)."""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Failure(message)


def expect_array(value: Any, what: str, shape: tuple | None = None) -> np.ndarray:
    """Check that ``value`` is an array (optionally of ``shape``) and return it as float64."""
    if not isinstance(value, np.ndarray):
        raise Failure(f"{what} should be a tensor, but it is a {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise Failure(
            f"{what} should have shape {tuple(shape)}, but has shape {tuple(value.shape)}"
        )
    return value.astype(np.float64)


def expect_close(observed: float, expected: float, what: str, rtol: float, hint: str = "") -> None:
    """Fail unless ``observed`` is within relative tolerance ``rtol`` of ``expected``."""
    ok = math.isfinite(observed) and abs(observed - expected) <= rtol * abs(expected)
    if not ok:
        msg = f"{what} is {fmt(observed)}; expected {fmt(expected)} (within {rtol:.0%})"
        raise Failure(msg + (f" — {hint}" if hint else ""))


def diagnose(observed: float, mistakes: dict[str, float], rtol: float = 0.03) -> str:
    """The hint for the first known mistake whose value ``observed`` matches within ``rtol``.

    ``mistakes`` maps a hint ("did you use fan_out?") to the value that mistake produces.
    """
    for hint, value in mistakes.items():
        if math.isfinite(observed) and abs(observed - value) <= rtol * abs(value):
            return hint
    return ""


def expect_raises(
    student: Any, error: str, name: str, *args: Any, why: str = "", **kwargs: Any
) -> None:
    """Fail unless the student's ``name(*args, **kwargs)`` raises ``error`` (a class name)."""
    from dlcourse.grading.student import StudentRaised

    try:
        student.call(name, *args, **kwargs)
    except StudentRaised as exc:
        if f"raised {error}" not in exc.message:
            raise Failure(f"{name} should raise {error}{why}; instead {exc.message}") from None
        return
    raise Failure(f"{name} should raise {error}{why}, but it returned normally")

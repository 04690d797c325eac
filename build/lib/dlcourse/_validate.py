"""Argument checks shared by the whole library, with one rule for what they raise.

A value of the wrong type raises :class:`TypeError`; a value of the right type that is out of range
or not among the allowed choices raises :class:`ValueError`. Every message names the argument,
shows what came and says what to pass instead, e.g. ``depth must be a positive int, got 0``.

Each check returns the value (converted to the plain Python type where that is safe), so a caller
can write ``depth = check_int("depth", depth, min=1)``. Nothing here imports torch at import time:
:mod:`dlcourse.runtime` uses these checks and must stay light.

See the book: Weight initialization (every helper of the chapter checks its arguments this way).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "check_callable",
    "check_choice",
    "check_generator",
    "check_int",
    "check_interval",
    "check_module",
    "check_positive_float",
    "check_real",
    "check_tensor",
]

T = TypeVar("T")


def _got(value: object) -> str:
    """``"str 'a'"``: the type and the value that came, for a TypeError message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def check_int(name: str, value: object, *, min: int | None = None) -> int:
    """Return ``value`` as an int; it must be an integer (not a bool) and at least ``min``.

    Args:
        name: the argument's name, for the message.
        value: what the caller passed; NumPy integers are accepted.
        min: the smallest allowed value, or ``None`` for no bound.

    Returns:
        ``int(value)``.

    Raises:
        TypeError: ``value`` is not an integer (a float, a str, a bool, ...).
        ValueError: ``value < min``.
    """
    wanted = {None: "an int", 0: "a non-negative int", 1: "a positive int"}.get(
        min, f"an int >= {min}")
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be {wanted}, got {_got(value)}: pass a whole number")
    if min is not None and int(value) < min:
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """``"in [0, 1)"``, ``">= 0.0"`` or ``"> 0"``: the allowed range in words."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    return f"{'<' if high_open else '<='} {high}"


def check_real(name: str, value: object, *, min: float | None = None, max: float | None = None,
               min_open: bool = False, max_open: bool = False, finite: bool = True) -> float:
    """Return ``value`` as a float; it must be a real number (not a bool) in the given range.

    Args:
        name: the argument's name, for the message.
        value: what the caller passed (int, float or a NumPy scalar).
        min: the lower bound, or ``None`` for none.
        max: the upper bound, or ``None`` for none.
        min_open: exclude ``min`` itself (``value > min``).
        max_open: exclude ``max`` itself (``value < max``).
        finite: refuse ``inf`` and ``nan``.

    Returns:
        ``float(value)``.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: it is not finite (with ``finite``) or lies outside the range.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a real number, got {_got(value)}: pass an int or a float")
    number = float(value)
    if finite and not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = min is not None and (number <= min if min_open else number < min)
    too_high = max is not None and (number >= max if max_open else number > max)
    bounded = min is not None or max is not None
    if too_low or too_high or (bounded and math.isnan(number)):
        raise ValueError(f"{name} must be {_bounds(min, max, min_open, max_open)}, got {value!r}")
    return number


def check_positive_float(name: str, value: object) -> float:
    """Return ``value`` as a float; it must be a finite real number ``> 0`` (a learning rate).

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: it is ``<= 0``, ``inf`` or ``nan``.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a positive number, got {_got(value)}: pass a float")
    number = float(value)
    if not (number > 0 and math.isfinite(number)):
        raise ValueError(f"{name} must be positive, got {value!r}: pass a finite number > 0")
    return number


def check_choice(name: str, value: T, choices: Iterable[Any]) -> T:
    """Return ``value`` when it is one of ``choices``.

    Args:
        name: the argument's name, for the message.
        value: what the caller passed.
        choices: the allowed values, all of one type (names, usually).

    Returns:
        ``value``.

    Raises:
        TypeError: ``value`` is not of the choices' type (``3`` where a name is expected).
        ValueError: it is of the right type but not among the choices.
    """
    options = tuple(choices)
    allowed = ", ".join(repr(c) for c in options)
    if options and not isinstance(value, tuple({type(c) for c in options})):
        raise TypeError(f"{name} must be one of {allowed}, got {_got(value)}")
    if value not in options:
        raise ValueError(f"{name}={value!r}: use one of {allowed}")
    return value


def check_callable(name: str, value: T, expected: str) -> T:
    """Return ``value`` when it is callable, else a TypeError that says what was ``expected``.

    ``expected`` completes "must be ...", e.g. ``"None or a callable width -> nn.Module"``.
    """
    if not callable(value):
        raise TypeError(f"{name} must be {expected}, got {_got(value)}")
    return value


def check_interval(name: str, value: object) -> tuple[float, float]:
    """Return ``value`` as ``(lo, hi)`` floats: a pair of finite real numbers with ``lo < hi``.

    Raises:
        TypeError: ``value`` is not a tuple or list of two real numbers.
        ValueError: ``lo`` or ``hi`` is not finite, or ``lo >= hi``.
    """
    if not (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)):
        raise TypeError(f"{name} must be a pair (lo, hi) of numbers, got {_got(value)}")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{name} must be (lo, hi) with finite lo and hi, got {value!r}")
    if not lo < hi:
        raise ValueError(f"{name} must be (lo, hi) with lo < hi, got {value!r}")
    return lo, hi


def check_tensor(name: str, value: object, *, floating: bool = False) -> torch.Tensor:
    """Return ``value`` when it is a :class:`torch.Tensor` (of a floating-point dtype, if asked).

    Raises:
        TypeError: ``value`` is not a tensor (a NumPy array gets the ``torch.from_numpy`` hint),
            or ``floating`` is set and its dtype is an integer or bool one.
    """
    import torch

    if not isinstance(value, torch.Tensor):
        fix = (f"convert it with torch.from_numpy({name})" if type(value).__module__ == "numpy"
               else f"wrap it with torch.as_tensor({name})")
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__} — {fix}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {value.dtype} — create it "
                        f"with dtype=torch.float32 or convert it with {name}.float()")
    return value


def check_module(name: str, value: object) -> nn.Module:
    """Return ``value`` when it is a :class:`torch.nn.Module`, else a TypeError."""
    from torch import nn

    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be an nn.Module (a model or a layer), got {_got(value)}")
    return value


def check_generator(name: str, value: object) -> torch.Generator | None:
    """Return ``value`` when it is a :class:`torch.Generator` or ``None``, else a TypeError."""
    import torch

    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(value).__name__} — "
                        "use dlcourse.generator(seed)")
    return value

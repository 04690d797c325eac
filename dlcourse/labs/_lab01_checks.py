"""Lab 1's checks of initializers: samples, known mistakes and their hints, the student's own code.

Shared by the public tests (:mod:`dlcourse.labs.lab01_initialization`) and the hidden tests of
``solutions/lab01_initialization.ipynb``. A mistake's hint is tried before the generic range check,
so a student reads "the bound is off by exactly √3", not only "values only reach 0.06". See the
book: Weight initialization.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from dlcourse.grading import empty, expect, expect_array, expect_close, parameter, seeded
from dlcourse.grading.expect import Failure, diagnose, fmt
from dlcourse.grading.nograd import fills_outside_no_grad
from dlcourse.grading.owncode import find_library_use
from dlcourse.grading.status import StudentRaised

__all__ = [
    "expect_bound",
    "expect_no_grad",
    "expect_own_code",
    "expect_reproducible",
    "expect_std",
    "fans_hint",
    "init_sample",
    "kaiming_hints",
    "xavier_hints",
]

SQRT3 = math.sqrt(3)


def init_sample(student: Any, name: str, shape: tuple, seed: int = 0, **kwargs: Any) -> np.ndarray:
    """Call an initializer on a fresh float32 tensor of ``shape``; check it fills it in place."""
    info = student.call_info(name, empty(*shape), generator=seeded(seed), **kwargs)
    dtype = getattr(info.value, "dtype", None)
    if dtype is not None and dtype != np.float32:
        raise Failure(
            f"{name} returned {dtype} values for a float32 tensor: fill the tensor you are given "
            "in place (tensor.normal_/tensor.uniform_ keep its dtype) instead of making a new one"
        )
    if info.returned_arg != 0:
        raise Failure(
            f"{name} should fill the tensor it is given in place and return that same tensor "
            "(as torch.nn.init does: `return tensor`)"
        )
    values = expect_array(info.value, f"the tensor returned by {name}", shape)
    expect(np.isfinite(values).all(), f"{name} produced nan or inf values")
    return values


def expect_own_code(student: Any, *names: str, trusted: Iterable[str] = ()) -> None:
    """Fail when an answer reaches PyTorch's or the course's initializers, not its own code."""
    for name in names:
        for call in find_library_use(student, name, trusted=trusted):
            where = "" if call.function == name else f" (in {call.function}, which it calls)"
            what = f"line {call.line}, `{call.code}`, reaches {call.name}"
            if call.code.startswith("def "):
                what = f"{call.function} is {call.name} itself"
            raise Failure(
                f"{name} uses `{call.module}`{where}: {what}. The point of this question is to "
                "write the formula yourself with tensor.normal_/tensor.uniform_ (compare with "
                "torch.nn.init afterwards)"
            )


def expect_no_grad(student: Any, *names: str) -> None:
    """Fail when an initializer fills its tensor while autograd records (breaks on a Parameter).

    Read from the code first (the message can then name the line), then run on a real
    ``nn.Parameter``: that also catches a fill hidden in a helper the reading cannot follow.
    """
    for name in names:
        lines = fills_outside_no_grad(student.source(name))
        if not lines and _fills_a_parameter(student, name):
            continue
        where = f" (line {lines[0]} of the function)" if lines else ""
        raise Failure(
            f"{name} changes the tensor in place outside `with torch.no_grad():`{where}. A "
            "layer's weight is an nn.Parameter that requires grad, and PyTorch refuses in-place "
            "changes to it while autograd records (RuntimeError: a leaf Variable that requires "
            "grad is being used in an in-place operation): fill it inside `with torch.no_grad():`"
        )


def _fills_a_parameter(student: Any, name: str) -> bool:
    """Whether ``name`` fills an ``nn.Parameter`` without autograd's in-place error."""
    try:
        student.call_info(name, parameter(8, 4), generator=seeded(0))
    except StudentRaised as exc:
        if "leaf Variable" in exc.message:
            return False
        raise
    return True


def expect_reproducible(student: Any, name: str, shape: tuple, **kwargs: Any) -> None:
    """Same seed, same numbers; another seed, other numbers."""
    a = init_sample(student, name, shape, seed=7, **kwargs)
    b = init_sample(student, name, shape, seed=7, **kwargs)
    c = init_sample(student, name, shape, seed=8, **kwargs)
    expect(
        np.array_equal(a, b) and not np.array_equal(a, c),
        f"{name} is not reproducible: pass `generator=generator` on to tensor.normal_/uniform_ "
        "so that the same seeded generator gives the same weights (not the global random state)",
    )


def fans_hint(shape: tuple, got: Any, want: tuple[int, int]) -> str:
    """Explain a wrong (fan_in, fan_out) for a weight of ``shape``."""
    receptive = math.prod(shape[2:])
    if tuple(got) == want[::-1]:
        return (
            f"fan_in and fan_out are swapped: PyTorch stores weights as (out, in, *kernel), so for "
            f"shape {shape} fan_in = {want[0]} and fan_out = {want[1]}"
        )
    if len(shape) > 2 and tuple(got) in ((shape[1], shape[0]), (shape[0], shape[1])):
        return (
            f"a conv weight of shape {shape} has a receptive field of {receptive} pixels: every "
            f"output sees in_channels · receptive field = {shape[1]}·{receptive} = {want[0]} "
            "inputs (the lecture's D_in = kernel_size² · input_channels)"
        )
    return (
        f"for shape {shape}, fan_in = in · receptive field = {want[0]} and fan_out = out · "
        f"receptive field = {want[1]}, where the receptive field is the product of all kernel sizes"
    )


def xavier_hints(fan_in: int, fan_out: int, gain: float = 1.0) -> dict[str, float]:
    """Known mistakes for Xavier's σ and the value each produces."""
    avg = 2 / (fan_in + fan_out)
    hints = {
        "that is 1/√fan_in (LeCun's σ); Xavier averages both fans: 2/(fan_in + fan_out)": (
            gain / math.sqrt(fan_in)
        ),
        "that is Kaiming's √(2/fan_in); Xavier uses 2/(fan_in + fan_out)": (
            gain * math.sqrt(2 / fan_in)
        ),
        "that is the uniform bound √(6/(fan_in + fan_out)), not the normal's σ": (
            gain * math.sqrt(3 * avg)
        ),
        "the variance 2/(fan_in + fan_out) was used as the standard deviation; take its square "
        "root": gain * avg,
        "the gain is missing: σ = gain · √(2/(fan_in + fan_out))": math.sqrt(avg),
        "the gain is squared: σ = gain · √(2/(fan_in + fan_out))": gain**2 * math.sqrt(avg),
    }
    return {h: v for h, v in hints.items() if abs(v - gain * math.sqrt(avg)) > 1e-3 * v}


def kaiming_hints(fan_in: int, fan_out: int, mode: str) -> dict[str, float]:
    """Known mistakes for Kaiming's σ (ReLU) and the value each produces."""
    fan, other = (fan_in, fan_out) if mode == "fan_in" else (fan_out, fan_in)
    other_name = "fan_out" if mode == "fan_in" else "fan_in"
    return {
        f"did you use {other_name}? mode={mode!r} means σ = √(2/{mode})": math.sqrt(2 / other),
        "the factor 2 is missing: ReLU zeroes half of its inputs, which halves the second moment "
        "E[relu(x)²] = Var(x)/2, so Kaiming doubles the variance (gain √2)": math.sqrt(1 / fan),
        "that is Xavier's σ = √(2/(fan_in + fan_out)); Kaiming uses one fan only": (
            math.sqrt(2 / (fan_in + fan_out))
        ),
        f"the variance 2/{mode} was used as the standard deviation; take its square root": 2 / fan,
    }


def expect_std(values: np.ndarray, want: float, what: str, hints: dict[str, float]) -> None:
    """Check a normal sample's std (3%, with the hint of a known mistake) and its zero mean."""
    std = float(values.std())
    expect_close(std, want, what, rtol=0.03, hint=diagnose(std, hints))
    mean = float(values.mean())
    expect(abs(mean) < 0.05 * want, f"{what}: the mean is {fmt(mean)}; it should be 0")


def _bound_hint(top: float, bound: float, sigma_hints: dict[str, float]) -> str:
    """The likely mistake behind a uniform whose values reach ``top`` instead of ``bound``."""
    if abs(top * SQRT3 - bound) <= 0.03 * bound:
        return (
            f"the bound is off by exactly √3: {fmt(top)} · √3 = {fmt(bound)}. You used the "
            "normal's σ as the bound, but U(-r, r) has std r/√3, so for the same variance "
            "r = √3 · σ (hence the 6 where the normal has a 2)"
        )
    if abs(top / SQRT3 - bound) <= 0.03 * bound:
        return (
            f"the bound is √3 times too large: {fmt(top)} / √3 = {fmt(bound)}; "
            "r = √3 · σ, not 3 · σ"
        )
    return diagnose(top, {h: v * SQRT3 for h, v in sigma_hints.items()})


def expect_bound(
    values: np.ndarray, bound: float, what: str, sigma_hints: dict[str, float]
) -> None:
    """Check a sample of U(-bound, bound): its shape, then its bound with known mistakes' hints.

    Args:
        values: the sample.
        bound: the right r.
        what: what was sampled, for the message.
        sigma_hints: the mistakes of the matching normal initializer (hint -> σ); a uniform
            with the same mistake reaches √3·σ.
    """
    top, low, sd = float(np.abs(values).max()), float(values.min()), float(values.std())
    expect(
        low < -0.5 * top,
        f"{what}: no negative values near -{fmt(top)}; sample U(-r, r), not U(0, r)",
    )
    expect(
        abs(top - SQRT3 * sd) <= 0.03 * top,
        f"{what}: values reach {fmt(top)} with std {fmt(sd)}, not spread evenly over [-r, r] (a "
        "uniform's std is r/√3): draw them with tensor.uniform_(-r, r)",
    )
    in_range = 0.99 * bound <= top <= bound * (1 + 1e-6)
    hint = "" if in_range else _bound_hint(top, bound, sigma_hints)
    expect(
        in_range,
        f"{what}: values reach {fmt(top)}; U(-r, r) should reach r = {fmt(bound)}"
        + (f" — {hint}" if hint else ""),
    )
    expect_std(values, bound / SQRT3, f"{what}: the std (U(-r, r) has std r/√3)", {})

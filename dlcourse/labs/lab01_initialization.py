"""Lab 1 — Weight initialization: public tests.

Questions (the signatures students implement):

* q1 ``calculate_fans(tensor) -> (fan_in, fan_out)`` for Linear and conv weights;
* q2 ``xavier_normal_(tensor, gain=1.0, generator=None)`` and ``xavier_uniform_(...)``;
* q3 ``kaiming_normal_(tensor, mode="fan_in", generator=None)`` and ``kaiming_uniform_(...)`` (ReLU);
* q4 ``layer_stds(weight_std, activation="none", depth=100, width=512, seed=0) -> list[float]``,
  the lecture's 100-layer experiment.

Messages explain the formula and the likely mistake, never the code. See the book: Weight
initialization.
"""

from __future__ import annotations

import math
import re

import numpy as np

from dlcourse.grading import Lab, empty, expect, expect_array, expect_close, seeded
from dlcourse.grading.expect import Failure, diagnose, expect_raises, fmt

__all__ = ["LAB", "fans_hint", "init_sample", "kaiming_hints", "xavier_hints"]

LAB = Lab("lab01_initialization", title="Weight initialization")
LAB.share("q1", calculate_fans="dlcourse.init:calculate_fan_in_and_fan_out")

_LIBRARY_CALL = re.compile(r"\b(nn\.init|torch\.nn\.init|dlcourse\.init|dlcourse)\b")


# ---------------------------------------------------------------- shared helpers (also for hidden tests)


def init_sample(student, name: str, shape: tuple, seed: int = 0, **kwargs) -> np.ndarray:
    """Call an initializer on a fresh tensor of ``shape``; check it fills in place and returns it."""
    info = student.call_info(name, empty(*shape), generator=seeded(seed), **kwargs)
    if info.returned_arg != 0:
        raise Failure(
            f"{name} should fill the tensor it is given in place and return that same tensor "
            "(as torch.nn.init does: `return tensor`)"
        )
    values = expect_array(info.value, f"the tensor returned by {name}", shape)
    expect(np.isfinite(values).all(), f"{name} produced nan or inf values")
    return values


def expect_own_code(student, *names: str) -> None:
    """Fail when an answer calls PyTorch's or the course library's initializers instead of its own code."""
    for name in names:
        found = _LIBRARY_CALL.search(student.source(name))
        if found:
            raise Failure(
                f"{name} uses `{found.group(0)}`: the point of this question is to write the formula "
                "yourself with tensor.normal_/tensor.uniform_ (you may compare with torch.nn.init afterwards)"
            )


def expect_reproducible(student, name: str, shape: tuple) -> None:
    """Same seed, same numbers; another seed, other numbers."""
    a = init_sample(student, name, shape, seed=7)
    b = init_sample(student, name, shape, seed=7)
    c = init_sample(student, name, shape, seed=8)
    expect(
        np.array_equal(a, b) and not np.array_equal(a, c),
        f"{name} is not reproducible: pass `generator=generator` on to tensor.normal_/uniform_ "
        "so that the same seeded generator gives the same weights",
    )


def fans_hint(shape: tuple, got, want: tuple[int, int]) -> str:
    """Explain a wrong (fan_in, fan_out) for a weight of ``shape``."""
    receptive = math.prod(shape[2:])
    if tuple(got) == want[::-1]:
        return (
            f"fan_in and fan_out are swapped: PyTorch stores weights as (out, in, *kernel), so for shape "
            f"{shape} fan_in = {want[0]} and fan_out = {want[1]}"
        )
    if len(shape) > 2 and tuple(got) in ((shape[1], shape[0]), (shape[0], shape[1])):
        return (
            f"a conv weight of shape {shape} has a receptive field of {receptive} pixels: every output sees "
            f"in_channels · receptive field = {shape[1]}·{receptive} = {want[0]} inputs (the lecture's "
            "D_in = kernel_size² · input_channels)"
        )
    return f"for shape {shape}, fan_in = in · receptive field = {want[0]} and fan_out = out · receptive field = {want[1]}"


def xavier_hints(fan_in: int, fan_out: int, gain: float = 1.0) -> dict[str, float]:
    """Known mistakes for Xavier's σ and the value each produces."""
    return {
        "that is 1/√fan_in (LeCun's σ); Xavier averages both fans: 2/(fan_in + fan_out)": gain / math.sqrt(fan_in),
        "that is Kaiming's √(2/fan_in); Xavier uses 2/(fan_in + fan_out)": gain * math.sqrt(2 / fan_in),
        "that is the uniform bound √(6/(fan_in + fan_out)), not the normal's σ": gain * math.sqrt(6 / (fan_in + fan_out)),
        "the variance 2/(fan_in + fan_out) was used as the standard deviation; take its square root": gain**2 * 2 / (fan_in + fan_out),
        "the gain is missing: σ = gain · √(2/(fan_in + fan_out))": math.sqrt(2 / (fan_in + fan_out)),
    }


def kaiming_hints(fan_in: int, fan_out: int, mode: str) -> dict[str, float]:
    """Known mistakes for Kaiming's σ (ReLU) and the value each produces."""
    other = fan_out if mode == "fan_in" else fan_in
    return {
        f"did you use {'fan_out' if mode == 'fan_in' else 'fan_in'}? mode={mode!r} means σ = √(2/{mode})": math.sqrt(2 / other),
        "the factor 2 is missing: ReLU zeroes half of its inputs, so Kaiming doubles the variance (gain √2)": math.sqrt(1 / (fan_in if mode == "fan_in" else fan_out)),
        "that is Xavier's σ = √(2/(fan_in + fan_out)); Kaiming uses one fan only": math.sqrt(2 / (fan_in + fan_out)),
        "the variance 2/fan was used as the standard deviation; take its square root": 2 / (fan_in if mode == "fan_in" else fan_out),
    }


def _expect_std(values: np.ndarray, want: float, what: str, hints: dict[str, float]) -> None:
    std = float(values.std())
    expect_close(std, want, what, rtol=0.03, hint=diagnose(std, hints))
    expect(abs(float(values.mean())) < 0.05 * want, f"{what}: the mean is {fmt(float(values.mean()))}; it should be 0")


def _expect_uniform(values: np.ndarray, bound: float, what: str, hints: dict[str, float]) -> None:
    top = float(np.abs(values).max())
    expect(top <= bound * (1 + 1e-6), f"{what}: values reach {fmt(top)}, beyond the bound {fmt(bound)}")
    expect(top >= 0.99 * bound, f"{what}: values only reach {fmt(top)}; U(-r, r) with r = {fmt(bound)} should come close to r")
    expect(float(values.min()) < -0.9 * bound, f"{what}: no negative values near -{fmt(bound)}; sample U(-r, r), not U(0, r)")
    _expect_std(values, bound / math.sqrt(3), f"{what} (std of U(-r, r) is r/√3)", {h: v / math.sqrt(3) for h, v in hints.items()})


# ---------------------------------------------------------------- q1: fans


@LAB.test("q1")
def fans_of_linear_weight(student):
    got = student.calculate_fans(empty(300, 200))
    expect(isinstance(got, list) and len(got) == 2, f"calculate_fans should return (fan_in, fan_out); it returned {got!r}")
    expect(tuple(got) == (200, 300), f"calculate_fans gave {tuple(got)} for a weight of shape (300, 200): {fans_hint((300, 200), got, (200, 300))}")


@LAB.test("q1")
def fans_of_conv_weight(student):
    got = student.calculate_fans(empty(64, 3, 5, 5))
    want = (3 * 25, 64 * 25)
    expect(tuple(got) == want, f"calculate_fans gave {tuple(got)} for a conv weight of shape (64, 3, 5, 5): {fans_hint((64, 3, 5, 5), got, want)}")


# ---------------------------------------------------------------- q2: Xavier


@LAB.test("q2")
def xavier_normal_std(student):
    values = init_sample(student, "xavier_normal_", (300, 200))
    _expect_std(values, math.sqrt(2 / 500), "the std of xavier_normal_ on a (300, 200) weight", xavier_hints(200, 300))


@LAB.test("q2")
def xavier_uniform_bound(student):
    values = init_sample(student, "xavier_uniform_", (300, 200))
    _expect_uniform(values, math.sqrt(6 / 500), "xavier_uniform_ on a (300, 200) weight", {h: v * math.sqrt(3) for h, v in xavier_hints(200, 300).items()})


@LAB.test("q2")
def xavier_gain(student):
    values = init_sample(student, "xavier_normal_", (300, 200), gain=5 / 3)
    _expect_std(values, 5 / 3 * math.sqrt(2 / 500), "the std of xavier_normal_(w, gain=5/3)", xavier_hints(200, 300, 5 / 3))


@LAB.test("q2")
def xavier_reproducible_and_own_code(student):
    for name in ("xavier_normal_", "xavier_uniform_"):
        expect_reproducible(student, name, (64, 32))
    expect_own_code(student, "xavier_normal_", "xavier_uniform_")


# ---------------------------------------------------------------- q3: Kaiming


@LAB.test("q3")
def kaiming_normal_fan_in(student):
    values = init_sample(student, "kaiming_normal_", (256, 512))
    _expect_std(values, math.sqrt(2 / 512), "the std of kaiming_normal_ on a (256, 512) weight (fan_in = 512)", kaiming_hints(512, 256, "fan_in"))


@LAB.test("q3")
def kaiming_normal_fan_out(student):
    values = init_sample(student, "kaiming_normal_", (256, 512), mode="fan_out")
    _expect_std(values, math.sqrt(2 / 256), "the std of kaiming_normal_(w, mode='fan_out') on a (256, 512) weight", kaiming_hints(512, 256, "fan_out"))


@LAB.test("q3")
def kaiming_uniform_bound(student):
    values = init_sample(student, "kaiming_uniform_", (256, 512))
    hints = {h: v * math.sqrt(3) for h, v in kaiming_hints(512, 256, "fan_in").items()}
    _expect_uniform(values, math.sqrt(6 / 512), "kaiming_uniform_ on a (256, 512) weight", hints)


@LAB.test("q3")
def kaiming_rejects_unknown_mode(student):
    expect_raises(student, "ValueError", "kaiming_normal_", empty(4, 4), mode="fan_avg", why=" for mode='fan_avg' (only 'fan_in' and 'fan_out' exist)")
    for name in ("kaiming_normal_", "kaiming_uniform_"):
        expect_reproducible(student, name, (64, 32))
    expect_own_code(student, "kaiming_normal_", "kaiming_uniform_")


# ---------------------------------------------------------------- q4: the 100-layer experiment


def final_std(student, weight_std: float, activation: str, **kwargs) -> float:
    """Run the student's experiment and return the last layer's std (checking the result's form)."""
    stds = student.layer_stds(weight_std, activation, **kwargs)
    depth = kwargs.get("depth", 100)
    if isinstance(stds, np.ndarray):
        stds = stds.tolist()
    expect(isinstance(stds, list) and len(stds) == depth, f"layer_stds should return a list of {depth} numbers (one std per layer); got {type(stds).__name__} of length {len(stds) if hasattr(stds, '__len__') else '?'}")
    expect(all(isinstance(s, (int, float)) for s in stds), "layer_stds should return plain numbers: use .item() on 0-d tensors")
    return float(stds[-1])


@LAB.test("q4")
def one_std_per_layer(student):
    final_std(student, 1 / math.sqrt(64), "tanh", depth=10, width=64)


@LAB.test("q4")
def normal_weights_explode(student):
    last = final_std(student, 1.0, "none")
    expect(not math.isfinite(last) or last > 1e100, (
        f"with weights N(0, 1) and no activation the last std is {fmt(last)}; each layer multiplies the "
        "std by about √512 ≈ 22.6, so after 100 layers it should overflow (nan/inf in float32)"))


@LAB.test("q4")
def small_weights_vanish(student):
    last = final_std(student, 0.01, "none")
    expect(last < 1e-30, (
        f"with weights 0.01·N(0, 1) the last std is {fmt(last)}; each layer multiplies it by 0.01·√512 ≈ 0.23, "
        "so after 100 layers it should vanish (exactly 0 in float32)"))


@LAB.test("q4")
def xavier_tanh_keeps_signal(student):
    last = final_std(student, 1 / math.sqrt(512), "tanh")
    expect(0.02 < last < 0.2, (
        f"with σ = 1/√512 and tanh the last std is {fmt(last)}; the lecture measured 0.0613 — expect roughly "
        "0.03 to 0.12. Is tanh applied after every layer, and the weights drawn anew for each layer?"))

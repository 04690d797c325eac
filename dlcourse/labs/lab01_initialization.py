"""Lab 1 — Weight initialization: public tests and the helpers its hidden tests share.

Questions (the signatures students implement):

* q1 ``calculate_fans(tensor) -> (fan_in, fan_out)`` for Linear and conv weights;
* q2 ``xavier_normal_(tensor, gain=1.0, generator=None)`` and ``xavier_uniform_(...)``;
* q3 ``kaiming_normal_(tensor, mode="fan_in", generator=None)`` and ``kaiming_uniform_(...)`` (ReLU);
* q4 ``layer_stds(weight_std, activation="none", depth=100, width=512, seed=0) -> list[float]``,
  the lecture's 100-layer experiment, with the draws fixed by the question (:func:`reference_stds`).

Messages explain the formula and the likely mistake, never the code; the specific hints (a missing
√3, the other fan, a missing gain) are tried before the generic range checks. See the book: Weight
initialization.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlcourse.grading import Lab, empty, expect, expect_array, expect_close, seeded
from dlcourse.grading.expect import Failure, diagnose, expect_raises, fmt
from dlcourse.grading.owncode import fills_outside_no_grad, find_library_use

__all__ = [
    "LAB",
    "Q4_MISTAKES",
    "UNKNOWN_MODE",
    "expect_bound",
    "expect_no_grad",
    "expect_own_code",
    "expect_reference_stds",
    "expect_std",
    "fans_hint",
    "init_sample",
    "kaiming_hints",
    "layer_stds_of",
    "reference_stds",
    "xavier_hints",
]

LAB = Lab("lab01_initialization", number=1, title="Weight initialization")
LAB.share("q1", calculate_fans="dlcourse.init:calculate_fan_in_and_fan_out")

SQRT3 = math.sqrt(3)

# ---------------------------------------------------------------- shared helpers (also for hidden tests)


def init_sample(student: Any, name: str, shape: tuple, seed: int = 0, **kwargs: Any) -> np.ndarray:
    """Call an initializer on a fresh float32 tensor of ``shape``; check it fills in place and returns it."""
    info = student.call_info(name, empty(*shape), generator=seeded(seed), **kwargs)
    dtype = getattr(info.value, "dtype", None)
    if dtype is not None and dtype != np.float32:
        raise Failure(
            f"{name} returned {dtype} values for a float32 tensor: fill the tensor you are given in "
            "place (tensor.normal_/tensor.uniform_ keep its dtype) instead of making a new one"
        )
    if info.returned_arg != 0:
        raise Failure(
            f"{name} should fill the tensor it is given in place and return that same tensor "
            "(as torch.nn.init does: `return tensor`)"
        )
    values = expect_array(info.value, f"the tensor returned by {name}", shape)
    expect(np.isfinite(values).all(), f"{name} produced nan or inf values")
    return values


def expect_own_code(student: Any, *names: str) -> None:
    """Fail when an answer reaches PyTorch's or the course's initializers instead of its own code."""
    for name in names:
        for call in find_library_use(student, name, trusted=LAB.stand_ins):
            where = "" if call.function == name else f" (in {call.function}, which it calls)"
            raise Failure(
                f"{name} uses `{call.module}`{where}: line {call.line}, `{call.code}` reaches "
                f"{call.name}. The point of this question is to write the formula yourself with "
                "tensor.normal_/tensor.uniform_ (compare with torch.nn.init afterwards)"
            )


def expect_no_grad(student: Any, *names: str) -> None:
    """Fail when an initializer fills its tensor while autograd records (it breaks on a Parameter)."""
    for name in names:
        lines = fills_outside_no_grad(student.source(name))
        expect(not lines, (
            f"{name} changes the tensor in place outside `with torch.no_grad():` (line {lines[0] if lines else 0} "
            "of the function). A layer's weight is an nn.Parameter that requires grad, and PyTorch refuses "
            "in-place changes to it while autograd records (RuntimeError: a leaf Variable that requires grad "
            "is being used in an in-place operation): fill it inside `with torch.no_grad():`"))


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
            f"a conv weight of shape {shape} has a receptive field of {receptive} pixels: every output "
            f"sees in_channels · receptive field = {shape[1]}·{receptive} = {want[0]} inputs (the "
            "lecture's D_in = kernel_size² · input_channels)"
        )
    return (
        f"for shape {shape}, fan_in = in · receptive field = {want[0]} and fan_out = out · receptive "
        f"field = {want[1]}, where the receptive field is the product of all kernel sizes"
    )


def xavier_hints(fan_in: int, fan_out: int, gain: float = 1.0) -> dict[str, float]:
    """Known mistakes for Xavier's σ and the value each produces."""
    avg = 2 / (fan_in + fan_out)
    hints = {
        "that is 1/√fan_in (LeCun's σ); Xavier averages both fans: 2/(fan_in + fan_out)": gain / math.sqrt(fan_in),
        "that is Kaiming's √(2/fan_in); Xavier uses 2/(fan_in + fan_out)": gain * math.sqrt(2 / fan_in),
        "that is the uniform bound √(6/(fan_in + fan_out)), not the normal's σ": gain * math.sqrt(3 * avg),
        "the variance 2/(fan_in + fan_out) was used as the standard deviation; take its square root": gain * avg,
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
        "that is Xavier's σ = √(2/(fan_in + fan_out)); Kaiming uses one fan only": math.sqrt(2 / (fan_in + fan_out)),
        f"the variance 2/{mode} was used as the standard deviation; take its square root": 2 / fan,
    }


def expect_std(values: np.ndarray, want: float, what: str, hints: dict[str, float]) -> None:
    std = float(values.std())
    expect_close(std, want, what, rtol=0.03, hint=diagnose(std, hints))
    mean = float(values.mean())
    expect(abs(mean) < 0.05 * want, f"{what}: the mean is {fmt(mean)}; it should be 0")


def _bound_hint(top: float, bound: float, sigma_hints: dict[str, float]) -> str:
    """The likely mistake behind a uniform whose values reach ``top`` instead of ``bound``."""
    if abs(top * SQRT3 - bound) <= 0.03 * bound:
        return (
            f"the bound is off by exactly √3: {fmt(top)} · √3 = {fmt(bound)}. You used the normal's σ "
            "as the bound, but U(-r, r) has std r/√3, so for the same variance r = √3 · σ (hence the 6 "
            "where the normal has a 2)"
        )
    if abs(top / SQRT3 - bound) <= 0.03 * bound:
        return f"the bound is √3 times too large: {fmt(top)} / √3 = {fmt(bound)}; r = √3 · σ, not 3 · σ"
    return diagnose(top, {h: v * SQRT3 for h, v in sigma_hints.items()})


def expect_bound(values: np.ndarray, bound: float, what: str, sigma_hints: dict[str, float]) -> None:
    """Check a sample of U(-bound, bound): known mistakes first, then range, sign and spread.

    ``sigma_hints`` are the mistakes of the matching normal initializer (hint -> σ); a uniform with
    the same mistake reaches √3·σ.
    """
    top = float(np.abs(values).max())
    hint = _bound_hint(top, bound, sigma_hints) if not 0.99 * bound <= top <= bound * (1 + 1e-6) else ""
    expect(not hint, f"{what}: values reach {fmt(top)}; U(-r, r) should reach r = {fmt(bound)} — {hint}")
    sd = float(values.std())
    expect(top <= bound * (1 + 1e-6), (
        f"{what}: values reach {fmt(top)}, beyond the bound r = {fmt(bound)}"
        + (" — with std r/√3 they look normal: draw them with tensor.uniform_(-r, r)"
           if abs(sd - bound / SQRT3) < 0.03 * bound / SQRT3 else "")))
    expect(top >= 0.99 * bound, f"{what}: values only reach {fmt(top)}; U(-r, r) with r = {fmt(bound)} should come close to r")
    expect(float(values.min()) < -0.9 * bound, f"{what}: no negative values near -{fmt(bound)}; sample U(-r, r), not U(0, r)")
    expect_std(values, bound / SQRT3, f"{what}: the std (U(-r, r) has std r/√3)", {})


# ---------------------------------------------------------------- q1: fans


@LAB.test("q1")
def fans_of_linear_weight(student):
    got = student.calculate_fans(empty(300, 200))
    expect(isinstance(got, list) and len(got) == 2, f"calculate_fans should return (fan_in, fan_out); it returned {got!r}")
    expect(all(isinstance(g, int) for g in got), f"calculate_fans should return two ints; it returned {got!r}")
    expect(tuple(got) == (200, 300), f"calculate_fans gave {tuple(got)} for a weight of shape (300, 200): {fans_hint((300, 200), got, (200, 300))}")


@LAB.test("q1")
def fans_of_conv_weight(student):
    got = student.calculate_fans(empty(64, 3, 5, 5))
    want = (3 * 25, 64 * 25)
    expect(tuple(got) == want, f"calculate_fans gave {tuple(got)} for a conv weight of shape (64, 3, 5, 5): {fans_hint((64, 3, 5, 5), got, want)}")


@LAB.test("q1")
def fans_are_own_code(student):
    expect_own_code(student, "calculate_fans")


# ---------------------------------------------------------------- q2: Xavier


@LAB.test("q2")
def xavier_normal_std(student):
    values = init_sample(student, "xavier_normal_", (300, 200))
    expect_std(values, math.sqrt(2 / 500), "the std of xavier_normal_ on a (300, 200) weight", xavier_hints(200, 300))


@LAB.test("q2")
def xavier_uniform_bound(student):
    values = init_sample(student, "xavier_uniform_", (300, 200))
    expect_bound(values, math.sqrt(6 / 500), "xavier_uniform_ on a (300, 200) weight", xavier_hints(200, 300))


@LAB.test("q2")
def xavier_gain(student):
    gain = 5 / 3
    values = init_sample(student, "xavier_normal_", (300, 200), gain=gain)
    expect_std(values, gain * math.sqrt(2 / 500), "the std of xavier_normal_(w, gain=5/3)", xavier_hints(200, 300, gain))
    values = init_sample(student, "xavier_uniform_", (300, 200), gain=gain)
    expect_bound(values, gain * math.sqrt(6 / 500), "xavier_uniform_(w, gain=5/3)", xavier_hints(200, 300, gain))


@LAB.test("q2")
def xavier_reproducible_and_own_code(student):
    for name in ("xavier_normal_", "xavier_uniform_"):
        expect_reproducible(student, name, (64, 32))
    expect_own_code(student, "xavier_normal_", "xavier_uniform_")
    expect_no_grad(student, "xavier_normal_", "xavier_uniform_")


# ---------------------------------------------------------------- q3: Kaiming

UNKNOWN_MODE = " for mode='fan_avg' (only 'fan_in' and 'fan_out' exist)"


@LAB.test("q3")
def kaiming_normal_fan_in(student):
    values = init_sample(student, "kaiming_normal_", (256, 512))
    expect_std(values, math.sqrt(2 / 512), "the std of kaiming_normal_ on a (256, 512) weight (fan_in = 512)", kaiming_hints(512, 256, "fan_in"))


@LAB.test("q3")
def kaiming_normal_fan_out(student):
    values = init_sample(student, "kaiming_normal_", (256, 512), mode="fan_out")
    expect_std(values, math.sqrt(2 / 256), "the std of kaiming_normal_(w, mode='fan_out') on a (256, 512) weight", kaiming_hints(512, 256, "fan_out"))


@LAB.test("q3")
def kaiming_uniform_bound(student):
    values = init_sample(student, "kaiming_uniform_", (256, 512))
    expect_bound(values, math.sqrt(6 / 512), "kaiming_uniform_ on a (256, 512) weight (fan_in = 512)", kaiming_hints(512, 256, "fan_in"))
    values = init_sample(student, "kaiming_uniform_", (256, 512), mode="fan_out")
    expect_bound(values, math.sqrt(6 / 256), "kaiming_uniform_(w, mode='fan_out') on a (256, 512) weight", kaiming_hints(512, 256, "fan_out"))


@LAB.test("q3")
def kaiming_rejects_unknown_mode(student):
    expect_raises(student, "ValueError", "kaiming_normal_", empty(4, 4), mode="fan_avg", why=UNKNOWN_MODE)
    for name in ("kaiming_normal_", "kaiming_uniform_"):
        expect_reproducible(student, name, (64, 32))
    expect_own_code(student, "kaiming_normal_", "kaiming_uniform_")
    expect_no_grad(student, "kaiming_normal_", "kaiming_uniform_")


# ---------------------------------------------------------------- q4: the 100-layer experiment

# Mistakes whose stds tests recognize, and what to tell the student.
Q4_MISTAKES = {
    "reused": "one weight matrix is reused for every layer: draw a fresh one for each layer",
    "pre": "these are the stds before the activation: record x after x = f(a @ x)",
    "no_activation": "the activation is not applied: x = f(a @ x) after every layer",
    "input_first": "the first std is that of the input x: record one std after each layer, not before",
    "input_only": "every std is that of the input x: record the std of x after each layer",
    "population": "use x.std(), PyTorch's default (dividing by width - 1), not the population std",
    "float64": "the draws are float64: work in float32, PyTorch's default (torch.randn without a dtype)",
}


def reference_stds(weight_std: float, activation: str = "none", depth: int = 100, width: int = 512,
                   seed: int = 0, mistake: str | None = None) -> list[float]:
    """The stds q4's draw order gives, or those of a known ``mistake`` (a key of ``Q4_MISTAKES``).

    The question fixes the draws: ``g = torch.Generator().manual_seed(seed)``, then
    ``x = torch.randn(width, generator=g)``, then per layer ``a = torch.randn(width, width,
    generator=g) * weight_std`` and ``x = f(a @ x)``, recording ``x.std().item()``.
    """
    import torch

    f = {"none": lambda t: t, "tanh": torch.tanh, "relu": torch.relu}[activation]
    f = (lambda t: t) if mistake == "no_activation" else f
    dtype = torch.float64 if mistake == "float64" else torch.float32
    g = torch.Generator().manual_seed(seed)
    x0 = x = torch.randn(width, generator=g, dtype=dtype)
    stds = [x.std().item()] if mistake == "input_first" else []
    a = None
    while len(stds) < depth:
        if a is None or mistake != "reused":
            a = torch.randn(width, width, generator=g, dtype=dtype) * weight_std
        pre = a @ x
        x = f(pre)
        seen = pre if mistake == "pre" else x0 if mistake == "input_only" else x
        stds.append(seen.std(correction=0 if mistake == "population" else 1).item())
    return stds


def layer_stds_of(student: Any, weight_std: float, activation: str, **kwargs: Any) -> list[float]:
    """Run the student's experiment and check the result's form: ``depth`` plain numbers."""
    stds = student.layer_stds(weight_std, activation, **kwargs)
    depth = kwargs.get("depth", 100)
    if isinstance(stds, np.ndarray):
        stds = stds.tolist()
    n = len(stds) if hasattr(stds, "__len__") else "?"
    expect(isinstance(stds, list) and len(stds) == depth, (
        f"layer_stds(depth={depth}) should return a list of {depth} numbers, the std of x after each "
        f"layer; got {type(stds).__name__} of length {n}"))
    expect(all(isinstance(s, (int, float)) for s in stds), "layer_stds should return plain numbers: use .item() on 0-d tensors")
    return [float(s) for s in stds]


def _same(got: list[float], want: list[float]) -> bool:
    return bool(np.allclose(got, want, rtol=2e-4, atol=0.0, equal_nan=True))


def expect_reference_stds(student: Any, weight_std: float, activation: str, depth: int, width: int, seed: int) -> None:
    """Compare the student's stds with the question's draws, naming a recognized mistake."""
    args = dict(depth=depth, width=width, seed=seed)
    got = layer_stds_of(student, weight_std, activation, **args)
    want = reference_stds(weight_std, activation, **args)
    if _same(got, want):
        return
    call = f"layer_stds({fmt(weight_std)}, {activation!r}, depth={depth}, width={width}, seed={seed})"
    for mistake, hint in Q4_MISTAKES.items():
        if _same(got, reference_stds(weight_std, activation, mistake=mistake, **args)):
            raise Failure(f"{call}: {hint}")
    i = next(i for i, (a, b) in enumerate(zip(got, want)) if not _same([a], [b]))
    raise Failure(
        f"{call}: the std after layer {i + 1} is {fmt(got[i])}; the question's draws give {fmt(want[i])}. "
        "Seed one torch.Generator with `seed`, draw x = torch.randn(width) and then each layer's "
        "torch.randn(width, width) from it, in that order, scale by weight_std, and apply the activation")


@LAB.test("q4")
def one_std_per_layer(student):
    layer_stds_of(student, 1 / math.sqrt(64), "tanh", depth=10, width=64)


@LAB.test("q4")
def rejects_unknown_activation(student):
    expect_raises(student, "ValueError", "layer_stds", 0.1, "softmax", depth=2, width=4,
                  why=" for activation='softmax' (only 'none', 'tanh' and 'relu' exist)")


@LAB.test("q4")
def follows_the_draw_order(student):
    expect_reference_stds(student, 1 / math.sqrt(64), "tanh", depth=10, width=64, seed=0)


@LAB.test("q4")
def normal_weights_explode(student):
    last = layer_stds_of(student, 1.0, "none")[-1]
    expect(not math.isfinite(last) or last > 1e100, (
        f"with weights N(0, 1) and no activation the last std is {fmt(last)}; each layer multiplies the "
        "std by about √512 ≈ 22.6, so after 100 layers it should overflow (nan/inf in float32)"))


@LAB.test("q4")
def small_weights_vanish(student):
    last = layer_stds_of(student, 0.01, "none")[-1]
    expect(last < 1e-30, (
        f"with weights 0.01·N(0, 1) the last std is {fmt(last)}; each layer multiplies it by 0.01·√512 ≈ 0.23, "
        "so after 100 layers it should vanish (exactly 0 in float32)"))


@LAB.test("q4")
def xavier_tanh_keeps_signal(student):
    last = layer_stds_of(student, 1 / math.sqrt(512), "tanh")[-1]
    expect(0.02 < last < 0.2, (
        f"with σ = 1/√512 and tanh the last std is {fmt(last)}; the lecture measured 0.0613 — expect roughly "
        "0.03 to 0.12. Is tanh applied after every layer, and the weights drawn anew for each layer?"))

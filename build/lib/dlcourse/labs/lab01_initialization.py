"""Lab 1 — Weight initialization: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement):

* q1 ``calculate_fans(tensor) -> (fan_in, fan_out)`` for Linear and conv weights;
* q2 ``xavier_normal_(tensor, gain=1.0, generator=None)`` and ``xavier_uniform_(...)``;
* q3 ``kaiming_normal_(tensor, mode="fan_in", generator=None)``, ``kaiming_uniform_(...)`` (ReLU);
* q4 ``layer_stds(weight_std, activation="none", depth=100, width=512, seed=0) -> list[float]``,
  the lecture's 100-layer experiment, with the draws fixed by the question.

Messages explain the formula and the likely mistake, never the code; the specific hints (a missing
√3, the other fan, a missing gain) are tried before the generic range checks
(``dlcourse.labs._lab01_checks``); q4's numbers are compared exactly with the question's draws
(``dlcourse.labs._lab01_experiment``). See the book: Weight initialization.
"""

from __future__ import annotations

import math

from dlcourse.grading import Lab, empty, expect
from dlcourse.grading.expect import expect_raises, fmt
from dlcourse.labs._lab01_checks import (
    expect_bound,
    expect_no_grad,
    expect_own_code,
    expect_reproducible,
    expect_std,
    fans_hint,
    init_sample,
    kaiming_hints,
    xavier_hints,
)
from dlcourse.labs._lab01_experiment import (
    Q4_MISTAKES,
    expect_reference_stds,
    layer_stds_of,
    reference_stds,
)

__all__ = [
    "LAB",
    "Q4_MISTAKES",
    "UNKNOWN_MODE",
    "expect_bound",
    "expect_no_grad",
    "expect_own_code",
    "expect_reference_stds",
    "expect_reproducible",
    "expect_std",
    "fans_hint",
    "init_sample",
    "kaiming_hints",
    "layer_stds_of",
    "reference_stds",
    "xavier_hints",
]

LAB = Lab("lab01_initialization", title="Weight initialization")
LAB.share("q1", calculate_fans="dlcourse.init:calculate_fan_in_and_fan_out")


def _own_code(student, *names: str) -> None:
    """Other questions' answers are library stand-ins while a question is tested: trust them."""
    expect_own_code(student, *names, trusted=LAB.stand_ins)


# ---------------------------------------------------------------- q1: fans


@LAB.test("q1")
def fans_of_linear_weight(student):
    got = student.calculate_fans(empty(300, 200))
    expect(
        isinstance(got, list) and len(got) == 2,
        f"calculate_fans should return (fan_in, fan_out); it returned {got!r}",
    )
    expect(
        all(isinstance(g, int) for g in got),
        f"calculate_fans should return two ints; it returned {got!r}",
    )
    expect(
        tuple(got) == (200, 300),
        f"calculate_fans gave {tuple(got)} for a weight of shape (300, 200): "
        f"{fans_hint((300, 200), got, (200, 300))}",
    )


@LAB.test("q1")
def fans_of_conv_weight(student):
    got = student.calculate_fans(empty(64, 3, 5, 5))
    want = (3 * 25, 64 * 25)
    expect(
        tuple(got) == want,
        f"calculate_fans gave {tuple(got)} for a conv weight of shape (64, 3, 5, 5): "
        f"{fans_hint((64, 3, 5, 5), got, want)}",
    )


@LAB.test("q1")
def fans_are_own_code(student):
    _own_code(student, "calculate_fans")


# ---------------------------------------------------------------- q2: Xavier


@LAB.test("q2")
def xavier_normal_std(student):
    values = init_sample(student, "xavier_normal_", (300, 200))
    expect_std(
        values,
        math.sqrt(2 / 500),
        "the std of xavier_normal_ on a (300, 200) weight",
        xavier_hints(200, 300),
    )


@LAB.test("q2")
def xavier_uniform_bound(student):
    values = init_sample(student, "xavier_uniform_", (300, 200))
    expect_bound(
        values, math.sqrt(6 / 500), "xavier_uniform_ on a (300, 200) weight", xavier_hints(200, 300)
    )


@LAB.test("q2")
def xavier_gain(student):
    gain = 5 / 3
    values = init_sample(student, "xavier_normal_", (300, 200), gain=gain)
    expect_std(
        values,
        gain * math.sqrt(2 / 500),
        "the std of xavier_normal_(w, gain=5/3)",
        xavier_hints(200, 300, gain),
    )
    values = init_sample(student, "xavier_uniform_", (300, 200), gain=gain)
    expect_bound(
        values,
        gain * math.sqrt(6 / 500),
        "xavier_uniform_(w, gain=5/3)",
        xavier_hints(200, 300, gain),
    )


@LAB.test("q2")
def xavier_reproducible_and_own_code(student):
    for name in ("xavier_normal_", "xavier_uniform_"):
        expect_reproducible(student, name, (64, 32))
    _own_code(student, "xavier_normal_", "xavier_uniform_")
    expect_no_grad(student, "xavier_normal_", "xavier_uniform_")


# ---------------------------------------------------------------- q3: Kaiming

UNKNOWN_MODE = " for mode='fan_avg' (only 'fan_in' and 'fan_out' exist)"


@LAB.test("q3")
def kaiming_normal_fan_in(student):
    values = init_sample(student, "kaiming_normal_", (256, 512))
    expect_std(
        values,
        math.sqrt(2 / 512),
        "the std of kaiming_normal_ on a (256, 512) weight (fan_in = 512)",
        kaiming_hints(512, 256, "fan_in"),
    )


@LAB.test("q3")
def kaiming_normal_fan_out(student):
    values = init_sample(student, "kaiming_normal_", (256, 512), mode="fan_out")
    expect_std(
        values,
        math.sqrt(2 / 256),
        "the std of kaiming_normal_(w, mode='fan_out') on a (256, 512) weight",
        kaiming_hints(512, 256, "fan_out"),
    )


@LAB.test("q3")
def kaiming_uniform_bound(student):
    values = init_sample(student, "kaiming_uniform_", (256, 512))
    expect_bound(
        values,
        math.sqrt(6 / 512),
        "kaiming_uniform_ on a (256, 512) weight (fan_in = 512)",
        kaiming_hints(512, 256, "fan_in"),
    )
    values = init_sample(student, "kaiming_uniform_", (256, 512), mode="fan_out")
    expect_bound(
        values,
        math.sqrt(6 / 256),
        "kaiming_uniform_(w, mode='fan_out') on a (256, 512) weight",
        kaiming_hints(512, 256, "fan_out"),
    )


@LAB.test("q3")
def kaiming_rejects_unknown_mode(student):
    expect_raises(
        student, "ValueError", "kaiming_normal_", empty(4, 4), mode="fan_avg", why=UNKNOWN_MODE
    )
    for name in ("kaiming_normal_", "kaiming_uniform_"):
        expect_reproducible(student, name, (64, 32))
    _own_code(student, "kaiming_normal_", "kaiming_uniform_")
    expect_no_grad(student, "kaiming_normal_", "kaiming_uniform_")


# ---------------------------------------------------------------- q4: the 100-layer experiment


@LAB.test("q4")
def one_std_per_layer(student):
    layer_stds_of(student, 1 / math.sqrt(64), "tanh", depth=10, width=64)


@LAB.test("q4")
def rejects_unknown_activation(student):
    expect_raises(
        student,
        "ValueError",
        "layer_stds",
        0.1,
        "softmax",
        depth=2,
        width=4,
        why=" for activation='softmax' (only 'none', 'tanh' and 'relu' exist)",
    )


@LAB.test("q4")
def follows_the_draw_order(student):
    expect_reference_stds(student, 1 / math.sqrt(64), "tanh", depth=10, width=64, seed=0)


@LAB.test("q4")
def normal_weights_explode(student):
    last = layer_stds_of(student, 1.0, "none")[-1]
    expect(
        not math.isfinite(last) or last > 1e100,
        f"with weights N(0, 1) and no activation the last std is {fmt(last)}; each layer "
        "multiplies the std by about √512 ≈ 22.6, so after 100 layers it should overflow "
        "(nan/inf in float32)",
    )


@LAB.test("q4")
def small_weights_vanish(student):
    last = layer_stds_of(student, 0.01, "none")[-1]
    expect(
        last < 1e-30,
        f"with weights 0.01·N(0, 1) the last std is {fmt(last)}; each layer multiplies it by "
        "0.01·√512 ≈ 0.23, so after 100 layers it should vanish (exactly 0 in float32)",
    )


@LAB.test("q4")
def xavier_tanh_keeps_signal(student):
    last = layer_stds_of(student, 1 / math.sqrt(512), "tanh")[-1]
    expect(
        0.02 < last < 0.2,
        f"with σ = 1/√512 and tanh the last std is {fmt(last)}; the lecture measured 0.0613 — "
        "expect roughly 0.03 to 0.12. Is tanh applied after every layer, and the weights drawn "
        "anew for each layer?",
    )

"""Lab 6's checks of the two dropout forms: what a mask leaves, the share it drops, eval mode.

Shared by the public tests (:mod:`dlcourse.labs.lab06_regularization`) and the hidden tests of
``solutions/lab06_regularization.ipynb``. No draw order is imposed: any Bernoulli mask drawn from
the given generator passes. A known mistake's hint (``p`` read as the keep probability, a scale by
``p`` instead of ``1 - p``) comes with the failure. See the book: Regularization.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from dlcourse.grading import expect, expect_array, seeded, tensor
from dlcourse.grading.expect import Failure, fmt

__all__ = [
    "FORMS",
    "dropout_sample",
    "expect_drop_share",
    "expect_eval",
    "expect_kept_values",
    "expect_reproducible",
]

FORMS = {
    "inverted_dropout": ("p", "the drop probability", lambda r: 1.0 - r),
    "classic_dropout": ("keep_prob", "the keep probability", lambda r: r),
}


def dropout_sample(
    student: Any, name: str, x: np.ndarray, rate: float, seed: int = 0, training: bool = True
) -> np.ndarray:
    """Call ``name(x, rate, training=..., generator=seeded(seed))``; check shape, dtype, finite."""
    value = student.call(name, tensor(x), rate, training=training, generator=seeded(seed))
    out = expect_array(value, f"the tensor returned by {name}", x.shape)
    expect(np.isfinite(out).all(), f"{name} returned nan or inf values")
    return out


def _scale_hints(name: str, rate: float) -> dict[float, str]:
    """Training scale a known mistake gives -> its hint, for ``name`` at ``rate``."""
    if name == "inverted_dropout":
        q = 1.0 - rate
        return {
            1.0: "kept values are not scaled: inverted dropout divides them by the keep "
            "probability 1 - p while training, so that nothing changes at test time",
            1.0 / rate: f"kept values are divided by p = {rate}, the drop probability; divide by "
            "the keep probability 1 - p",
            q: "kept values are multiplied by the keep probability: that is the classic form's "
            "test-time scaling, not something to do while training",
        }
    return {
        1.0 / rate: "kept values are divided by keep_prob: that is inverted dropout; the classic "
        "form leaves kept values unchanged while training and scales at test time",
        rate: "kept values are multiplied by keep_prob while training: the classic form scales "
        "only at test time",
        1.0 / (1.0 - rate): "kept values are divided by the drop probability 1 - keep_prob; the "
        "classic form does not scale while training",
    }


def expect_kept_values(student: Any, name: str, rate: float) -> None:
    """In training, every output is 0 or the input times the form's training scale."""
    x = np.full((100, 100), 3.0, dtype=np.float32)
    out = dropout_sample(student, name, x, rate)
    arg = FORMS[name][0]
    scale = 1.0 / (1.0 - rate) if name == "inverted_dropout" else 1.0
    ratios = np.unique(np.round(out[out != 0] / 3.0, 4))
    if ratios.size == 1 and math.isclose(ratios[0], scale, rel_tol=1e-3):
        return
    seen = "several different values" if ratios.size != 1 else fmt(3 * float(ratios[0]))
    hint = ""
    if ratios.size == 1:
        hint = next(
            (
                h
                for v, h in _scale_hints(name, rate).items()
                if math.isclose(ratios[0], v, rel_tol=1e-3)
            ),
            "",
        )
    raise Failure(
        f"{name}(x, {arg}={rate}) in training, on an input of 3.0s: every value should be 0 or "
        f"3 × {fmt(scale)} = {fmt(3 * scale)}; the values that are not 0 are {seen}"
        + (f" — {hint}" if hint else "")
    )


def expect_drop_share(student: Any, name: str, rate: float, seed: int = 0) -> None:
    """The share of zeros is the drop probability (a binomial test on 40,000 units)."""
    x = np.ones((200, 200), dtype=np.float32)
    out = dropout_sample(student, name, x, rate, seed=seed)
    arg, meaning, keep = FORMS[name]
    dropped, n = int((out == 0).sum()), out.size
    p_drop = 1.0 - keep(rate)
    pvalue = stats.binomtest(dropped, n, p_drop).pvalue
    if pvalue < 1e-6:
        share = dropped / n
        hint = ""
        if abs(share - (1 - p_drop)) < 0.02:
            hint = (
                f" — you dropped with probability {fmt(1 - p_drop)}: {arg} is {meaning}, "
                "did you swap the drop and keep probabilities?"
            )
        raise Failure(
            f"{name}(x, {arg}={rate}) dropped {100 * share:.1f} % of 40,000 units; it should drop "
            f"about {100 * p_drop:.0f} %{hint}"
        )


def expect_eval(student: Any, name: str, rate: float) -> None:
    """With ``training=False`` there is no mask: the input (inverted) or ``keep_prob`` times it."""
    x = np.linspace(-2.0, 2.0, 60, dtype=np.float32).reshape(6, 10)
    out = dropout_sample(student, name, x, rate, training=False)
    arg, _, keep = FORMS[name]
    factor = 1.0 if name == "inverted_dropout" else keep(rate)
    if np.allclose(out, factor * x, rtol=1e-5, atol=1e-6):
        return
    why = "inverted dropout is the identity at test time: return x unchanged"
    if name == "classic_dropout":
        why = f"the classic form multiplies by keep_prob at test time (the lecture's p·w): {rate}·x"
    hint = ""
    if (out == 0).any():
        hint = " Some values are 0: dropout is still active with training=False."
    elif np.allclose(out, (1 - rate) * x, rtol=1e-5):
        hint = f" The values are {fmt(1 - rate)}·x: you used 1 - {arg}."
    elif np.allclose(out, x, rtol=1e-5):
        hint = " The values are x unchanged: the test-time scaling is missing."
    raise Failure(f"{name}(x, {arg}={rate}, training=False) is wrong: {why}.{hint}")


def expect_reproducible(student: Any, name: str, rate: float) -> None:
    """Masks come from ``generator``: the same seed gives the same mask, another seed another."""
    x = np.ones((50, 40), dtype=np.float32)
    a, b = (dropout_sample(student, name, x, rate, seed=7) for _ in range(2))
    c = dropout_sample(student, name, x, rate, seed=8)
    expect(
        np.array_equal(a, b) and not np.array_equal(a, c),
        f"{name} is not reproducible: draw the mask with the generator you are given "
        "(torch.rand(..., generator=generator)), so that the same seed gives the same mask",
    )

"""Lab 3's references and hints: activation values and derivatives, and dead units, in NumPy.

The grader compares a student's numbers with these references (float64) and, before the generic
"values differ" message, tries the known mistakes (a wrong sign in the exponent, a missing square,
the slope on the wrong side, one minibatch instead of the whole set) so the message names the
mistake. Shared by the public tests (:mod:`dlcourse.labs.lab03_activations`) and the hidden tests
of ``solutions/lab03_activations.ipynb``. See the book: Activation functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from dlcourse.grading import expect, expect_array, tensor
from dlcourse.grading.expect import fmt

__all__ = [
    "POINTS",
    "dead_reference",
    "elu_mistakes",
    "expect_dead",
    "expect_values",
    "leaky_mistakes",
    "sigmoid_mistakes",
    "tanh_mistakes",
]

#: The inputs every elementwise question is evaluated at (both sides of 0, and 0 itself).
POINTS = np.array([-6.0, -2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 6.0])

Ref = Callable[[np.ndarray], np.ndarray]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_mistakes() -> dict[str, Ref]:
    """Hints for sigmoid and its derivative -> what that mistake computes."""
    s = _sigmoid
    return {
        "the sign of the exponent is flipped: σ(x) = 1/(1 + e^(-x)) is 0.88 at x = 2": (
            lambda x: 1.0 / (1.0 + np.exp(x))
        ),
        "that is σ(x)(1 + σ(x)); the derivative is σ(x)(1 − σ(x))": lambda x: s(x) * (1 + s(x)),
        "that is σ(x) itself; the derivative is σ(x)(1 − σ(x))": s,
        "that is e^(-x)/(1 + e^(-x)) = 1 − σ(x); the derivative is σ(x)(1 − σ(x))": (
            lambda x: 1 - s(x)
        ),
    }


def tanh_mistakes() -> dict[str, Ref]:
    """Hints for the derivative of tanh."""
    return {
        "the square is missing: tanh'(x) = 1 − tanh²(x)": lambda x: 1 - np.tanh(x),
        "that is tanh²(x); the derivative is 1 − tanh²(x)": lambda x: np.tanh(x) ** 2,
        "that is σ(x)(1 − σ(x)), the sigmoid's derivative": lambda x: (
            _sigmoid(x) * (1 - _sigmoid(x))
        ),
    }


def leaky_mistakes(a: float) -> dict[str, Ref]:
    """Hints for leaky ReLU with slope ``a`` and its derivative."""
    return {
        f"the slope is on the wrong side: x for x < 0 and {a}·x for x > 0": (
            lambda x: np.where(x > 0, a * x, x)
        ),
        "negative inputs give 0: that is ReLU; leaky ReLU keeps a·x there": (
            lambda x: np.maximum(x, 0.0)
        ),
        "negative_slope is ignored (0.01 used instead)": (lambda x: np.where(x > 0, x, 0.01 * x)),
        "negative inputs give a derivative of 0: that is ReLU's; leaky ReLU's is a there": (
            lambda x: (x > 0).astype(float)
        ),
        "the derivative for negative inputs is a·x; it is the constant a": (
            lambda x: np.where(x > 0, 1.0, a * x)
        ),
        "negative_slope is ignored in the derivative (0.01 used instead)": (
            lambda x: np.where(x > 0, 1.0, 0.01)
        ),
    }


def elu_mistakes(alpha: float) -> dict[str, Ref]:
    """Hints for ELU with ``alpha`` and its derivative."""
    return {
        "the −1 is missing: ELU is α(e^x − 1) for x < 0, so that it is 0 at 0": (
            lambda x: np.where(x > 0, x, alpha * np.exp(x))
        ),
        "alpha is missing: ELU is α(e^x − 1) for x < 0": (
            lambda x: np.where(x > 0, x, np.expm1(x))
        ),
        "the derivative for x < 0 is α·e^x; alpha is missing": (
            lambda x: np.where(x > 0, 1.0, np.exp(x))
        ),
        "the derivative for x < 0 is α·e^x, not α(e^x − 1)": (
            lambda x: np.where(x > 0, 1.0, alpha * np.expm1(x))
        ),
    }


def expect_values(
    student: Any,
    name: str,
    want: Ref,
    mistakes: Mapping[str, Ref],
    x: np.ndarray = POINTS,
    **kwargs: Any,
) -> None:
    """Compare ``name(tensor(x), **kwargs)`` with ``want(x)``, naming a known mistake."""
    got = expect_array(student.call(name, tensor(x, "float64"), **kwargs), f"{name}(x)", x.shape)
    ref = want(x)
    if np.allclose(got, ref, rtol=1e-6, atol=1e-9):
        return
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    hint = next(
        (h for h, f in mistakes.items() if np.allclose(got, f(x), rtol=1e-6, atol=1e-9)), ""
    )
    worst = int(np.argmax(np.abs(got - ref)))
    expect(
        False,
        (
            f"{name}(x{args}) at x = {fmt(x[worst])} gave {fmt(got[worst])}, expected "
            f"{fmt(ref[worst])}" + (f": {hint}" if hint else "")
        ),
    )


def dead_reference(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray
) -> list[int]:
    """Per ReLU layer, the units whose pre-activation is <= 0 for every row of ``X``."""
    h, counts = X, []
    for W, b in zip(weights, biases):
        z = h @ W.T + b
        counts.append(int((z.max(axis=0) <= 0).sum()))
        h = np.maximum(z, 0.0)
    return counts


def expect_dead(
    student: Any,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    X: np.ndarray,
    what: str,
    hints: Mapping[str, list[int]] | None = None,
) -> None:
    """Compare ``dead_units(weights, biases, X)`` with :func:`dead_reference`."""
    got = student.call(
        "dead_units",
        [tensor(W, "float64") for W in weights],
        [tensor(b, "float64") for b in biases],
        tensor(X, "float64"),
    )
    want = dead_reference(weights, biases, X)
    expect(
        isinstance(got, list) and len(got) == len(want),
        f"dead_units should return a list with one count per layer ({len(want)} layers); "
        f"it returned {got!r}",
    )
    got = [int(round(float(np.asarray(g)))) for g in got]
    if got == want:
        return
    hint = next((h for h, v in (hints or {}).items() if v == got and v != want), "")
    expect(
        False, f"dead_units gave {got} for {what}, expected {want}" + (f": {hint}" if hint else "")
    )


def _counts(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    X: np.ndarray,
    dead: Callable[[np.ndarray], Any],
    relu: bool = True,
    bias: bool = True,
) -> list[int]:
    h, counts = X, []
    for W, b in zip(weights, biases):
        z = h @ W.T + (b if bias else 0.0)
        counts.append(int(dead(z).sum()))
        h = np.maximum(z, 0.0) if relu else z
    return counts


def dead_hints(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], X: np.ndarray
) -> dict[str, list[int]]:
    """What the known mistakes of ``dead_units`` return on this net -> their hints.

    The first match wins: the minibatch mistake is tried before the "some example" one, which
    gives the same counts on a net whose only firing example comes last.
    """
    return {
        "judged on the first 32 examples only: a unit is dead only if it never fires on the "
        "whole data set": dead_reference(weights, biases, X[:32]),
        "a unit is dead only if it is inactive on *every* example; this counts units inactive on "
        "some example": _counts(weights, biases, X, lambda z: (z <= 0).any(axis=0)),
        "a pre-activation of exactly 0 is inactive too (ReLU'(0) = 0): use <= 0, not < 0": (
            _counts(weights, biases, X, lambda z: (z < 0).all(axis=0))
        ),
        "the next layer sees relu(z), not z: apply the ReLU between layers": (
            _counts(weights, biases, X, lambda z: (z <= 0).all(axis=0), relu=False)
        ),
        "the biases are missing from the pre-activations W h + b": (
            _counts(weights, biases, X, lambda z: (z <= 0).all(axis=0), bias=False)
        ),
        "that counts the units that are alive, not the dead ones": (
            _counts(weights, biases, X, lambda z: (z > 0).any(axis=0))
        ),
    }

"""Lab 3 — Activation functions: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement):

* q1 ``sigmoid(x)``, ``sigmoid_grad(x)``, ``tanh_grad(x)``;
* q2 ``leaky_relu(x, negative_slope=0.01)``, ``leaky_relu_grad(x, negative_slope=0.01)``, which
  raise ``ValueError`` unless ``0 <= negative_slope < 1``;
* q3 ``elu(x, alpha=1.0)``, ``elu_grad(x, alpha=1.0)``;
* q4 ``dead_units(weights, biases, X) -> list[int]``: per ReLU layer of an MLP, the units whose
  pre-activation is ``<= 0`` for every row of the data set ``X``.

Messages name the formula and the likely mistake, never the code (hints in
``dlcourse.labs._lab03_checks``). See the book: Activation functions.
"""

from __future__ import annotations

import numpy as np

from dlcourse.grading import Lab, tensor
from dlcourse.grading.expect import expect_raises
from dlcourse.labs._lab03_checks import (
    POINTS,
    dead_hints,
    dead_reference,
    elu_mistakes,
    expect_dead,
    expect_values,
    leaky_mistakes,
    sigmoid_mistakes,
    tanh_mistakes,
)

__all__ = [
    "LAB",
    "POINTS",
    "dead_hints",
    "dead_reference",
    "elu_mistakes",
    "expect_dead",
    "expect_values",
    "leaky_mistakes",
    "late_firing_net",
    "random_net",
    "sigmoid_mistakes",
    "tanh_mistakes",
]

LAB = Lab("lab03_activations", title="Activation functions")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def random_net(
    seed: int = 0, sizes: tuple[int, ...] = (4, 8, 6), n: int = 200, kill: tuple[int, ...] = (1, 5)
) -> tuple[list, list, np.ndarray]:
    """A seeded ReLU MLP of layer ``sizes`` and data ``X`` of ``n`` rows.

    The units ``kill`` of the first layer get a bias of -50, so they are dead.
    """
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(o, i)) / np.sqrt(i) for i, o in zip(sizes, sizes[1:])]
    biases = [rng.normal(size=o) * 0.1 for o in sizes[1:]]
    biases[0][list(kill)] = -50.0
    return weights, biases, rng.normal(size=(n, sizes[0]))


def late_firing_net() -> tuple[list, list, np.ndarray]:
    """One layer of 2 units on 300 examples: unit 0 fires only on the last one, unit 1 never."""
    X = np.zeros((300, 1))
    X[-1, 0] = 10.0
    return [np.array([[1.0], [-1.0]])], [np.array([-5.0, -100.0])], X


# ---------------------------------------------------------------- q1: sigmoid and tanh'


@LAB.test("q1")
def sigmoid_values(student):
    expect_values(student, "sigmoid", _sigmoid, sigmoid_mistakes())


@LAB.test("q1")
def sigmoid_derivative(student):
    expect_values(
        student, "sigmoid_grad", lambda x: _sigmoid(x) * (1 - _sigmoid(x)), sigmoid_mistakes()
    )


@LAB.test("q1")
def tanh_derivative(student):
    expect_values(student, "tanh_grad", lambda x: 1 - np.tanh(x) ** 2, tanh_mistakes())


# ---------------------------------------------------------------- q2: leaky ReLU


@LAB.test("q2")
def leaky_relu_values(student):
    a = 0.2
    expect_values(
        student,
        "leaky_relu",
        lambda x: np.where(x > 0, x, a * x),
        leaky_mistakes(a),
        negative_slope=a,
    )


@LAB.test("q2")
def leaky_relu_derivative(student):
    a = 0.2
    expect_values(
        student,
        "leaky_relu_grad",
        lambda x: np.where(x > 0, 1.0, a),
        leaky_mistakes(a),
        negative_slope=a,
    )


@LAB.test("q2")
def leaky_relu_rejects_slope_one(student):
    why = " for negative_slope=1.0: max(a·x, x) with a = 1 is the identity, a linear unit"
    expect_raises(
        student, "ValueError", "leaky_relu", tensor(POINTS, "float64"), negative_slope=1.0, why=why
    )


# ---------------------------------------------------------------- q3: ELU


@LAB.test("q3")
def elu_values(student):
    alpha = 2.0
    expect_values(
        student,
        "elu",
        lambda x: np.where(x > 0, x, alpha * np.expm1(x)),
        elu_mistakes(alpha),
        alpha=alpha,
    )


@LAB.test("q3")
def elu_derivative(student):
    alpha = 2.0
    expect_values(
        student,
        "elu_grad",
        lambda x: np.where(x > 0, 1.0, alpha * np.exp(x)),
        elu_mistakes(alpha),
        alpha=alpha,
    )


# ---------------------------------------------------------------- q4: dead units


@LAB.test("q4")
def dead_units_of_a_small_net(student):
    weights, biases, X = random_net(seed=0)
    expect_dead(
        student,
        weights,
        biases,
        X,
        "a 4 -> 8 -> 6 ReLU net on 200 examples",
        dead_hints(weights, biases, X),
    )


@LAB.test("q4")
def dead_units_over_the_whole_set(student):
    weights, biases, X = late_firing_net()
    expect_dead(
        student,
        weights,
        biases,
        X,
        "2 units on 300 examples, unit 0 firing only on the last example",
        dead_hints(weights, biases, X),
    )

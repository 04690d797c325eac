"""Lab 3's public checks, in-process: the course's own functions pass, known mistakes are named."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcourse.grading import open_lab
from dlcourse.grading.check import run_check
from dlcourse.labs.lab03_activations import dead_hints, dead_reference, late_firing_net, random_net
from dlcourse.nn import functional as F

open_lab("lab03_activations")


def sigmoid(x):
    return F.sigmoid(x)


def sigmoid_grad(x):
    return F.sigmoid_grad(x)


def tanh_grad(x):
    return F.tanh_grad(x)


def leaky_relu(x, negative_slope=0.01):
    return F.leaky_relu(x, negative_slope)


def leaky_relu_grad(x, negative_slope=0.01):
    return F.leaky_relu_grad(x, negative_slope)


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def elu_grad(x, alpha=1.0):
    return F.elu_grad(x, alpha)


def dead_units(weights, biases, X):
    h, counts = X, []
    for W, b in zip(weights, biases):
        z = h @ W.T + b
        counts.append(int((z <= 0).all(dim=0).sum()))
        h = torch.relu(z)
    return counts


def test_the_library_functions_pass_every_public_check():
    for question, fns in {
        "q1": (sigmoid, sigmoid_grad, tanh_grad),
        "q2": (leaky_relu, leaky_relu_grad),
        "q3": (elu, elu_grad),
        "q4": (dead_units,),
    }.items():
        result, _ = run_check(question, *fns)
        assert result.status == "passed", (question, result.message)


def test_a_wrong_sign_in_the_exponent_is_named():
    def sigmoid(x):  # noqa: F811 - the mistake under test
        return 1 / (1 + torch.exp(x))

    result, _ = run_check("q1", sigmoid, sigmoid_grad, tanh_grad)
    assert result.status == "failed" and "sign of the exponent" in result.message


def test_a_library_leaky_relu_that_accepts_slope_one_fails():
    def leaky_relu(x, negative_slope=0.01):  # noqa: F811
        return torch.where(x > 0, x, negative_slope * x)

    result, _ = run_check("q2", leaky_relu, leaky_relu_grad)
    assert result.status == "failed" and "ValueError" in result.message


def test_dead_reference_counts_over_the_whole_set():
    weights, biases, X = late_firing_net()
    assert dead_reference(weights, biases, X) == [1]
    assert dead_reference(weights, biases, X[:32]) == [2]
    weights, biases, X = random_net(seed=0)
    assert dead_reference(weights, biases, X)[0] >= 2


@pytest.mark.parametrize("seed", [0, 7])
def test_each_dead_unit_hint_differs_from_the_answer_somewhere(seed):
    weights, biases, X = random_net(seed=seed)
    want = dead_reference(weights, biases, X)
    hints = dead_hints(weights, biases, X)
    assert any(v != want for v in hints.values())
    assert np.all(np.array(want) >= 0)

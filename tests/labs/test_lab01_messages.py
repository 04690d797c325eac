"""Lab 1's public checks, in-process: each main mistake's specific hint, and q4's reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcourse.grading import open_lab
from dlcourse.grading.check import run_check
from dlcourse.grading.expect import Failure
from dlcourse.grading.student import LocalStudent
from dlcourse.labs.lab01_initialization import (
    Q4_MISTAKES,
    expect_bound,
    expect_reference_stds,
    reference_stds,
)


def calculate_fans(tensor):
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _xavier(
    normal_factor: float = 2.0,
    uniform_factor: float = 6.0,
    gain_in_uniform: bool = True,
    low: str = "-",
):
    def xavier_normal_(tensor, gain=1.0, generator=None):
        fan_in, fan_out = calculate_fans(tensor)
        with torch.no_grad():
            return tensor.normal_(
                0.0, gain * math.sqrt(normal_factor / (fan_in + fan_out)), generator=generator
            )

    def xavier_uniform_(tensor, gain=1.0, generator=None):
        fan_in, fan_out = calculate_fans(tensor)
        bound = (gain if gain_in_uniform else 1.0) * math.sqrt(uniform_factor / (fan_in + fan_out))
        with torch.no_grad():
            return tensor.uniform_(-bound if low == "-" else 0.0, bound, generator=generator)

    return xavier_normal_, xavier_uniform_, calculate_fans


def _kaiming(uniform_factor: float = 6.0, normal_fan: str = "mode"):
    def kaiming_normal_(tensor, mode="fan_in", generator=None):
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(mode)
        fan_in, fan_out = calculate_fans(tensor)
        fan = {"mode": fan_in if mode == "fan_in" else fan_out, "out": fan_out}[normal_fan]
        with torch.no_grad():
            return tensor.normal_(0.0, math.sqrt(2.0 / fan), generator=generator)

    def kaiming_uniform_(tensor, mode="fan_in", generator=None):
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(mode)
        fan_in, fan_out = calculate_fans(tensor)
        bound = math.sqrt(uniform_factor / (fan_in if mode == "fan_in" else fan_out))
        with torch.no_grad():
            return tensor.uniform_(-bound, bound, generator=generator)

    return kaiming_normal_, kaiming_uniform_, calculate_fans


@pytest.fixture(autouse=True)
def lab():
    open_lab("lab01_initialization")


@pytest.mark.parametrize(
    "functions, question, phrase",
    [
        (_xavier(), "q2", None),
        (_kaiming(), "q3", None),
        (_xavier(uniform_factor=2.0), "q2", "off by exactly √3"),
        (_kaiming(uniform_factor=2.0), "q3", "off by exactly √3"),
        (_kaiming(uniform_factor=3.0), "q3", "factor 2 is missing"),
        (_kaiming(normal_fan="out"), "q3", "did you use fan_out?"),
        (_xavier(gain_in_uniform=False), "q2", "gain is missing"),
        (_xavier(normal_factor=1.0 * 500 / 200), "q2", "LeCun"),
        (_xavier(low="0"), "q2", "not U(0, r)"),
    ],
)
def test_the_specific_hint_comes_before_the_generic_check(functions, question, phrase):
    result, _ = run_check(question, *functions)
    if phrase is None:
        assert result.status == "passed", result.message
    else:
        assert result.status == "failed" and phrase in result.message, result.message


def test_a_bound_off_by_sqrt3_says_so_in_either_direction():
    rng = np.random.default_rng(0)
    r = 0.1
    with pytest.raises(Failure, match="off by exactly √3"):
        expect_bound(rng.uniform(-r / math.sqrt(3), r / math.sqrt(3), 10_000), r, "w", {})
    with pytest.raises(Failure, match="√3 times too large"):
        expect_bound(rng.uniform(-r * math.sqrt(3), r * math.sqrt(3), 10_000), r, "w", {})
    expect_bound(rng.uniform(-r, r, 10_000), r, "w", {})


def layer_stds(weight_std, activation="none", depth=100, width=512, seed=0):
    functions = {"none": lambda x: x, "tanh": torch.tanh, "relu": torch.relu}
    if activation not in functions:
        raise ValueError(activation)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(width, generator=generator)
    stds = []
    for _ in range(depth):
        x = functions[activation]((torch.randn(width, width, generator=generator) * weight_std) @ x)
        stds.append(x.std().item())
    return stds


def test_q4_reference_is_the_draw_order_the_text_states():
    for args in [
        (0.1, "tanh", 5, 32, 3),
        (math.sqrt(2 / 256), "relu", 20, 256, 1),
        (0.05, "none", 7, 16, 2),
    ]:
        weight_std, activation, depth, width, seed = args
        assert reference_stds(weight_std, activation, depth, width, seed) == layer_stds(*args)
    result, _ = run_check("q4", layer_stds)
    assert result.status == "passed", result.message


def test_q4_mistakes_differ_from_the_reference_and_from_each_other():
    variants = {m: reference_stds(0.125, "tanh", 10, 64, 0, mistake=m) for m in Q4_MISTAKES}
    variants["right"] = reference_stds(0.125, "tanh", 10, 64, 0)
    names = list(variants)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.allclose(variants[a], variants[b], rtol=2e-4), (a, b)


def test_check_asks_to_reject_an_unknown_activation():
    def lenient(weight_std, activation="none", depth=100, width=512, seed=0):
        return layer_stds(
            weight_std,
            "none" if activation not in ("tanh", "relu") else activation,
            depth,
            width,
            seed,
        )

    lenient.__name__ = "layer_stds"
    result, _ = run_check("q4", lenient)
    assert (
        result.status == "failed"
        and "should raise ValueError for activation='softmax'" in result.message
    )


@pytest.mark.parametrize("mistake", list(Q4_MISTAKES))
def test_each_q4_mistake_is_named(mistake):
    def layer_stds(weight_std, activation="none", depth=100, width=512, seed=0):
        return reference_stds(weight_std, activation, depth, width, seed, mistake=mistake)

    student = LocalStudent({"layer_stds": layer_stds})
    with pytest.raises(Failure) as failed:
        expect_reference_stds(student, 1 / 8, "tanh", depth=10, width=64, seed=0)
    assert Q4_MISTAKES[mistake] in str(failed.value)

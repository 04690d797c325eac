"""Lab 1's statistical checks never fail a right answer and never pass a wrong one, for any draw.

A student's initializer may draw its numbers in another way than the solution (another stream from
the same generator), so the checks must hold for every sample, not for the solution's seed only.
Samples of the tests' sizes are drawn here for many seeds: right answers always pass, each known
mistake always fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dlcourse.grading.expect import Failure
from dlcourse.labs.lab01_initialization import (
    expect_bound,
    expect_std,
    kaiming_hints,
    xavier_hints,
)

SEEDS = range(40)

# (shape, fan_in, fan_out) of the weights the public and hidden tests fill
SHAPES = [
    ((300, 200), 200, 300),
    ((256, 512), 512, 256),
    ((128, 16, 5, 5), 400, 3200),
    ((128, 32, 3, 3), 288, 1152),
]


def _cases():
    """(label, right σ, {mistake: σ}) for Xavier (gain 1 and 5/3) and Kaiming (both modes)."""
    for shape, fan_in, fan_out in SHAPES:
        for gain in (1.0, 5 / 3):
            right = gain * math.sqrt(2 / (fan_in + fan_out))
            yield (
                f"xavier{shape} gain={gain:.2f}",
                shape,
                right,
                xavier_hints(fan_in, fan_out, gain),
            )
        for mode, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
            yield (
                f"kaiming{shape} {mode}",
                shape,
                math.sqrt(2 / fan),
                kaiming_hints(fan_in, fan_out, mode),
            )


CASES = list(_cases())


@pytest.mark.parametrize("label, shape, right, mistakes", CASES, ids=[c[0] for c in CASES])
def test_std_check_is_right_for_every_seed(label, shape, right, mistakes):
    n = math.prod(shape)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        expect_std(rng.normal(0, right, n), right, label, mistakes)
        for hint, sigma in mistakes.items():
            with pytest.raises(Failure, match="expected"):
                expect_std(rng.normal(0, sigma, n), right, label, mistakes)


@pytest.mark.parametrize("label, shape, right, mistakes", CASES, ids=[c[0] for c in CASES])
def test_bound_check_is_right_for_every_seed(label, shape, right, mistakes):
    n, bound = math.prod(shape), right * math.sqrt(3)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        expect_bound(rng.uniform(-bound, bound, n), bound, label, mistakes)
        wrong = {"missing √3": right, **{h: s * math.sqrt(3) for h, s in mistakes.items()}}
        for hint, r in wrong.items():
            with pytest.raises(Failure):
                expect_bound(rng.uniform(-r, r, n), bound, label, mistakes)
        with pytest.raises(Failure, match="not U\\(0, r\\)"):
            expect_bound(rng.uniform(0, bound, n), bound, label, mistakes)
        with pytest.raises(Failure, match="not spread evenly"):
            expect_bound(rng.normal(0, right, n), bound, label, mistakes)

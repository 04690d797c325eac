"""Tests of dlcourse.search: seeded sampling, grids, coarse-to-fine and the median stopping rule."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dlcourse import search as S

SPACE = {"lr": S.LogUniform(1e-4, 1.0), "wd": S.Uniform(0.0, 0.1), "act": S.Choice(("relu", "elu"))}


def quadratic(params):
    """A loss curve that decreases to (log10 lr + 2)^2 + wd."""
    final = (math.log10(params["lr"]) + 2) ** 2 + params["wd"]
    return [final + 1.0 / (t + 1) for t in range(5)]


def test_sample_is_seeded_and_inside_the_box():
    a, b = S.sample(SPACE, 50, seed=3), S.sample(SPACE, 50, seed=3)
    assert a == b
    assert a != S.sample(SPACE, 50, seed=4)
    assert all(
        1e-4 <= p["lr"] <= 1 and 0 <= p["wd"] <= 0.1 and p["act"] in ("relu", "elu") for p in a
    )


def test_log_uniform_is_uniform_in_the_log():
    rng = random.Random(1)
    draws = [math.log10(S.LogUniform(1e-4, 1.0).sample(rng)) for _ in range(4000)]
    assert stats.kstest(draws, stats.uniform(loc=-4, scale=4).cdf).pvalue > 1e-3
    # a plain uniform on [1e-4, 1] would put ~90 % of the draws above 0.1; log-uniform puts 25 %
    assert abs(sum(d > -1 for d in draws) / 4000 - 0.25) < 0.03


def test_uniform_and_choice_distributions():
    rng = random.Random(2)
    u = [S.Uniform(-1.0, 3.0).sample(rng) for _ in range(4000)]
    assert stats.kstest(u, stats.uniform(loc=-1, scale=4).cdf).pvalue > 1e-3
    c = [S.Choice(("a", "b", "c")).sample(rng) for _ in range(3000)]
    counts = [c.count(x) for x in "abc"]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_grid_enumerates_every_combination_in_order():
    g = S.grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(g) == 6
    assert g[0] == {"a": 1, "b": "x"} and g[1] == {"a": 1, "b": "y"} and g[-1] == {"a": 2, "b": "z"}
    assert len({tuple(p.items()) for p in g}) == 6


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_grid_size_is_the_product(sizes):
    values = {f"p{i}": list(range(n)) for i, n in enumerate(sizes)}
    assert len(S.grid(values)) == math.prod(sizes)


def test_grid_search_finds_the_grid_optimum():
    trials = S.grid_search(quadratic, {"lr": [1e-4, 1e-2, 1.0], "wd": [0.0, 0.1], "act": ["relu"]})
    assert len(trials) == 6
    assert S.best_trial(trials).params == {"lr": 1e-2, "wd": 0.0, "act": "relu"}


def test_random_search_is_reproducible_and_scores_the_curve_minimum():
    a = S.random_search(quadratic, SPACE, 12, seed=5)
    b = S.random_search(quadratic, SPACE, 12, seed=5)
    assert [t.params for t in a] == [t.params for t in b]
    assert all(t.score == min(t.curve) and len(t.curve) == 5 for t in a)


def test_scalar_objective_and_nan_counts_as_worst():
    trials = S.grid_search(lambda p: p["x"], {"x": [float("nan"), 2.0, 1.0]})
    assert [t.curve for t in trials][1:] == [[2.0], [1.0]]
    assert math.isinf(trials[0].score)
    assert S.best_trial(trials).params == {"x": 1.0}


def test_narrow_box_is_centered_and_clipped():
    box = S.narrow(SPACE, {"lr": 1e-2, "wd": 0.0, "act": "elu"}, shrink=0.5)
    assert math.isclose(box["lr"].low, 1e-3) and math.isclose(box["lr"].high, 1e-1)
    assert box["wd"].low == 0.0 and math.isclose(box["wd"].high, 0.025)
    assert box["act"].options == ("elu",)


def test_coarse_to_fine_draws_the_fine_round_in_the_narrowed_box():
    trials = S.coarse_to_fine(quadratic, SPACE, 10, 6, seed=0, shrink=0.25)
    assert len(trials) == 16
    best = S.best_trial(trials[:10]).params
    box = S.narrow(SPACE, best, 0.25)
    for t in trials[10:]:
        assert box["lr"].low <= t.params["lr"] <= box["lr"].high
        assert t.params["act"] == best["act"]
    assert S.best_trial(trials).score <= S.best_trial(trials[:10]).score


def test_coarse_to_fine_beats_random_on_the_same_budget_usually():
    wins = 0
    for seed in range(40):
        c2f = S.best_trial(S.coarse_to_fine(quadratic, SPACE, 6, 6, seed=seed)).score
        rnd = S.best_trial(S.random_search(quadratic, SPACE, 12, seed=seed)).score
        wins += c2f <= rnd
    assert wins >= 26  # a clear majority of 40


def test_median_rule_on_synthetic_curves():
    rule = S.MedianRule(warmup=2, min_trials=3)
    others = [[1.0, 0.8, 0.6], [1.0, 0.7, 0.5], [1.0, 0.9, 0.7]]
    assert not rule.should_stop([5.0], others)  # warmup
    assert rule.should_stop([5.0, 4.0], others)  # worse than the median 0.8
    assert not rule.should_stop([1.0, 0.75], others)  # better than the median
    assert not rule.should_stop([5.0, 4.0], others[:2])  # too few peers
    assert not rule.should_stop([0.5, float("nan")], others)  # its best so far, 0.5, counts
    assert rule.should_stop([float("nan"), float("nan")], others)


def test_early_stopping_saves_epochs_and_keeps_the_best():
    def curve(params):
        return [params["x"] + 1.0 / (t + 1) for t in range(10)]

    space = {"x": S.Uniform(0.0, 10.0)}
    full = S.random_search(curve, space, 20, seed=0)
    early = S.random_search(curve, space, 20, seed=0, early_stop=S.MedianRule())
    assert sum(len(t.curve) for t in early) < 0.7 * sum(len(t.curve) for t in full)
    assert S.best_trial(early).params == S.best_trial(full).params
    assert any(t.stopped for t in early) and not any(t.stopped for t in full)


def test_objective_is_consumed_lazily():
    seen = []

    def gen(params):
        for t in range(10):
            seen.append(t)
            yield 100.0 * params["x"] + t

    S.random_search(gen, {"x": S.Uniform(0.0, 1.0)}, 8, seed=1, early_stop=S.MedianRule())
    assert len(seen) < 80


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: S.LogUniform(0.0, 1.0), ValueError),
        (lambda: S.LogUniform(1.0, 0.1), ValueError),
        (lambda: S.Uniform(1.0, 1.0), ValueError),
        (lambda: S.Uniform("0", 1.0), TypeError),
        (lambda: S.Choice(()), ValueError),
        (lambda: S.Choice("ab"), TypeError),
        (lambda: S.sample({}, 3), TypeError),
        (lambda: S.sample({"lr": (1e-3, 1e-1)}, 3), TypeError),
        (lambda: S.sample(SPACE, 0), ValueError),
        (lambda: S.sample(SPACE, 2.5), TypeError),
        (lambda: S.grid({"a": []}), ValueError),
        (lambda: S.grid([1, 2]), TypeError),
        (lambda: S.narrow(SPACE, {"lr": 0.1}), ValueError),
        (lambda: S.narrow(SPACE, {"lr": 0.1, "wd": 0.0, "act": "relu"}, shrink=0), ValueError),
        (lambda: S.MedianRule(warmup=0), ValueError),
        (lambda: S.random_search("f", SPACE, 3), TypeError),
        (lambda: S.best_trial([]), ValueError),
        (lambda: S.grid_search(lambda p: [], {"a": [1]}), ValueError),
    ],
)
def test_bad_input(make, error):
    with pytest.raises(error):
        make()

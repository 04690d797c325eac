"""Tests of dlcourse.experiments.initialization_theory against the theory the book derives."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcourse.data import load_digits
from dlcourse.experiments.initialization_theory import (
    RULES,
    SweepRun,
    depth_lr_sweep,
    gain_table,
    growing_widths,
    plot_sweep,
    second_moment,
    sweep_table,
    training_verdict,
    variance_flow,
    variance_flow_theory,
    weight_variance,
)

LN10 = math.log(10)


# --- section 1: forward and backward --------------------------------------------------------------

def test_growing_widths_is_geometric_from_start_to_stop():
    widths = growing_widths(256, 1024, 8)
    assert widths[0] == 256 and widths[-1] == 1024 and len(widths) == 9
    ratios = [b / a for a, b in zip(widths[:-1], widths[1:])]
    assert all(abs(r - 2 ** 0.25) < 0.01 for r in ratios)


@pytest.mark.parametrize("kwargs, error", [
    ({"start": 0}, ValueError), ({"depth": 0}, ValueError), ({"stop": 2.5}, TypeError),
    ({"depth": True}, TypeError)])
def test_growing_widths_rejects_bad_sizes(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        growing_widths(**kwargs)


def test_weight_variance_rules():
    assert weight_variance(256, 1024, "fan_in") == 1 / 256
    assert weight_variance(256, 1024, "fan_out") == 1 / 1024
    assert weight_variance(256, 1024, "average") == 2 / 1280
    with pytest.raises(ValueError, match="rule='fan'"):
        weight_variance(256, 1024, "fan")  # type: ignore[arg-type]


def test_average_rule_is_torchs_xavier_normal():
    g = torch.Generator().manual_seed(0)
    w = torch.nn.init.xavier_normal_(torch.empty(1024, 256), generator=g)
    expected = math.sqrt(weight_variance(256, 1024, "average"))
    assert abs(w.std().item() / expected - 1) < 0.01


def test_theory_fan_in_keeps_forward_fan_out_keeps_backward():
    widths = growing_widths(64, 256, 4)
    fan_in = variance_flow_theory(widths, "fan_in")
    fan_out = variance_flow_theory(widths, "fan_out")
    assert all(abs(v - 1) < 1e-12 for v in fan_in["forward"] + fan_out["backward"])
    # the other direction changes by the total width ratio 256/64 = 4, the one up, the other down
    assert math.isclose(fan_in["backward"][-1], 4.0) and math.isclose(fan_out["forward"][-1], 0.25)
    average = variance_flow_theory(widths, "average")
    # Xavier's distortions sit between: forward below 1, backward above 1, each less than 4
    assert 0.25 < average["forward"][-1] < 1 < average["backward"][-1] < 4


@pytest.mark.parametrize("rule", RULES)
def test_measured_variance_flow_matches_theory(rule):
    widths = growing_widths(64, 256, 4)
    measured = variance_flow(widths, rule, batch=4096, seed=1)
    theory = variance_flow_theory(widths, rule)
    for key in ("forward", "backward"):
        assert len(measured[key]) == 4
        assert all(abs(m / t - 1) < 0.15 for m, t in zip(measured[key], theory[key])), key


def test_variance_flow_backward_is_autograds_gradient():
    widths = [8, 16, 32]
    g = torch.Generator().manual_seed(0)
    ws = [torch.randn(o, i, generator=g) * math.sqrt(weight_variance(i, o, "fan_in"))
          for i, o in zip(widths[:-1], widths[1:])]
    x = torch.randn(4096, widths[0], generator=g, requires_grad=True)
    G = torch.randn(4096, widths[-1], generator=g)
    (x @ ws[0].T @ ws[1].T).backward(G)
    measured = variance_flow(widths, "fan_in", batch=4096, seed=0)
    assert math.isclose(measured["backward"][-1], x.grad.var().item(), rel_tol=1e-4)


def test_variance_flow_rejects_one_width():
    with pytest.raises(ValueError, match="widths"):
        variance_flow([256], "fan_in")


# --- section 2: gain -----------------------------------------------------------------------------

def test_second_moment_of_known_functions():
    assert math.isclose(second_moment(lambda z: z), 1.0, rel_tol=1e-12)
    assert math.isclose(second_moment(lambda z: z**2), 3.0, rel_tol=1e-10)  # E[z^4] = 3
    assert math.isclose(second_moment(lambda z: z, std=2.0), 4.0, rel_tol=1e-12)
    assert abs(second_moment(lambda z: (z > 0) * z) - 0.5) < 1e-3  # a kink: quadrature is close


def test_second_moment_rejects_bad_arguments():
    with pytest.raises(TypeError, match="nodes"):
        second_moment(np.tanh, nodes=10.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="std"):
        second_moment(np.tanh, std=0.0)


def test_plot_sweep_rejects_no_runs():
    with pytest.raises(ValueError, match="runs"):
        plot_sweep([])


def test_gain_table_matches_the_derivations_and_torch():
    rows = {r["activation"]: r for r in gain_table(slope=0.2)}
    assert math.isclose(rows["linear"]["forward"], 1.0, rel_tol=1e-9)
    assert abs(rows["relu"]["forward"] - math.sqrt(2)) < 2e-3
    assert math.isclose(rows["relu"]["backward, small z"], math.sqrt(2))
    leaky = math.sqrt(2 / (1 + 0.2**2))
    assert abs(rows["leaky_relu(0.2)"]["forward"] - leaky) < 2e-3
    assert math.isclose(rows["leaky_relu(0.2)"]["torch"], leaky)
    assert math.isclose(rows["tanh"]["backward, small z"], 1.0)
    assert math.isclose(rows["sigmoid"]["backward, small z"], 4.0)
    assert 1.55 < rows["tanh"]["forward"] < 1.62 < rows["tanh"]["torch"]
    assert abs(rows["selu"]["E[f(z)²]"] - 1) < 2e-3  # SELU is built to keep unit variance
    for name in ("linear", "tanh", "sigmoid", "relu", "selu"):
        assert rows[name]["torch"] == torch.nn.init.calculate_gain(name)


def test_gain_table_rejects_bad_slope():
    with pytest.raises(ValueError, match="slope"):
        gain_table(slope=1.5)
    with pytest.raises(TypeError, match="slope"):
        gain_table(slope="0.2")  # type: ignore[arg-type]


# --- section 3: depth and learning rate ----------------------------------------------------------

@pytest.mark.parametrize("loss, verdict", [
    (math.nan, "diverged"), (math.inf, "diverged"), (LN10, "at chance"), (2.29, "at chance"),
    (3.0, "at chance"), (2.0, "slow"), (0.7, "slow"), (0.2, "trains")])
def test_training_verdict(loss, verdict):
    assert training_verdict(loss) == verdict


def test_training_verdict_rejects_bad_arguments():
    with pytest.raises(TypeError, match="loss"):
        training_verdict("2.3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="good"):
        training_verdict(1.0, good=2.5)


def test_sweep_run_best_skips_non_finite_epochs():
    assert SweepRun(3, 0.1, "xavier_normal", 0, [2.3, 1.0, math.nan]).best == 1.0
    assert SweepRun(3, 0.1, "xavier_normal", 0, [math.nan, math.nan]).best == math.inf


def test_sweep_table_takes_the_median_over_seeds():
    runs = [SweepRun(30, 0.1, "xavier_normal", s, [LN10, LN10]) for s in range(3)]
    runs += [SweepRun(30, 0.1, "kaiming_normal", s, [LN10, v]) for s, v in enumerate(
        (0.1, 1.5, math.nan))]  # median of (0.1, 1.5, inf) is 1.5: one odd run does not decide
    runs += [SweepRun(30, 0.01, "kaiming_normal", 0, [0.2])]
    rows = sweep_table(runs)
    assert rows == [
        {"depth": 30, "init": "kaiming_normal", "lr 0.01": "trains", "lr 0.1": "slow"},
        {"depth": 30, "init": "xavier_normal", "lr 0.01": "-", "lr 0.1": "at chance"}]


def test_depth_lr_sweep_runs_every_combination():
    digits = load_digits()
    train = (digits.X_train[:64], digits.y_train[:64])
    runs = depth_lr_sweep(train, depths=(1, 2), lrs=(0.1,), seeds=(0, 1), width=8, epochs=2)
    assert len(runs) == 2 * 1 * 2 * 2
    assert {(r.depth, r.init, r.seed) for r in runs} == {
        (d, i, s) for d in (1, 2) for i in ("xavier_normal", "kaiming_normal") for s in (0, 1)}
    assert all(len(r.loss) == 2 and math.isfinite(r.best) and r.grad0 > 0 for r in runs)
    again = depth_lr_sweep(train, depths=(2,), lrs=(0.1,), seeds=(1,), width=8, epochs=2)
    assert again[0].loss == next(r.loss for r in runs if (r.depth, r.seed) == (2, 1))
    fig = plot_sweep(runs, title="sweep")
    assert len(fig.axes[0].get_lines()) == 2 + 1  # two (init, lr) lines and ln 10

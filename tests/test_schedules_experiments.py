"""Tests of the chapters' demos: experiments.schedules and .clipping, viz.plot_schedules."""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from dlcourse.experiments import clipping, schedules
from dlcourse.viz import plot_schedules


@pytest.fixture(scope="module")
def data():
    return schedules.digits_splits(seed=0)


def test_splits_are_disjoint_and_sized(data):
    assert [len(data[k][0]) for k in ("train", "valid", "test")] == [1077, 270, 450]


@pytest.mark.parametrize(
    ("loss", "band"), [(0.001, "< 0.01"), (0.05, "0.01-0.1"), (0.5, "0.1-1"), (math.inf, "> 1")]
)
def test_loss_band(loss, band):
    assert schedules.loss_band(loss) == band


@pytest.mark.parametrize("name", [n for n in schedules.SCHEDULES if n != "constant"])
def test_schedule_curves_start_at_lr_and_end_lower(name):
    lrs, moms = schedules.schedule_curve(name, lr=0.1, epochs=20, steps_per_epoch=17)
    assert len(lrs) == len(moms) == 340
    assert lrs[-1] < 0.1 / 10
    assert (max(lrs) == pytest.approx(0.1, rel=1e-3)) and (name == "1cycle") == (lrs[0] < 0.01)
    assert (name == "1cycle") == (len(set(moms)) > 1)


def test_training_is_a_function_of_its_arguments(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a correctly stepped schedule never warns
        a = schedules.train_scheduled("exponential", 0.1, epochs=2, seed=3, data=data)
        b = schedules.train_scheduled("exponential", 0.1, epochs=2, seed=3, data=data)
    assert a.step_loss == b.step_loss and len(a.step_loss) == 34 and a.final_loss < 2.3
    assert a.lrs[17] == pytest.approx(0.1 * 10 ** (-17 / 17))  # r = half of the 34 steps


def test_per_epoch_stepping_warns_and_slows_the_schedule(data):
    with pytest.warns(UserWarning, match="counts batches"):
        run = schedules.train_scheduled("exponential", 0.1, epochs=3, data=data, per_epoch=True)
    assert run.lrs[-1] == pytest.approx(0.1 * 10 ** (-2 / 25.5))


def test_too_high_rate_diverges(data):
    run = schedules.train_constant(5.0, epochs=1, data=data)
    assert run.diverged and run.final_loss == math.inf and len(run.step_loss) < 17


def test_bad_schedule_name():
    with pytest.raises(ValueError, match="name"):
        schedules.train_scheduled("cosine", 0.1)


def test_stack_gradients_grow_like_gain_per_layer():
    norms = clipping.stack_gradient_norms(depth=30, width=256, gain=1.3, seed=0)
    assert len(norms) == 31
    assert (norms[0] / norms[-1]) ** (1 / 30) == pytest.approx(1.3, rel=0.03)


def test_clip_angles():
    result = clipping.clip_angles(torch.tensor([10.0, 0.5]), 1.0)
    assert result["value_angle"] == pytest.approx(math.degrees(math.atan(0.5) - math.atan(0.05)))
    assert result["norm_angle"] < 1e-3 and result["norm_norm"] == pytest.approx(1.0, rel=1e-5)


def test_clipping_by_norm_saves_the_run_that_diverges(data):
    none = clipping.train_clipped("none", epochs=1, data=data)
    norm = clipping.train_clipped("norm", 1.0, epochs=1, data=data)
    assert none.diverged and not norm.diverged and norm.test_accuracy > 0.2
    assert len(norm.grad_norms) == 17


def test_plot_schedules():
    fig = plot_schedules({"a": [0.1, 0.05]}, momenta={"a": [0.9, 0.9]})
    assert len(fig.axes) == 2
    assert len(plot_schedules({"a": [0.1, 0.05]}).axes) == 1
    with pytest.raises(ValueError, match="non-empty"):
        plot_schedules({})
    with pytest.raises(ValueError, match="curves"):
        plot_schedules({"a": []})

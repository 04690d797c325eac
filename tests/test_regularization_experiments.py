"""Tests of dlcourse.experiments.regularization: the chapter's demo helpers on tiny inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import dlcourse
from dlcourse.data import load_digits
from dlcourse.experiments.regularization import (
    drop_net,
    dropout_outputs,
    mask_average_accuracy,
    mask_expectation,
    small_split,
    train_run,
    weight_stats,
    zero_grad_rows,
)
from dlcourse.nn import ClassicDropout, Dropout


@pytest.fixture(scope="module")
def data():
    return small_split(load_digits(), n_train=60, n_valid=40)


def test_small_split_shapes_and_dtype(data):
    assert data["train"][0].shape == (60, 64) and data["valid"][0].shape == (40, 64)
    assert data["train"][0].dtype == torch.float64


def test_mask_expectation_matches_the_formula():
    a = torch.rand(50, dtype=torch.float64, generator=dlcourse.generator(0))
    w = torch.randn(50, dtype=torch.float64, generator=dlcourse.generator(1))
    e = mask_expectation(a, w, keep_prob=0.7, n_masks=50_000, seed=2)
    assert abs(e["train classic"] - e["test classic (q·w)·a"]) < 5 * e["std error"]
    assert e["test classic (q·w)·a"] == pytest.approx(0.7 * e["test w·a"])


def test_drop_net_layout():
    net = drop_net(0.2)
    kinds = [type(m) for m in net]
    assert kinds.count(Dropout) == 3 and kinds.count(nn.Linear) == 3 and kinds[0] is Dropout
    assert type(drop_net(0.2, input_drop=False)[0]) is nn.Linear
    assert ClassicDropout in [type(m) for m in drop_net(0.5, classic=True)]
    assert Dropout not in [type(m) for m in drop_net(0.0)]
    assert all((m.bias == 0).all() for m in net if isinstance(m, nn.Linear))
    with pytest.raises(ValueError, match="rate"):
        drop_net(1.0)


def test_dropout_outputs_means():
    h = torch.rand(400, 300, dtype=torch.float64, generator=dlcourse.generator(3))
    out = dropout_outputs(h, keep_prob=0.5, seed=1)
    assert out["test classic (q·h)"].mean().item() == pytest.approx(
        out["train (mask)"].mean().item(), rel=0.02
    )
    assert torch.equal(out["train inverted (mask / q)"], out["train (mask)"] / 0.5)


def test_training_helpers(data):
    run = train_run(data, "l1", 0.01, epochs=3, seed=0)
    assert run.history.epochs_run == 3 and len(run.history.valid_loss) == 3
    stats = weight_stats(run.net)
    assert stats["rms"] > 0 and 0 <= stats["% near zero"] <= 100
    run = train_run(data, "dropout", 0.5, epochs=3, seed=0)
    acc = mask_average_accuracy(run.net, *data["valid"], n_masks=(1, 5))
    assert set(acc) == {"weight scaling", "1 mask", "5 masks"}
    assert not run.net.training
    with pytest.raises(ValueError, match="penalty"):
        train_run(data, "l3", 0.1, epochs=1)


def test_zero_grad_rows_one_example_vs_batch(data):
    X, y = data["train"]
    net = drop_net(0.5, input_drop=False)
    assert 30 < zero_grad_rows(net, X[:1], y[:1]) < 70
    assert zero_grad_rows(net, X[:40], y[:40]) == 0

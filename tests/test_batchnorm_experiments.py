"""Tests of dlcourse.experiments.batchnorm and of lab 5's NumPy references (dlcourse.labs)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlcourse.experiments.batchnorm import (
    RunResult,
    bn_mlp,
    count_ops,
    eval_mode_accuracies,
    fuse_mlp,
    median_of,
    normalize,
    param_counts,
    sweep_table,
    train_run,
)
from dlcourse.labs import _lab05_checks as ref
from dlcourse.nn import BatchNorm1d

F64 = torch.float64


def test_normalize_matches_pytorch_for_every_kind():
    x = torch.randn(4, 6, 3, 3, dtype=F64, generator=torch.Generator().manual_seed(0)) * 3 + 1
    expected = {
        "batch": nn.functional.batch_norm(x, None, None, training=True),
        "layer": nn.functional.layer_norm(x, x.shape[1:]),
        "instance": nn.functional.instance_norm(x),
        "group": nn.functional.group_norm(x, 2),
    }
    for kind, want in expected.items():
        torch.testing.assert_close(normalize(x, kind, groups=2), want)
    with pytest.raises(ValueError, match="kind must be one of"):
        normalize(x, "weight")


def test_param_counts_are_keras_counts():
    assert param_counts(BatchNorm1d(32)) == (64, 64)
    assert param_counts(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))) == (12, 4)


@pytest.mark.parametrize(
    "placement, kinds",
    [
        ("before", [nn.Linear, BatchNorm1d, nn.ReLU, nn.Linear]),
        ("after", [nn.Linear, nn.ReLU, BatchNorm1d, nn.Linear]),
        ("none", [nn.Linear, nn.ReLU, nn.Linear]),
    ],
)
def test_bn_mlp_places_batch_norm(placement, kinds):
    net = bn_mlp([50, 40, 3], placement, weight_scale=2.0, seed=1)
    assert [type(m) for m in net] == kinds
    assert net[0].weight.dtype == F64
    std = net[0].weight.std().item()  # 2,000 draws: within 10 % of 2·√(2/50)
    assert abs(std / (2 * math.sqrt(2 / 50)) - 1) < 0.1


def tiny_data(n=96, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=gen)
    return X, (X[:, 0] > 0).long()


def test_train_run_learns_and_fuse_mlp_keeps_outputs():
    X, y = tiny_data()
    net = bn_mlp([4, 8, 2], "before", seed=0)
    result = train_run(net, (X, y), (X, y), lr=0.5, epochs=20, batch_size=16)
    assert not result.diverged and result.test_acc > 0.9
    fused = fuse_mlp(net.eval())
    torch.testing.assert_close(fused(X.double()), net(X.double()))
    assert count_ops(fused)["batch-norm ops"] == 0 and count_ops(net)["batch-norm ops"] == 32
    assert count_ops(net)["linear multiply-adds"] == 4 * 8 + 8 * 2


def test_run_results_summaries():
    runs = [RunResult(0.1, 0.9), RunResult(math.nan, 0.1), RunResult(0.3, 0.8)]
    assert RunResult(3.0, 0.1).diverged and not runs[0].diverged
    assert median_of(runs, "train_loss") == 0.3 and median_of(runs, "test_acc") == 0.8
    table = sweep_table({("none", 0.1, 1.0): runs, ("before", 3.0, 1.0): runs[1:2]}, key=1)
    assert "1/3 diverged" in table and "diverged  test accuracy      —" in table


def test_forgetting_eval_with_one_class_per_batch_is_caught():
    X, y = tiny_data(200)
    net = bn_mlp([4, 16, 2], "before", seed=0)
    train_run(net, (X, y), (X, y), lr=0.5, epochs=20, batch_size=20)
    accs = eval_mode_accuracies(net, X, y, batch_size=10)
    assert accs["eval()"] > 0.9
    assert accs["train mode, one class per batch of 10"] < accs["eval()"] - 0.2
    assert not net.training


# --- lab 5's references agree with PyTorch, and every mistake differs from the answer -----------


def test_lab05_forward_and_step_references_match_pytorch():
    x = ref.data(6, 3, 2, 2, seed=1)
    gamma, beta = np.array([1.0, 2, 0.5]), np.array([0.0, -1, 2])
    layer = nn.BatchNorm2d(3, dtype=F64, momentum=0.3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(gamma))
        layer.bias.copy_(torch.tensor(beta))
    y = layer(torch.tensor(x)).detach().numpy()
    got = ref.step_ref(x, gamma, beta, np.zeros(3), np.ones(3), True, momentum=0.3)
    np.testing.assert_allclose(got[0], y, atol=1e-12)
    np.testing.assert_allclose(got[1], layer.running_mean.numpy(), atol=1e-12)
    np.testing.assert_allclose(got[2], layer.running_var.numpy(), atol=1e-12)
    layer.eval()
    got = ref.step_ref(x, gamma, beta, got[1], got[2], False)
    np.testing.assert_allclose(got[0], layer(torch.tensor(x)).detach().numpy(), atol=1e-12)


def test_lab05_backward_and_fuse_references_match_pytorch():
    x, dy = ref.data(7, 3, seed=2), ref.data(7, 3, seed=3)
    gamma = np.array([0.5, 1.0, 2.0])
    xt, gt = torch.tensor(x, requires_grad=True), torch.tensor(gamma, requires_grad=True)
    bt = torch.zeros(3, dtype=F64, requires_grad=True)
    nn.functional.batch_norm(xt, None, None, gt, bt, training=True).backward(torch.tensor(dy))
    dx, dgamma, dbeta = ref.backward_ref(dy, x, gamma)
    for got, want in ((dx, xt.grad), (dgamma, gt.grad), (dbeta, bt.grad)):
        np.testing.assert_allclose(got, want.numpy(), atol=1e-10)
    w, b = ref.data(3, 5, seed=4), np.array([0.1, -0.2, 0.3])
    mean, var = np.array([0.5, 0.0, -1.0]), np.array([1.0, 2.0, 0.5])
    fw, fb = ref.fuse_ref(w, b, mean, var, gamma, np.zeros(3))
    z = x[:, :1] @ np.ones((1, 5)) @ w.T + b
    bn = (z - mean) / np.sqrt(var + 1e-5) * gamma
    np.testing.assert_allclose(x[:, :1] @ np.ones((1, 5)) @ fw.T + fb, bn, atol=1e-10)


def vec(n, seed, low=0.5, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, n)


@pytest.mark.parametrize(
    "mistakes, calls",
    [
        (
            ref.FORWARD_MISTAKES,
            [lambda m: ref.forward_ref(ref.data(4, 2, 3, 3), vec(2, 1), vec(2, 2), 1e-3, m)],
        ),
        (
            ref.BACKWARD_MISTAKES,
            [
                lambda m: ref.backward_ref(
                    ref.data(5, 2, seed=1), ref.data(5, 2), vec(2, 3), 1e-5, m
                )
            ],
        ),
        (
            ref.STEP_MISTAKES,
            [
                lambda m, t=t: ref.step_ref(
                    ref.data(5, 2), vec(2, 4), vec(2, 5), vec(2, 6), vec(2, 7), t, 0.1, 1e-5, m
                )
                for t in (True, False)
            ],
        ),
        (
            ref.FUSE_MISTAKES,
            [
                lambda m: ref.fuse_ref(
                    ref.data(2, 3),
                    vec(2, 8),
                    vec(2, 9),
                    vec(2, 10),
                    vec(2, 11),
                    vec(2, 12),
                    1e-5,
                    m,
                )
            ],
        ),
    ],
)
def test_lab05_every_mistake_changes_the_answer(mistakes, calls):
    def differs(call, mistake):
        right = [np.ravel(a) for a in call("")]
        wrong = [np.ravel(a) for a in call(mistake)]
        return any(r.size != w.size or not np.allclose(r, w) for r, w in zip(right, wrong))

    for mistake in mistakes:
        assert any(differs(call, mistake) for call in calls), mistake

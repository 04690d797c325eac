"""Tests of dlcourse.regularize: penalties, their gradients, biases left out, L2 as weight decay.

L2 equals SGD's weight decay exactly, and differs from Adam's decoupled decay (AdamW).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import dlcourse
from dlcourse.regularize import l1_penalty, l2_penalty, penalized


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def test_penalized_skips_biases():
    net = _net()
    assert [p.shape for p in penalized(net)] == [(8, 4), (3, 8)]
    assert len(penalized(net, include_bias=True)) == 4


def test_values_against_formulas():
    net = _net()
    w = [net[0].weight, net[2].weight]
    l2 = 0.5 * 0.1 * sum((v**2).sum() for v in w)
    l1 = 0.1 * sum(v.abs().sum() for v in w)
    torch.testing.assert_close(l2_penalty(net, 0.1), l2, rtol=1e-14, atol=0)
    torch.testing.assert_close(l1_penalty(net, 0.1), l1, rtol=1e-14, atol=0)
    assert l2_penalty(net, 0.1, include_bias=True) > l2_penalty(net, 0.1)


def test_gradients():
    net = _net()
    l2_penalty(net, 0.3).backward()
    torch.testing.assert_close(net[0].weight.grad, 0.3 * net[0].weight)
    assert net[0].bias.grad is None
    net.zero_grad()
    l1_penalty(net, 0.3).backward()
    torch.testing.assert_close(net[2].weight.grad, 0.3 * net[2].weight.sign())


def _train(net, optimizer, penalty, steps=5):
    X = torch.randn(32, 4, dtype=torch.float64, generator=dlcourse.generator(1))
    y = torch.randint(0, 3, (32,), generator=dlcourse.generator(2))
    for _ in range(steps):
        loss = nn.functional.cross_entropy(net(X), y) + penalty(net)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return net


def test_l2_penalty_is_sgd_weight_decay():
    a, b = _net(), _net()
    _train(
        a, torch.optim.SGD(a.parameters(), lr=0.1), lambda m: l2_penalty(m, 0.01, include_bias=True)
    )
    _train(b, torch.optim.SGD(b.parameters(), lr=0.1, weight_decay=0.01), lambda m: 0.0)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-12, atol=1e-14)


def test_l2_penalty_is_not_adamw_decay():
    a, b = _net(), _net()
    _train(
        a,
        torch.optim.Adam(a.parameters(), lr=0.01),
        lambda m: l2_penalty(m, 0.1, include_bias=True),
    )
    _train(b, torch.optim.AdamW(b.parameters(), lr=0.01, weight_decay=0.1), lambda m: 0.0)
    diff = max((pa - pb).abs().max().item() for pa, pb in zip(a.parameters(), b.parameters()))
    assert diff > 1e-3


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(-10, 10), min_size=1, max_size=20), lam=st.floats(0, 5))
def test_penalties_are_non_negative_and_l1_dominates_near_zero(values, lam):
    w = torch.tensor(values, dtype=torch.float64)
    assert l2_penalty([w], lam).item() >= 0 and l1_penalty([w], lam).item() >= 0
    small = w / (w.abs().max() + 1)  # |w| < 1: |w| >= w²/2
    assert l1_penalty([small], lam).item() >= l2_penalty([small], lam).item() - 1e-12


def test_empty_model_gives_zero():
    assert l2_penalty(nn.Sequential(), 1.0).item() == 0.0


@pytest.mark.parametrize(
    "call, error, phrase",
    [
        (lambda: l2_penalty(_net(), -1.0), ValueError, "weight_decay must be"),
        (lambda: l1_penalty(_net(), "big"), TypeError, "weight_decay must be a real number"),
        (lambda: l2_penalty(42, 0.1), TypeError, "nn.Module or an iterable of tensors"),
        (lambda: l2_penalty([1.0, 2.0], 0.1), TypeError, "nn.Module or an iterable of tensors"),
    ],
)
def test_bad_arguments(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()

"""Tests of dlcourse.nn.dropout: both forms' expectations, train/eval behaviour, PyTorch parity."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import dlcourse
from dlcourse.nn import ClassicDropout, Dropout, classic_dropout, dropout, keep_mask


def test_keep_mask_is_bernoulli():
    mask = keep_mask((200_000,), 0.3, dlcourse.generator(0))
    kept = int(mask.sum())
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert stats.binomtest(kept, mask.numel(), 0.3).pvalue > 1e-4


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_inverted_dropout_keeps_the_expectation(p):
    x = torch.full((400_000,), 2.0, dtype=torch.float64)
    y = dropout(x, p, training=True, generator=dlcourse.generator(1))
    kept = y != 0
    assert torch.allclose(y[kept], torch.full_like(y[kept], 2.0 / (1 - p)))
    se = 2.0 / (1 - p) * math.sqrt(p * (1 - p) / x.numel())
    assert abs(y.mean().item() - 2.0) < 5 * se  # E[y] = x
    assert abs(kept.double().mean().item() - (1 - p)) < 0.005  # drop probability p


@pytest.mark.parametrize("keep_prob", [0.2, 0.5, 0.8])
def test_classic_dropout_train_mean_equals_test_output(keep_prob):
    x = torch.full((400_000,), 3.0, dtype=torch.float64)
    train = classic_dropout(x, keep_prob, training=True, generator=dlcourse.generator(2))
    test = classic_dropout(x, keep_prob, training=False)
    assert torch.equal(test, x * keep_prob)
    se = 3.0 * math.sqrt(keep_prob * (1 - keep_prob) / x.numel())
    assert abs(train.mean().item() - test[0].item()) < 5 * se
    assert set(train.unique().tolist()) <= {0.0, 3.0}  # no scaling while training


def test_eval_mode():
    x = torch.randn(5, 7, generator=dlcourse.generator(3))
    inverted, classic = Dropout(0.3), ClassicDropout(keep_prob=0.7)
    inverted.eval()
    classic.eval()
    assert torch.equal(inverted(x), x)
    assert torch.allclose(classic(x), 0.7 * x)


def test_seeded_masks_repeat_and_differ_by_seed():
    x = torch.ones(1000)
    a = Dropout(0.5, generator=dlcourse.generator(4))(x)
    b = Dropout(0.5, generator=dlcourse.generator(4))(x)
    c = Dropout(0.5, generator=dlcourse.generator(5))(x)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_parity_with_torch_dropout_scaling():
    x = torch.rand(300, 40, dtype=torch.float64) + 0.5  # no zeros in the input
    torch.manual_seed(0)
    theirs = torch.nn.Dropout(0.25)(x)
    ours = Dropout(0.25, generator=dlcourse.generator(0))(x)
    for y in (theirs, ours):
        kept = y != 0
        torch.testing.assert_close(y[kept], x[kept] / 0.75, rtol=1e-15, atol=0)
    # with torch's own mask, ours would give the same output
    torch.testing.assert_close(x * (theirs != 0) / 0.75, theirs, rtol=1e-15, atol=0)
    mod = torch.nn.Dropout(0.25).eval()
    assert torch.equal(mod(x), Dropout(0.25).eval()(x))


def test_extreme_probabilities():
    x = torch.randn(10, 10)
    assert torch.equal(dropout(x, 0.0), x)
    assert torch.equal(dropout(x, 1.0), torch.zeros_like(x))
    assert torch.equal(classic_dropout(x, 1.0), x)


def test_gradient_flows_through_kept_units_only():
    x = torch.randn(50, 20, dtype=torch.float64, requires_grad=True)
    y = dropout(x, 0.4, generator=dlcourse.generator(6))
    y.sum().backward()
    kept = y != 0
    torch.testing.assert_close(x.grad[kept], torch.full_like(x.grad[kept], 1 / 0.6))
    assert (x.grad[~kept] == 0).all()


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    p=st.floats(0.0, 0.99),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_shape_and_dtype_preserved(shape, p, dtype):
    x = torch.randn(*shape, dtype=dtype)
    for y in (
        dropout(x, p, generator=dlcourse.generator(0)),
        classic_dropout(x, 1 - p, generator=dlcourse.generator(0)),
    ):
        assert y.shape == x.shape and y.dtype == dtype
    # the same generator state draws the same mask for both forms: y_inverted = y_classic / q
    torch.testing.assert_close(
        dropout(x, p, generator=dlcourse.generator(1)) * (1 - p),
        classic_dropout(x, 1 - p, generator=dlcourse.generator(1)),
    )


@pytest.mark.parametrize(
    "call, error, phrase",
    [
        (lambda: Dropout(1.5), ValueError, "p must be"),
        (lambda: Dropout(-0.1), ValueError, "p must be"),
        (lambda: Dropout("0.5"), TypeError, "p must be a real number"),
        (lambda: ClassicDropout(keep_prob=0.0), ValueError, "keep_prob must be"),
        (lambda: ClassicDropout(keep_prob=2), ValueError, "keep_prob must be"),
        (lambda: Dropout(0.5, generator=0), TypeError, "generator"),
        (lambda: dropout([1.0, 2.0], 0.5), TypeError, "input"),
    ],
)
def test_bad_arguments(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_repr_names_the_probability():
    assert "p=0.2" in repr(Dropout(0.2))
    assert "keep_prob=0.8" in repr(ClassicDropout(keep_prob=0.8))

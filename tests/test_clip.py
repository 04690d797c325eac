"""Tests of dlcourse.nn.clip: parity with torch.nn.utils.clip_grad_*, properties, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.nn import clip_grad_norm_, clip_grad_value_


def _pair(seed: int, scale: float = 5.0, shapes=((3, 4), (5,), (2, 2, 2))):
    g = torch.Generator().manual_seed(seed)
    a = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    b = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for x, y in zip(a, b):
        grad = scale * torch.randn(x.shape, generator=g, dtype=torch.float64)
        x.grad, y.grad = grad.clone(), grad.clone()
    return a, b


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 1.0, 1e6])
def test_clip_norm_matches_torch(norm_type, max_norm):
    a, b = _pair(0)
    n_ours = clip_grad_norm_(a, max_norm, norm_type)
    n_torch = torch.nn.utils.clip_grad_norm_(b, max_norm, float(norm_type))
    torch.testing.assert_close(n_ours, n_torch, rtol=1e-12, atol=0)
    for x, y in zip(a, b):
        torch.testing.assert_close(x.grad, y.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("clip", [0.0, 0.3, 1.0, 100.0])
def test_clip_value_matches_torch(clip):
    a, b = _pair(1)
    assert clip_grad_value_(a, clip) is None
    torch.nn.utils.clip_grad_value_(b, clip)
    for x, y in zip(a, b):
        torch.testing.assert_close(x.grad, y.grad, rtol=0, atol=0)


@given(seed=st.integers(0, 2**16), scale=st.floats(0.01, 100.0), max_norm=st.floats(0.01, 10.0))
@settings(max_examples=50, deadline=None)
def test_norm_clipping_keeps_direction_and_caps_norm(seed, scale, max_norm):
    a, _ = _pair(seed, scale)
    before = torch.cat([x.grad.flatten() for x in a])
    norm = clip_grad_norm_(a, max_norm)
    after = torch.cat([x.grad.flatten() for x in a])
    assert norm.item() == pytest.approx(before.norm().item(), rel=1e-12)
    assert after.norm().item() <= max_norm * (1 + 1e-9)
    assert torch.nn.functional.cosine_similarity(before, after, dim=0).item() == pytest.approx(1.0)


def test_value_clipping_turns_the_gradient():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([10.0, 0.5])
    clip_grad_value_(p, 1.0)
    assert p.grad.tolist() == [1.0, 0.5]  # direction moved from (1, 0.05) toward the diagonal


def test_parameters_without_grad_are_skipped_and_a_single_tensor_works():
    p, q = torch.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    p.grad = torch.full((3,), 4.0)
    norm = clip_grad_norm_([p, q], 1.0)
    assert norm.item() == pytest.approx(math.sqrt(48)) and q.grad is None
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(1.0, rel=1e-5)
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_nonfinite_norm():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = torch.zeros(2, requires_grad=True)
    q.grad = torch.tensor([float("inf"), 1.0])
    assert math.isinf(clip_grad_norm_(q, 1.0).item())


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p: clip_grad_norm_(p, -1.0), ValueError, "max_norm must be"),
        (lambda p: clip_grad_norm_(p, "1"), TypeError, "max_norm must be a real"),
        (lambda p: clip_grad_norm_(p, 1.0, norm_type=0), ValueError, "norm_type must be"),
        (lambda p: clip_grad_norm_(p, 1.0, norm_type="max"), ValueError, "norm_type must be"),
        (lambda p: clip_grad_value_(p, -0.1), ValueError, "clip_value must be"),
        (lambda p: clip_grad_value_(3.0, 1.0), TypeError, "parameters must be"),
        (lambda p: clip_grad_value_([p, "w"], 1.0), TypeError, "parameters must hold tensors"),
    ],
)
def test_bad_arguments(call, error, match):
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    with pytest.raises(error, match=match):
        call(p)

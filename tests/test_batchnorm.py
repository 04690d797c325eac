"""Tests of dlcourse.nn.batchnorm and dlcourse.nn.fuse: parity with PyTorch, gradients, folding."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlcourse.nn import BatchNorm1d, BatchNorm2d, BatchNormFunction, batch_norm, fuse

F64 = torch.float64
CASES = [
    (BatchNorm1d, nn.BatchNorm1d, (16, 5)),
    (BatchNorm1d, nn.BatchNorm1d, (6, 5, 7)),
    (BatchNorm2d, nn.BatchNorm2d, (4, 5, 3, 3)),
]


def pair(ours_cls, torch_cls, backward="autograd", **kwargs):
    ours = ours_cls(5, dtype=F64, backward=backward, **kwargs)
    theirs = torch_cls(5, dtype=F64, **kwargs)
    if ours.affine:
        with torch.no_grad():
            ours.weight.uniform_(0.5, 2.0, generator=torch.Generator().manual_seed(1))
            if ours.bias is not None:
                ours.bias.normal_(generator=torch.Generator().manual_seed(2))
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


@pytest.mark.parametrize("ours_cls, torch_cls, shape", CASES)
@pytest.mark.parametrize("backward", ["autograd", "manual"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": None},
        {"momentum": 0.3, "eps": 1e-3},
        {"affine": False},
        {"track_running_stats": False},
        {"bias": False},
    ],
)
def test_parity_with_pytorch_over_many_train_and_eval_steps(
    ours_cls, torch_cls, shape, backward, kwargs
):
    ours, theirs = pair(ours_cls, torch_cls, backward, **kwargs)
    gen = torch.Generator().manual_seed(0)
    for step in range(12):
        training = step % 4 != 3
        ours.train(training)
        theirs.train(training)
        x = torch.randn(*shape, dtype=F64, generator=gen) * 3 + 2
        x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
        y1, y2 = ours(x1), theirs(x2)
        torch.testing.assert_close(y1, y2, rtol=1e-12, atol=1e-12)
        grad = torch.randn(y1.shape, dtype=F64, generator=gen)
        y1.backward(grad)
        y2.backward(grad)
        torch.testing.assert_close(x1.grad, x2.grad, rtol=1e-10, atol=1e-12)
        if ours.affine:
            torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
            if ours.bias is not None:
                torch.testing.assert_close(ours.bias.grad, theirs.bias.grad)
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state)
    for key, value in ours.state_dict().items():
        torch.testing.assert_close(value, theirs_state[key], rtol=1e-12, atol=1e-12)


def test_state_dicts_load_both_ways():
    theirs = nn.BatchNorm2d(3)
    theirs(torch.randn(4, 3, 2, 2))
    ours = BatchNorm2d(3)
    ours.load_state_dict(theirs.state_dict())
    assert int(ours.num_batches_tracked) == 1
    back = nn.BatchNorm2d(3)
    back.load_state_dict(ours.state_dict())
    torch.testing.assert_close(back.running_var, theirs.running_var)


def test_running_variance_is_unbiased_and_momentum_weights_the_new_batch():
    bn = BatchNorm1d(1, momentum=0.25)
    x = torch.tensor([[0.0], [2.0], [4.0], [6.0]])  # mean 3, biased var 5, unbiased 20/3
    bn(x)
    assert bn.running_mean.item() == pytest.approx(0.75 * 0 + 0.25 * 3)
    assert bn.running_var.item() == pytest.approx(0.75 * 1 + 0.25 * 20 / 3)
    bn.eval()
    bn(x)
    assert int(bn.num_batches_tracked) == 1, "eval mode must not update the running statistics"


def test_training_output_is_standardized_and_gamma_beta_recover_the_identity():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(64, 4, dtype=F64, generator=gen) * torch.tensor([1.0, 5, 0.1, 20]) + 7
    bn = BatchNorm1d(4, eps=0.0 + 1e-12, dtype=F64)
    y = bn(x)
    torch.testing.assert_close(y.mean(0), torch.zeros(4, dtype=F64), atol=1e-12, rtol=0)
    torch.testing.assert_close(y.var(0, unbiased=False), torch.ones(4, dtype=F64))
    with torch.no_grad():
        bn.weight.copy_(x.var(0, unbiased=False).sqrt())
        bn.bias.copy_(x.mean(0))
    torch.testing.assert_close(bn(x), x)


@pytest.mark.parametrize("shape", [(7, 3), (4, 3, 5), (3, 3, 2, 4)])
def test_manual_backward_passes_gradcheck(shape):
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(*shape, dtype=F64, generator=gen).requires_grad_()
    weight = torch.rand(3, dtype=F64, generator=gen).add(0.5).requires_grad_()
    bias = torch.randn(3, dtype=F64, generator=gen).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda a, w, b: BatchNormFunction.apply(a, w, b, 1e-5)[0], (x, weight, bias)
    )
    assert torch.autograd.gradgradcheck(
        lambda a, w, b: batch_norm(a, None, None, w, b, True, 0.1, 1e-5), (x, weight, bias)
    )


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 9),
    c=st.integers(1, 4),
    spatial=st.lists(st.integers(1, 3), max_size=2),
    scale=st.floats(1e-2, 1e2),
    seed=st.integers(0, 2**16),
)
def test_property_manual_equals_autograd_equals_pytorch(n, c, spatial, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, *spatial, dtype=F64, generator=gen) * scale
    grad = torch.randn(x.shape, dtype=F64, generator=gen)
    grads = []
    for mode in ("autograd", "manual", "torch"):
        a = x.clone().requires_grad_()
        if mode == "torch":
            y = nn.functional.batch_norm(a, None, None, training=True)
        else:
            y = batch_norm(a, None, None, None, None, True, 0.1, 1e-5, backward=mode)
        y.backward(grad)
        grads.append((y.detach(), a.grad))
    for y, g in grads[1:]:
        torch.testing.assert_close(y, grads[0][0], rtol=1e-9, atol=1e-9)
        torch.testing.assert_close(g, grads[0][1], rtol=1e-7, atol=1e-7 / scale)


@pytest.mark.parametrize(
    "layer, bn_cls, shape",
    [
        (nn.Linear(6, 5), BatchNorm1d, (8, 6)),
        (nn.Linear(6, 5, bias=False), nn.BatchNorm1d, (8, 6)),
        (nn.Conv2d(3, 5, 3, padding=1), BatchNorm2d, (4, 3, 6, 6)),
        (nn.Conv2d(3, 5, 3, bias=False), nn.BatchNorm2d, (4, 3, 6, 6)),
        (nn.Conv1d(3, 5, 3), BatchNorm1d, (4, 3, 9)),
    ],
)
def test_fused_layer_equals_layer_then_batch_norm(layer, bn_cls, shape):
    gen = torch.Generator().manual_seed(5)
    layer = layer.double()
    bn = bn_cls(5, dtype=F64)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2, generator=gen)
        bn.bias.normal_(generator=gen)
    for _ in range(5):
        bn(layer(torch.randn(*shape, dtype=F64, generator=gen) * 2 + 1))
    bn.eval()
    x = torch.randn(*shape, dtype=F64, generator=gen)
    fused = fuse(layer, bn)
    torch.testing.assert_close(fused(x), bn(layer(x)), rtol=1e-12, atol=1e-12)
    assert fused is not layer and type(fused) is type(layer)


def test_fuse_refuses_what_cannot_be_folded():
    bn = BatchNorm1d(5)
    with pytest.raises(ValueError, match="call bn.eval"):
        fuse(nn.Linear(3, 5), bn)
    bn.eval()
    with pytest.raises(ValueError, match="num_features=5 but the layer has 4"):
        fuse(nn.Linear(3, 4), bn)
    with pytest.raises(ValueError, match="track_running_stats=False"):
        fuse(nn.Linear(3, 5), BatchNorm1d(5, track_running_stats=False).eval())
    with pytest.raises(TypeError, match="layer must be"):
        fuse(nn.ReLU(), bn)
    with pytest.raises(TypeError, match="bn must be a batch-norm"):
        fuse(nn.Linear(3, 5), nn.LayerNorm(5))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_features": 0}, ValueError, "num_features must be a positive int"),
        ({"num_features": 2.0}, TypeError, "num_features"),
        ({"num_features": 2, "eps": 0}, ValueError, "eps"),
        ({"num_features": 2, "momentum": 1.5}, ValueError, "momentum"),
        ({"num_features": 2, "momentum": "0.1"}, TypeError, "momentum"),
        ({"num_features": 2, "backward": "numeric"}, ValueError, "backward"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        BatchNorm1d(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="num_features must equal"):
        BatchNorm1d(3)(torch.randn(4, 2))
    with pytest.raises(ValueError, match="4-D input"):
        BatchNorm2d(3)(torch.randn(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm1d(3)(torch.randn(1, 3))
    with pytest.raises(TypeError, match="floating-point tensor"):
        BatchNorm1d(3)(torch.ones(4, 3, dtype=torch.long))
    assert BatchNorm1d(3).eval()(torch.randn(1, 3)).shape == (1, 3)  # one example is fine in eval


def test_reset_running_stats_and_repr():
    bn = BatchNorm2d(2)
    bn(torch.randn(3, 2, 2, 2))
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked) == 0 and bn.running_var.tolist() == [1.0, 1.0]
    assert repr(bn) == repr(nn.BatchNorm2d(2))
    assert repr(BatchNorm1d(3, bias=False)) == repr(nn.BatchNorm1d(3, bias=False))

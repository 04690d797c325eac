"""Tests of dlcourse.init: exact formulas, parity with torch.nn.init, statistics, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import dlcourse.init as ours

SEED = 1234
# (shape, fan_in, fan_out) with the fans written out by hand: Linear, conv1d, conv2d, conv3d.
SHAPES = [
    ((30, 20), 20, 30),
    ((10, 4, 5), 4 * 5, 10 * 5),
    ((16, 8, 3, 3), 8 * 9, 16 * 9),
    ((6, 3, 2, 3, 4), 3 * 24, 6 * 24),
]
NONLINEARITIES = [
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu",
]  # fmt: skip


# Every initializer of the module, found by the torch naming rule (in place: a trailing "_").
INITIALIZERS = [name for name in ours.__all__ if name.endswith("_")]


def gen(seed: int = SEED) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- fans and gains ------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "fan_in", "fan_out"), SHAPES)
def test_fans_of_tensor_and_of_shape(shape, fan_in, fan_out):
    assert ours.calculate_fan_in_and_fan_out(torch.empty(shape)) == (fan_in, fan_out)
    assert ours.calculate_fan_in_and_fan_out(shape) == (fan_in, fan_out)
    assert ours.calculate_fan_in_and_fan_out(list(shape)) == (fan_in, fan_out)
    assert ours.calculate_fan_in_and_fan_out(torch.Size(shape)) == (fan_in, fan_out)


@pytest.mark.parametrize("name", NONLINEARITIES)
def test_gain_equals_torch(name):
    assert ours.calculate_gain(name) == torch.nn.init.calculate_gain(name)


@pytest.mark.parametrize("param", [None, 0, 0.0, 0.01, 0.2, 1, -0.5, 3.0])
def test_leaky_relu_gain_equals_torch_and_formula(param):
    slope = 0.01 if param is None else param
    expected = torch.nn.init.calculate_gain("leaky_relu", param)
    assert ours.calculate_gain("leaky_relu", param) == expected
    assert ours.calculate_gain("leaky_relu", param) == pytest.approx(math.sqrt(2 / (1 + slope**2)))


def test_gain_table():
    assert ours.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert ours.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert ours.calculate_gain("selu") == pytest.approx(0.75)
    assert ours.calculate_gain("relu", 0.3) == pytest.approx(math.sqrt(2))  # param ignored


# --- exact formulas -------------------------------------------------------------------------------
# Tensor.normal_(0, s) is s times the standard draw and Tensor.uniform_(-b, b) is -b + 2b·u for the
# same generator state, so dividing out the standard draws recovers the std or bound an initializer
# used, to rounding, and we compare it with the formula computed here independently.


def _close(x: torch.Tensor, y: torch.Tensor) -> bool:
    # torch.testing.assert_close would do, but its first call costs over a second of imports.
    return bool(((x - y).abs() <= 1e-12 * y.abs() + 1e-15).all())


def exact(expected: float):
    # Formula and implementation may differ in the order of operations, hence a few ulps.
    return pytest.approx(expected, rel=1e-12)


def _std_used(init, shape, **kwargs) -> float:
    z = torch.empty(shape, dtype=torch.float64).normal_(0.0, 1.0, generator=gen())
    w = init(torch.empty(shape, dtype=torch.float64), generator=gen(), **kwargs)
    std = (w.flatten() @ z.flatten() / (z.flatten() @ z.flatten())).item()
    assert _close(w, std * z)  # a pure rescale of z: mean 0, nothing else changed
    return std


def _bound_used(init, shape, **kwargs) -> float:
    u = torch.empty(shape, dtype=torch.float64).uniform_(0.0, 1.0, generator=gen())
    w = init(torch.empty(shape, dtype=torch.float64), generator=gen(), **kwargs)
    bound = (w.max() - w.min()).item() / (u.max() - u.min()).item() / 2
    assert _close(w, bound * (2 * u - 1))  # symmetric about 0
    return bound


@pytest.mark.parametrize(("shape", "fan_in", "fan_out"), SHAPES)
def test_xavier_formulas(shape, fan_in, fan_out):
    assert _std_used(ours.xavier_normal_, shape) == exact(math.sqrt(2 / (fan_in + fan_out)))
    assert _std_used(ours.xavier_normal_, shape, gain=5 / 3) == exact(
        5 / 3 * math.sqrt(2 / (fan_in + fan_out))
    )
    assert _bound_used(ours.xavier_uniform_, shape) == exact(math.sqrt(6 / (fan_in + fan_out)))
    assert _bound_used(ours.xavier_uniform_, shape, gain=2.0) == exact(
        2.0 * math.sqrt(6 / (fan_in + fan_out))
    )


@pytest.mark.parametrize(("shape", "fan_in", "fan_out"), SHAPES)
def test_kaiming_formulas(shape, fan_in, fan_out):
    # The default nonlinearity is leaky_relu with a=0: gain sqrt(2), the ReLU gain.
    assert _std_used(ours.kaiming_normal_, shape) == exact(math.sqrt(2 / fan_in))
    fan_out_std = _std_used(ours.kaiming_normal_, shape, mode="fan_out")
    assert fan_out_std == exact(math.sqrt(2 / fan_out))
    assert _std_used(ours.kaiming_normal_, shape, a=0.2) == exact(
        math.sqrt(2 / (1 + 0.04)) / math.sqrt(fan_in)
    )
    assert _std_used(ours.kaiming_normal_, shape, nonlinearity="tanh") == exact(
        5 / 3 / math.sqrt(fan_in)
    )
    assert _bound_used(ours.kaiming_uniform_, shape) == exact(math.sqrt(6 / fan_in))
    relu_fan_out = _bound_used(ours.kaiming_uniform_, shape, mode="fan_out", nonlinearity="relu")
    assert relu_fan_out == exact(math.sqrt(6 / fan_out))
    assert _bound_used(ours.kaiming_uniform_, shape, nonlinearity="linear") == exact(
        math.sqrt(3 / fan_in)
    )


@pytest.mark.parametrize(("shape", "fan_in", "_out"), SHAPES)
def test_lecun_formula_is_the_lectures_randn_over_sqrt_din(shape, fan_in, _out):
    assert _std_used(ours.lecun_normal_, shape) == exact(1 / math.sqrt(fan_in))


def test_plain_distributions_and_constants():
    assert _std_used(ours.normal_, (40, 50), std=0.01) == exact(0.01)
    w = ours.uniform_(torch.empty(1000, dtype=torch.float64), a=-2.0, b=3.0, generator=gen())
    assert -2.0 <= w.min().item() and w.max().item() < 3.0 and w.min() < -1.9 and w.max() > 2.9
    assert torch.equal(ours.zeros_(torch.ones(3, 4)), torch.zeros(3, 4))
    assert torch.equal(ours.constant_(torch.empty(3, 4), 0.3), torch.full((3, 4), 0.3))
    assert torch.equal(ours.constant_(torch.empty(2, dtype=torch.long), 7), torch.tensor([7, 7]))


# --- parity with torch.nn.init -------------------------------------------------------------------

PARITY_CASES = [
    ("normal_", {}),
    ("normal_", {"mean": 0.5, "std": 0.02}),
    ("uniform_", {}),
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 5 / 3}),
    ("xavier_normal_", {}),
    ("xavier_normal_", {"gain": math.sqrt(2)}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),  # what nn.Linear uses for its own weights
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_uniform_", {"mode": "FAN_IN", "nonlinearity": "tanh"}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("kaiming_normal_", {"nonlinearity": "selu"}),
    ("kaiming_normal_", {"nonlinearity": "linear", "mode": "fan_out"}),
]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(("name", "kwargs"), PARITY_CASES)
@pytest.mark.parametrize("shape", [s for s, _, _ in SHAPES] + [(7, 3), (3, 7)])
def test_bit_identical_to_torch(name, kwargs, shape, dtype):
    expected = getattr(torch.nn.init, name)(torch.empty(shape, dtype=dtype), generator=gen(),
                                            **kwargs)
    got = getattr(ours, name)(torch.empty(shape, dtype=dtype), generator=gen(), **kwargs)
    assert torch.equal(got, expected)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_lecun_is_bit_identical_to_torch_kaiming_linear(dtype):
    expected = torch.nn.init.kaiming_normal_(
        torch.empty(64, 32, 3, dtype=dtype), nonlinearity="linear", generator=gen()
    )
    got = ours.lecun_normal_(torch.empty(64, 32, 3, dtype=dtype), generator=gen())
    assert torch.equal(got, expected)


def test_parity_with_the_global_generator_and_a_transposed_view():
    torch.manual_seed(7)
    expected = torch.nn.init.kaiming_normal_(torch.empty(20, 30).T)
    torch.manual_seed(7)
    assert torch.equal(ours.kaiming_normal_(torch.empty(20, 30).T), expected)


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["normal_", "uniform_", "xavier_normal_", "kaiming_uniform_"])
def test_cuda_tensor_with_cpu_generator_gets_the_cpu_numbers(name):
    cpu = getattr(ours, name)(torch.empty(33, 17).T, generator=gen())
    cuda = getattr(ours, name)(torch.empty(33, 17, device="cuda").T, generator=gen())
    assert cuda.device.type == "cuda" and torch.equal(cuda.cpu(), cpu)


# --- statistics -----------------------------------------------------------------------------------
# 200k draws with a fixed seed: KS against the intended law must accept (p > 1e-3), and the same
# test must reject the law a typical mistake gives, so the accepting test has the power to catch it.

BIG = (500, 400)  # fan_in 400, fan_out 500: non-square, so fan_in and fan_out mistakes differ


def _draws(init, **kwargs) -> np.ndarray:
    return init(torch.empty(BIG, dtype=torch.float64), generator=gen(), **kwargs).flatten().numpy()


@pytest.mark.parametrize(
    ("init", "kwargs", "law", "args"),
    [
        (ours.normal_, {"mean": 0.1, "std": 0.02}, "norm", (0.1, 0.02)),
        (ours.uniform_, {"a": -1.0, "b": 2.0}, "uniform", (-1.0, 3.0)),
        (ours.xavier_normal_, {}, "norm", (0.0, math.sqrt(2 / 900))),
        (ours.xavier_uniform_, {}, "uniform", (-math.sqrt(6 / 900), 2 * math.sqrt(6 / 900))),
        (ours.kaiming_normal_, {}, "norm", (0.0, math.sqrt(2 / 400))),
        (ours.kaiming_uniform_, {"mode": "fan_out"}, "uniform",
         (-math.sqrt(6 / 500), 2 * math.sqrt(6 / 500))),  # fmt: skip
        (ours.lecun_normal_, {}, "norm", (0.0, math.sqrt(1 / 400))),
    ],
)
def test_ks_accepts_the_intended_distribution(init, kwargs, law, args):
    assert stats.kstest(_draws(init, **kwargs), law, args=args).pvalue > 1e-3


def test_ks_rejects_fan_out_where_fan_in_was_meant():
    x = _draws(ours.kaiming_normal_)
    assert stats.kstest(x, "norm", args=(0.0, math.sqrt(2 / 500))).pvalue < 1e-6
    y = _draws(ours.kaiming_uniform_)
    bound = math.sqrt(6 / 500)
    assert stats.kstest(y, "uniform", args=(-bound, 2 * bound)).pvalue < 1e-6


def test_ks_rejects_relu_gain_missing_from_lecun():
    x = _draws(ours.lecun_normal_)
    assert stats.kstest(x, "norm", args=(0.0, math.sqrt(2 / 400))).pvalue < 1e-6


# --- properties -----------------------------------------------------------------------------------

shapes = st.lists(st.integers(1, 6), min_size=2, max_size=4).map(tuple)
dtypes = st.sampled_from([torch.float32, torch.float64])


def _uniform_bound(name: str, shape: tuple[int, ...]) -> float:
    fan_in, fan_out = math.prod(shape[1:]), shape[0] * math.prod(shape[2:])
    if name == "xavier_uniform_":
        return math.sqrt(6 / (fan_in + fan_out))
    return math.sqrt(6 / fan_in)  # kaiming_uniform_ defaults: leaky_relu, a=0, fan_in


@pytest.mark.parametrize("name", INITIALIZERS)  # every initializer, so none is left untried
@settings(max_examples=25, deadline=None)
@given(shape=shapes, dtype=dtypes, seed=st.integers(0, 2**31))
def test_in_place_same_object_same_shape_and_dtype(shape, dtype, name, seed):
    w = torch.full(shape, float("nan"), dtype=dtype)
    ptr = w.data_ptr()
    kwargs = {"zeros_": {}, "constant_": {"val": 0.5}}.get(name, {"generator": gen(seed)})
    out = getattr(ours, name)(w, **kwargs)
    assert out is w and w.data_ptr() == ptr
    assert w.shape == shape and w.dtype == dtype
    assert torch.isfinite(w).all()  # every element was written


@settings(max_examples=50, deadline=None)
@given(shape=shapes, dtype=dtypes, name=st.sampled_from(["xavier_uniform_", "kaiming_uniform_"]))
def test_uniform_samples_lie_within_the_bound(shape, dtype, name):
    w = getattr(ours, name)(torch.empty(shape, dtype=dtype), generator=gen())
    bound = _uniform_bound(name, shape)
    assert w.abs().max().item() <= bound * (1 + 1e-6)


@settings(max_examples=50, deadline=None)
@given(shape=shapes)
def test_fans_of_any_shape_equal_torch(shape):
    w = torch.empty(shape)
    expected = torch.nn.init._calculate_fan_in_and_fan_out(w)
    assert ours.calculate_fan_in_and_fan_out(shape) == expected


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("kaiming_normal_", {"generator": None}), ("zeros_", {}), ("constant_", {"val": 2.0})],
)
def test_no_autograd_history_on_a_parameter(name, kwargs):
    p = torch.nn.Parameter(torch.empty(4, 3))
    # an in-place op on a leaf would raise without no_grad
    assert getattr(ours, name)(p, **kwargs) is p
    assert p.grad_fn is None and p.requires_grad


def test_zero_element_weight_is_a_no_op_with_a_warning():
    with pytest.warns(UserWarning, match="zero-element"):
        assert ours.kaiming_normal_(torch.empty(0, 3)).shape == (0, 3)


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [(5,), (), [7]])
def test_fans_need_two_dimensions(bad):
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*biases .* zeros_ or constant_"):
        ours.calculate_fan_in_and_fan_out(bad)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        ours.xavier_uniform_(torch.empty(bad))


@pytest.mark.parametrize("bad", ["3x4", (3, 4.0), (True, 2), 12])
def test_fans_reject_what_is_not_a_shape(bad):
    with pytest.raises(TypeError, match="non-negative int"):
        ours.calculate_fan_in_and_fan_out(bad)


def test_fans_reject_a_negative_size():
    with pytest.raises(ValueError, match=r"size of the shape must be a non-negative int, got -1"):
        ours.calculate_fan_in_and_fan_out((3, -1))


def test_unknown_nonlinearity_lists_the_allowed_names():
    message = r"nonlinearity='gelu': use one of .*'tanh', 'relu', 'leaky_relu'"
    with pytest.raises(ValueError, match=message):
        ours.calculate_gain("gelu")
    with pytest.raises(TypeError, match=r"nonlinearity must be one of .*got int 3"):
        ours.calculate_gain(3)
    with pytest.raises(ValueError, match="use one of"):
        ours.kaiming_normal_(torch.empty(3, 4), nonlinearity="Relu")


@pytest.mark.parametrize("param", [True, "0.2", [0.2]])
def test_leaky_relu_param_must_be_a_number(param):
    with pytest.raises(TypeError, match=r"param \(the leaky_relu slope\) must be a real number"):
        ours.calculate_gain("leaky_relu", param)


@pytest.mark.parametrize("init", [ours.kaiming_normal_, ours.kaiming_uniform_])
def test_unknown_mode_names_the_allowed_modes(init):
    with pytest.raises(ValueError, match=r"mode='fan_avg': use one of 'fan_in', 'fan_out'"):
        init(torch.empty(3, 4), mode="fan_avg")


@pytest.mark.parametrize("name", INITIALIZERS)
def test_numpy_array_is_refused_with_the_fix(name):
    args = (0.5,) if name == "constant_" else ()
    with pytest.raises(TypeError, match=r"tensor must be a torch.Tensor, got ndarray .*from_numpy"):
        getattr(ours, name)(np.zeros((3, 4)), *args)


@pytest.mark.parametrize("name", ["normal_", "uniform_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "lecun_normal_"])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
def test_random_fill_needs_a_floating_point_tensor(name, dtype):
    w = torch.zeros(3, 4, dtype=dtype)
    message = r"tensor must have a floating-point dtype.*dtype=torch.float32"
    with pytest.raises(TypeError, match=message):
        getattr(ours, name)(w)


def test_bad_distribution_parameters_name_the_argument():
    w = torch.empty(3, 4)
    with pytest.raises(ValueError, match=r"std must be >= 0.0, got -1"):
        ours.normal_(w, std=-1)
    with pytest.raises(ValueError, match=r"mean must be finite"):
        ours.normal_(w, mean=float("nan"))
    with pytest.raises(TypeError, match=r"std must be a real number, got str"):
        ours.normal_(w, std="0.1")
    with pytest.raises(ValueError, match=r"needs a <= b, got a=1.0 > b=0.0 — swap them"):
        ours.uniform_(w, a=1.0, b=0.0)
    with pytest.raises(ValueError, match=r"gain must be >= 0.0, got -1"):
        ours.xavier_normal_(w, gain=-1.0)
    with pytest.raises(TypeError, match=r"a must be a real number, got NoneType"):
        ours.kaiming_uniform_(w, a=None)
    with pytest.raises(TypeError, match=r"val must be a real number, got str"):
        ours.constant_(w, "1")


def test_generator_must_be_a_generator():
    message = r"generator must be a torch.Generator or None, got int .*dlcourse.generator"
    with pytest.raises(TypeError, match=message):
        ours.xavier_uniform_(torch.empty(3, 4), generator=0)

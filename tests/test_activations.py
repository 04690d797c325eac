"""Tests of the activation functions, their modules, maxout, the toy data and dead-unit probes."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from dlcourse import nn as dnn  # noqa: E402
from dlcourse.data import HARD_CASES, quadrants, ring, three_modes  # noqa: E402
from dlcourse.experiments import activations as ex  # noqa: E402
from dlcourse.nn import functional as F  # noqa: E402
from dlcourse.probes import dead_units  # noqa: E402
from dlcourse.widgets import gradient_explorer, gradient_figure  # noqa: E402

TF = torch.nn.functional
# name -> (ours, derivative, PyTorch's function), with extra arguments bound
CASES = {
    "sigmoid": (F.sigmoid, F.sigmoid_grad, torch.sigmoid),
    "tanh": (F.tanh, F.tanh_grad, torch.tanh),
    "relu": (F.relu, F.relu_grad, TF.relu),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: F.leaky_relu_grad(x, 0.2),
        lambda x: TF.leaky_relu(x, 0.2),
    ),
    "elu": (lambda x: F.elu(x, 1.5), lambda x: F.elu_grad(x, 1.5), lambda x: TF.elu(x, 1.5)),
    "selu": (F.selu, F.selu_grad, TF.selu),
    "gelu": (F.gelu, F.gelu_grad, TF.gelu),
    "gelu_tanh": (
        lambda x: F.gelu(x, "tanh"),
        lambda x: F.gelu_grad(x, "tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
    ),
}
MODULES = {
    "sigmoid": (dnn.Sigmoid, nn.Sigmoid),
    "tanh": (dnn.Tanh, nn.Tanh),
    "relu": (dnn.ReLU, nn.ReLU),
    "leaky_relu": (lambda: dnn.LeakyReLU(0.1), lambda: nn.LeakyReLU(0.1)),
    "elu": (dnn.ELU, nn.ELU),
    "selu": (dnn.SELU, nn.SELU),
    "gelu": (dnn.GELU, nn.GELU),
}


def torch_derivative(fn, x):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad


@pytest.mark.parametrize("name", CASES)
def test_value_and_derivative_match_pytorch_float64(name):
    ours, d_ours, theirs = CASES[name]
    x = torch.cat([torch.linspace(-30, 30, 2001, dtype=torch.float64), torch.zeros(1).double()])
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d_ours(x), torch_derivative(theirs, x), rtol=1e-12, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=40),
    st.sampled_from(sorted(CASES)),
)
def test_property_parity_on_any_values(values, name):
    ours, d_ours, theirs = CASES[name]
    x = torch.tensor(values, dtype=torch.float64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d_ours(x), torch_derivative(theirs, x), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", MODULES)
def test_modules_match_torch_and_pass_gradcheck(name):
    ours, theirs = MODULES[name][0](), MODULES[name][1]()
    x = torch.randn(7, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    torch.testing.assert_close(ours(x), theirs(x))
    assert torch.autograd.gradcheck(ours, (x.clone().requires_grad_(True),))


def test_sigmoid_does_not_overflow_and_saturates():
    x = torch.tensor([-1000.0, 1000.0], dtype=torch.float64)
    assert F.sigmoid(x).tolist() == [0.0, 1.0]
    assert F.sigmoid_grad(torch.zeros(1)).item() == 0.25
    assert F.sigmoid_grad(torch.tensor([10.0])).item() < 1e-4


@pytest.mark.parametrize("slope", [1.0, 1.5, -0.1])
def test_leaky_relu_rejects_slopes_outside_0_1(slope):
    with pytest.raises(ValueError, match="identity"):
        F.leaky_relu(torch.zeros(2), slope)
    with pytest.raises(ValueError, match="negative_slope"):
        dnn.LeakyReLU(slope)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="torch.Tensor"):
        F.relu([1.0, 2.0])
    with pytest.raises(TypeError, match="floating-point"):
        F.sigmoid(torch.arange(3))
    with pytest.raises(ValueError, match="alpha"):
        F.elu(torch.zeros(2), alpha=0.0)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(torch.zeros(2), approximate="fast")
    with pytest.raises(ValueError, match="pieces"):
        dnn.Maxout(3, 4, pieces=1)


def test_maxout_is_the_max_of_its_pieces_and_can_be_relu():
    torch.manual_seed(0)
    layer = dnn.Maxout(3, 4, pieces=3).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    z = layer.linear(x).view(5, 4, 3)
    torch.testing.assert_close(layer(x), z.max(dim=-1).values)
    assert torch.autograd.gradcheck(layer, (x.requires_grad_(True),))
    relu = dnn.Maxout(2, 1, pieces=2).double()
    with torch.no_grad():
        relu.linear.weight.copy_(torch.tensor([[1.0, -2.0], [0.0, 0.0]]))
        relu.linear.bias.zero_()
    x = torch.randn(50, 2, dtype=torch.float64)
    torch.testing.assert_close(relu(x)[:, 0], torch.relu(x[:, 0] - 2 * x[:, 1]))


@pytest.mark.parametrize("make", [quadrants, ring, three_modes])
def test_hard_cases_are_seeded_and_labelled_by_their_rule(make):
    X, y = make(n=400, seed=3)
    X2, y2 = make(n=400, seed=3)
    assert X.shape == (400, 2) and y.shape == (400,) and torch.equal(X, X2) and torch.equal(y, y2)
    assert X.abs().max() <= 3 and set(y.unique().tolist()) == {0, 1}
    assert not torch.equal(make(n=400, seed=4)[0], X)


def test_hard_case_rules():
    X, y = quadrants(n=300)
    assert torch.equal(y.bool(), X[:, 0] * X[:, 1] > 0)
    X, y = ring(n=300)
    r = X.norm(dim=1)
    assert torch.equal(y.bool(), (r >= 1) & (r <= 2))
    assert list(HARD_CASES) == ["quadrants", "ring", "three modes"]
    with pytest.raises(ValueError, match="outer"):
        ring(outer=0.5)


def test_dead_units_counts_over_the_whole_data_set_not_one_batch():
    lin = nn.Linear(1, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0], [-1.0]]))
        lin.bias.copy_(torch.tensor([-5.0, -100.0]))  # unit 0 fires only for x > 5; unit 1 never
    model = nn.Sequential(lin, nn.ReLU())
    X = torch.cat([torch.zeros(300, 1), torch.full((1, 1), 10.0)])  # the firing example is last
    (layer,) = dead_units(model, X, batch_size=64)
    assert layer.alive.tolist() == [True, False] and layer.dead == 1 and layer.fraction == 0.5
    (first_batch,) = dead_units(model, X[:64])
    assert first_batch.dead == 2


def test_dead_units_leaky_relu_never_dead_and_conv_channels_are_units():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), dnn.ReLU(), nn.Conv2d(3, 2, 1), nn.LeakyReLU())
    with torch.no_grad():
        model[0].bias.copy_(torch.tensor([-1e3, 0.0, 0.0]))
        model[2].bias.fill_(-1e3)
    res = dead_units(model, torch.randn(8, 1, 6, 6))
    assert [r.units for r in res] == [3, 2] and res[0].dead >= 1 and res[1].dead == 0
    with pytest.raises(ValueError, match="no activation"):
        dead_units(nn.Linear(2, 2), torch.randn(3, 2))
    with pytest.raises(TypeError):
        dead_units(model, [[1.0]])


def test_inactive_units_agree_with_dead_units_for_relu():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 16), dnn.ReLU(), nn.Linear(16, 16), dnn.ReLU()).double()
    with torch.no_grad():
        model[2].bias[:5] = -100.0
    X = torch.randn(100, 4, dtype=torch.float64)
    assert ex.inactive_units(model, X) == [r.dead for r in dead_units(model, X)]
    assert ex.inactive_units(model, X)[1] >= 5


def test_gradient_profile_vanishes_for_sigmoid_not_relu():
    sig = ex.gradient_profile("sigmoid", depth=8, width=64)
    relu = ex.gradient_profile("relu", depth=8, width=64)
    assert sig[0] / sig[-1] < 1e-3 and 0.1 < relu[0] / relu[-1] < 10
    with pytest.raises(ValueError, match="activation"):
        ex.gradient_profile("softmax")


def test_positive_inputs_give_same_sign_gradients():
    pos, cen = ex.positive_input_demo(centred=False), ex.positive_input_demo(centred=True)
    assert pos.same_sign == 1.0 and 0.3 < cen.same_sign < 0.7
    assert pos.condition > 5 * cen.condition and pos.gd_steps > 5 * cen.gd_steps


def test_epochs_to_error():
    assert ex.epochs_to_error([0.5, 0.3, 0.2], 0.25) == 3
    assert ex.epochs_to_error([0.5], 0.25) is None


def test_fit_boundary_linear_fails_on_quadrants_mlp_does_not():
    X, y = quadrants(n=200)
    _, linear = ex.fit_boundary(X, y, hidden=0, steps=150)
    _, net = ex.fit_boundary(X, y, hidden=16, steps=300)
    assert linear < 0.75 < 0.9 < net


def test_gradient_figure_and_explorer():
    fig = gradient_figure("tanh", depth=4, width=32)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines[0].get_xdata()) == 4
    box = gradient_explorer(depth=3)
    (out,) = box.output.outputs
    assert base64.b64decode(out["data"]["image/png"]).startswith(b"\x89PNG")
    box.controls["activation"].value = "relu"
    assert box.output.outputs[0]["data"]["image/png"] != out["data"]["image/png"]
    assert "image/png" in box._repr_mimebundle_()
    with pytest.raises(ValueError, match="activation"):
        gradient_figure("softmax")


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "elu", "selu", "gelu"])
def test_autograd_through_our_functions_agrees_with_their_derivative(name):
    ours, d_ours, _ = CASES[name]
    x = torch.tensor([-40.0, -2.0, 0.0, 0.5, 40.0], dtype=torch.float64)
    torch.testing.assert_close(torch_derivative(ours, x), d_ours(x), rtol=1e-12, atol=1e-14)

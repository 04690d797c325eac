"""Tests of dlcourse.nn: activations by name and the model builders (mlp, deep_stack, small_cnn)."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch import nn

from dlcourse import init as dlinit
from dlcourse.nn import INIT_NAMES, deep_stack, get_activation, init_module_, mlp, small_cnn
from dlcourse.runtime import generator


def types(model: nn.Module) -> list[type]:
    return [type(m) for m in model]


def linears(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


# --- activations -------------------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("identity", nn.Identity), ("linear", nn.Identity), (None, nn.Identity),
    ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("ReLU", nn.ReLU), ("relu", nn.ReLU),
    ("leaky_relu", nn.LeakyReLU), ("elu", nn.ELU), ("gelu", nn.GELU),
])
def test_get_activation_names(name, cls):
    assert type(get_activation(name)) is cls


def test_leaky_relu_slope_is_001_and_instances_are_fresh():
    act = get_activation("leaky_relu")
    assert act.negative_slope == 0.01
    assert get_activation("tanh") is not get_activation("tanh")


def test_get_activation_accepts_factories():
    assert type(get_activation(nn.SiLU)) is nn.SiLU
    assert get_activation(lambda: nn.LeakyReLU(0.2)).negative_slope == 0.2


def test_get_activation_errors():
    with pytest.raises(ValueError, match="'tanh'.*'gelu'"):
        get_activation("swish")
    with pytest.raises(TypeError, match="pass its class"):
        get_activation(nn.Tanh())
    with pytest.raises(TypeError, match="expected an nn.Module"):
        get_activation(lambda: 3)


# --- mlp ---------------------------------------------------------------------------------------

def test_mlp_layout_and_shape():
    model = mlp(5, 3, width=8, depth=2, activation="tanh")
    assert types(model) == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert [(m.in_features, m.out_features) for m in linears(model)] == [(5, 8), (8, 8), (8, 3)]
    assert model(torch.randn(4, 5)).shape == (4, 3)


def test_mlp_norm_dropout_identity_and_depth_zero():
    model = mlp(4, 2, width=6, depth=1, activation="relu", norm=nn.BatchNorm1d, dropout=0.5)
    assert types(model) == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]
    assert model[1].num_features == 6 and model[3].p == 0.5
    assert types(mlp(4, 2, depth=2, activation=None)) == [nn.Linear] * 3
    assert types(mlp(4, 2, depth=0)) == [nn.Linear]
    assert mlp(4, 2, depth=1, bias=False)[0].bias is None


def test_mlp_is_reproducible_from_the_generator():
    a = mlp(6, 2, width=16, generator=generator(1))
    b = mlp(6, 2, width=16, generator=generator(1))
    c = mlp(6, 2, width=16, generator=generator(2))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_default_init_with_generator_matches_pytorch_reset_parameters():
    torch.manual_seed(3)
    reference = [nn.Linear(5, 7), nn.Linear(7, 2)]  # drawn from the global generator, seed 3
    model = mlp(5, 2, width=7, depth=1, generator=generator(3))
    for ours, theirs in zip(linears(model), reference):
        assert torch.equal(ours.weight, theirs.weight)
        assert torch.equal(ours.bias, theirs.bias)


@pytest.mark.parametrize("activation, kwargs", [
    ("relu", dict(a=0.0, nonlinearity="relu")),
    ("tanh", dict(a=0.0, nonlinearity="relu")),
    ("leaky_relu", dict(a=0.01, nonlinearity="leaky_relu")),
    (lambda: nn.LeakyReLU(0.2), dict(a=0.2, nonlinearity="leaky_relu")),
])
def test_kaiming_by_name_uses_the_activation_slope(activation, kwargs):
    model = mlp(6, 3, width=9, depth=2, activation=activation, init="kaiming_normal",
                generator=generator(7))
    gen = generator(7)
    for layer in linears(model):
        expected = nn.init.kaiming_normal_(torch.empty_like(layer.weight), generator=gen, **kwargs)
        torch.testing.assert_close(layer.weight, expected, rtol=0, atol=0)
        assert torch.count_nonzero(layer.bias) == 0


@pytest.mark.parametrize("name, reference", [
    ("xavier_normal", lambda w, g: nn.init.xavier_normal_(w, gain=1.0, generator=g)),
    ("xavier_uniform", lambda w, g: nn.init.xavier_uniform_(w, gain=1.0, generator=g)),
    ("kaiming_uniform", lambda w, g: nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=g)),
    ("lecun_normal", lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="linear", generator=g)),
])
def test_named_inits_match_pytorch_draw_for_draw(name, reference):
    model = mlp(10, 4, width=12, depth=1, init=name, generator=generator(0))
    gen = generator(0)
    for layer in linears(model):
        expected = reference(torch.empty_like(layer.weight), gen)
        torch.testing.assert_close(layer.weight, expected, rtol=0, atol=0)


def test_callable_init_gets_the_generator_by_keyword_and_may_return_a_new_tensor():
    seen = []
    gen = generator(0)
    model = mlp(3, 2, width=4, depth=1, generator=gen,
                init=lambda w, generator=None: seen.append(generator) or w.fill_(0.5))
    assert len(seen) == 2 and all(g is gen for g in seen)  # one call per Linear, none to check
    assert torch.all(model[0].weight == 0.5) and torch.all(model[0].bias == 0)
    model = mlp(3, 2, width=4, depth=1, init=lambda w, generator: torch.full_like(w, 2.0))
    assert torch.all(model[2].weight == 2.0)
    model = mlp(3, 2, width=4, depth=1, init=nn.init.orthogonal_, generator=generator(0))
    q = model[0].weight  # (4, 3): orthonormal columns
    torch.testing.assert_close(q.T @ q, torch.eye(3), atol=1e-5, rtol=0)


def test_a_course_initializer_as_callable_draws_like_its_name():
    by_name = mlp(6, 3, width=5, depth=2, init="xavier_normal", generator=generator(5))
    by_callable = mlp(6, 3, width=5, depth=2, init=dlinit.xavier_normal_, generator=generator(5))
    for a, b in zip(by_name.parameters(), by_callable.parameters()):
        assert torch.equal(a, b)


def test_every_course_initializer_fits_the_init_rule():
    for fn in (dlinit.zeros_, functools.partial(dlinit.constant_, val=0.3)):
        model = mlp(3, 2, width=4, depth=1, init=fn, generator=generator(0))
        assert torch.all(model[0].weight == (0.0 if fn is dlinit.zeros_ else 0.3))
    with pytest.raises(TypeError, match="add a generator parameter"):
        mlp(3, 2, init=nn.init.zeros_)  # torch's zeros_ takes no generator: wrap it


def test_init_callable_without_generator_is_refused_before_building():
    calls = []
    with pytest.raises(TypeError, match=r"init\(weight, generator=generator\): add a generator"):
        mlp(3, 2, init=lambda w: calls.append(w))
    assert calls == []  # refused from its signature, never called
    with pytest.raises(TypeError, match="generator"):
        deep_stack(depth=2, width=4, init=lambda w, g: w)  # positional-only is not the rule


def test_callable_that_fills_nothing_leaves_pytorch_default_not_garbage():
    model = deep_stack(depth=2, width=16, init=lambda w, generator=None: w)
    for layer in linears(model):
        assert layer.weight.abs().max().item() <= 1 / math.sqrt(16)  # PyTorch's default bound


@pytest.mark.parametrize("kwargs, match", [
    (dict(depth=-1), "depth"), (dict(width=0), "width"), (dict(dropout=1.0), "dropout"),
    (dict(dropout=-0.1), "dropout"), (dict(init="he"), "init=.*'xavier_normal'"),
    (dict(activation="swish"), "activation"),
])
def test_mlp_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp(3, 2, **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(norm="batch"), "norm must be None or a callable"), (dict(width=2.5), "width"),
    (dict(depth=True), "depth"), (dict(dropout="0.1"), "dropout"), (dict(init=3), "init"),
])
def test_mlp_bad_types(kwargs, match):
    with pytest.raises(TypeError, match=match):
        mlp(3, 2, **kwargs)


@pytest.mark.parametrize("name", INIT_NAMES)
def test_every_init_name_is_a_course_initializer_and_builds_every_model(name):
    assert callable(getattr(dlinit, name + "_"))  # the name is dlcourse.init's function, less "_"
    for build in (lambda: mlp(4, 2, width=3, depth=1, init=name, generator=generator(0)),
                  lambda: deep_stack(depth=2, width=3, init=name, generator=generator(0)),
                  lambda: small_cnn(channels=(2,), image_size=4, init=name,
                                    generator=generator(0))):
        layers = linears(build())
        assert all(torch.count_nonzero(m.weight) > 0 for m in layers)
        assert all(m.bias is None or torch.count_nonzero(m.bias) == 0 for m in layers)


def test_init_module_on_a_hand_written_model():
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 2)))
    init_module_(model, "lecun_normal", generator(0))
    assert all(torch.count_nonzero(m.bias) == 0 for m in linears(model))


# --- deep_stack --------------------------------------------------------------------------------

def test_deep_stack_layout():
    model = deep_stack(depth=3, width=5, activation="tanh")
    assert types(model) == [nn.Linear, nn.Tanh] * 3
    assert all(m.bias is None and m.weight.shape == (5, 5) for m in linears(model))
    assert types(deep_stack(depth=4, width=5)) == [nn.Linear] * 4
    assert deep_stack(depth=1, width=5, bias=True)[0].bias is not None


def test_deep_stack_weight_std_draws_in_layer_order():
    model = deep_stack(depth=3, width=6, weight_std=0.3, generator=generator(4))
    gen = generator(4)
    for layer in linears(model):
        torch.testing.assert_close(layer.weight, torch.empty(6, 6).normal_(0, 0.3, generator=gen),
                                   rtol=0, atol=0)


def test_deep_stack_zero_std_is_the_all_zero_pitfall():
    model = deep_stack(depth=2, width=4, weight_std=0.0)
    assert all(torch.count_nonzero(m.weight) == 0 for m in linears(model))


@pytest.mark.parametrize("kwargs, match", [
    (dict(weight_std=0.1, init="xavier_normal"), "either weight_std or init"),
    (dict(weight_std=-1.0), "weight_std"), (dict(weight_std=math.inf), "weight_std"),
    (dict(depth=0), "depth"), (dict(width=0), "width"), (dict(init="glorot"), "init"),
])
def test_deep_stack_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        deep_stack(**kwargs)


def lecture_forward(model: nn.Module, seed: int = 0) -> torch.Tensor:
    x = torch.randn(512, generator=generator(seed + 100))  # the lecture's x, (512,)
    with torch.no_grad():
        return model(x)


def test_lecture_100_layers_explode_vanish_and_xavier_survives():
    # The seed lecture: sigma=1 gives nan, sigma=0.01 gives exactly 0, Xavier+tanh std ~0.06.
    g = generator(0)
    assert not torch.isfinite(lecture_forward(deep_stack(weight_std=1.0, generator=g))).all()
    assert lecture_forward(deep_stack(weight_std=0.01, generator=g)).std().item() == 0.0
    y = lecture_forward(deep_stack(activation="tanh", weight_std=1 / math.sqrt(512), generator=g))
    assert 0.03 < y.std().item() < 0.12


def test_lecture_kaiming_relu_keeps_signal():
    y = lecture_forward(deep_stack(activation="relu", init="kaiming_normal",
                                   generator=generator(1)))
    assert 0.05 < y.std().item() < 5.0  # the lecture: 0.42; Xavier+ReLU gives ~1e-15


# --- small_cnn ---------------------------------------------------------------------------------

def test_small_cnn_shapes():
    model = small_cnn()
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    assert sum(isinstance(m, nn.Conv2d) for m in model) == 2
    assert model[-1].in_features == 32 * 2 * 2
    model = small_cnn(in_channels=3, num_classes=4, channels=(5,), image_size=9, activation="tanh")
    assert model(torch.randn(2, 3, 9, 9)).shape == (2, 4)
    assert model[-1].in_features == 5 * 4 * 4


def test_small_cnn_init_and_reproducibility():
    a = small_cnn(init="kaiming_uniform", generator=generator(2))
    b = small_cnn(init="kaiming_uniform", generator=generator(2))
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    conv = a[0]
    bound = math.sqrt(2.0) * math.sqrt(3.0 / (1 * 3 * 3))  # fan_in = k^2 * C_in
    assert conv.weight.abs().max().item() <= bound and torch.count_nonzero(conv.bias) == 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(image_size=3), "image_size"), (dict(channels=()), "channels"),
    (dict(channels=(4, 0)), "channels"), (dict(in_channels=0), "in_channels"),
])
def test_small_cnn_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_cnn(**kwargs)

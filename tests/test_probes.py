"""Tests of dlcourse.probes.

ActivationStats against hand computations, hooks, the update:data ratio, and the deep-stack
runner.
"""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlcourse.nn import deep_stack, mlp
from dlcourse.probes import (
    ActivationStats,
    LayerStats,
    StackRun,
    run_stack,
    select_modules,
    snapshot,
    update_to_data_ratio,
)
from dlcourse.runtime import generator


def tanh_net(seed: int = 0) -> tuple[nn.Sequential, torch.Tensor, torch.Tensor]:
    """Linear(6, 5) -> Tanh in float64, with its weight and a batch of 8 inputs."""
    g = generator(seed)
    model = nn.Sequential(nn.Linear(6, 5, bias=False), nn.Tanh()).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.randn(5, 6, generator=g, dtype=torch.float64))
    X = torch.randn(8, 6, generator=g, dtype=torch.float64)
    return model, model[0].weight.detach().clone(), X


class FunctionalTanh(nn.Module):
    """A hand-written model whose activation is a function, not a module."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 3), nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def forward_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())


# --- activation statistics: parity with a direct computation ----------------------------------

def test_mean_std_min_max_hist_match_direct_tanh():
    model, W, X = tanh_net()
    with torch.no_grad(), ActivationStats(model, bins=7, range=(-1, 1)) as stats:
        model(X)
    y = torch.tanh(X @ W.T)
    (rec,) = stats.layers
    assert (rec.name, rec.type, rec.index, rec.calls) == ("1", "Tanh", 0, 1)
    assert rec.mean == pytest.approx(y.mean().item(), abs=1e-12)
    assert rec.std == pytest.approx(y.std().item(), abs=1e-12)  # sample std, like x.std()
    assert (rec.min, rec.max) == (y.min().item(), y.max().item())
    counts, edges = np.histogram(y.numpy(), bins=7, range=(-1, 1))
    assert rec.hist_counts == counts.tolist()
    np.testing.assert_allclose(rec.hist_edges, edges, rtol=0, atol=1e-12)


def test_own_range_histogram_covers_every_value():
    model, W, X = tanh_net(1)
    with torch.no_grad(), ActivationStats(model, bins=10) as stats:
        model(X)
    y = torch.tanh(X @ W.T).numpy()
    counts, edges = np.histogram(y, bins=10)
    assert stats.layers[0].hist_counts == counts.tolist()
    np.testing.assert_allclose(stats.layers[0].hist_edges, edges, atol=1e-12)


def test_fixed_range_drops_values_outside():
    ident = nn.Identity()
    with ActivationStats(ident, modules=[ident], bins=2, range=(0, 1)) as stats:
        ident(torch.tensor([-5.0, 0.2, 0.7, 0.9, 3.0]))
    assert stats.layers[0].hist_counts == [1, 2]


def test_nonfinite_values_are_counted_not_binned():
    ident = nn.Identity()
    with ActivationStats(ident, modules=[ident], bins=4) as stats:
        ident(torch.tensor([math.inf, 1.0, 2.0, math.nan, 3.0]))
    rec = stats.layers[0]
    assert rec.nonfinite == 2 and sum(rec.hist_counts) == 3
    assert math.isnan(rec.mean)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), d=st.integers(1, 7), seed=st.integers(0, 1000))
def test_property_stats_match_torch_for_any_shape(n, d, seed):
    y = torch.randn(n, d, generator=generator(seed), dtype=torch.float64)
    ident = nn.Identity()
    with ActivationStats(ident, modules=[ident]) as stats:
        ident(y)
    rec = stats.layers[0]
    assert rec.mean == pytest.approx(y.mean().item(), abs=1e-12)
    expected_std = y.std().item() if y.numel() > 1 else 0.0
    assert rec.std == pytest.approx(expected_std, abs=1e-12)
    assert sum(rec.hist_counts) == y.numel()


# --- gradients ---------------------------------------------------------------------------------

def test_gradient_is_dloss_doutput():
    model, W, X = tanh_net(2)
    c = torch.randn(8, 5, generator=generator(9), dtype=torch.float64)
    with ActivationStats(model, modules=[model[0], model[1]]) as stats:
        (model(X) * c).sum().backward()
    pre, post = stats.layers
    # dL/dtanh = c;  dL/dz = c * (1 - tanh(z)^2)
    assert post.grad_mean == pytest.approx(c.mean().item(), abs=1e-12)
    assert post.grad_std == pytest.approx(c.std().item(), abs=1e-12)
    dz = c * (1 - torch.tanh(X @ W.T) ** 2)
    assert pre.grad_std == pytest.approx(dz.std().item(), abs=1e-12)
    assert sum(post.grad_hist_counts) == c.numel() and len(post.grad_hist_edges) == 51


def test_gradient_with_in_place_relu_is_the_pre_activation_gradient():
    lin = nn.Linear(4, 6).double()
    model = nn.Sequential(lin, nn.ReLU(inplace=True))
    X = torch.randn(5, 4, generator=generator(3), dtype=torch.float64)
    c = torch.randn(5, 6, generator=generator(4), dtype=torch.float64)
    with ActivationStats(model, modules="leaves") as stats:
        (model(X) * c).sum().backward()
    mask = (lin(X) > 0).double()
    assert stats.layers[0].grad_std == pytest.approx((c * mask).std().item(), abs=1e-12)
    assert stats.layers[1].grad_std == pytest.approx(c.std().item(), abs=1e-12)


def test_no_grad_forward_has_no_gradient_fields_and_resets_old_ones():
    model, _, X = tanh_net()
    with ActivationStats(model) as stats:
        model(X).sum().backward()
        assert stats.layers[0].grad_std is not None
        with torch.no_grad():
            model(X)
    rec = stats.layers[0]
    assert rec.grad_mean is None and rec.grad_std is None and rec.grad_hist_counts is None
    assert rec.mean is not None


# --- saturation and dead units -----------------------------------------------------------------

@pytest.mark.parametrize("saturation, expected", [(0.99, 50.0), (0.9, 75.0)])
def test_pct_saturated_tanh_and_sigmoid_on_crafted_inputs(saturation, expected):
    # tanh(0.5)=0.46, tanh(2)=0.964, tanh(3)=0.995, tanh(-4)=-0.9993
    x = torch.tensor([[0.5, 2.0, 3.0, -4.0]])
    # sigmoid(-10)=4.5e-5, sigmoid(0)=0.5, sigmoid(10)=0.99995, sigmoid(-3)=0.047: near 0 counts
    z = torch.tensor([[-10.0, 0.0, 10.0, -3.0]])
    tanh, sig, relu = nn.Tanh(), nn.Sigmoid(), nn.ReLU()
    model = nn.ModuleList([tanh, sig, relu])
    with ActivationStats(model, modules=[tanh, sig, relu], saturation=saturation) as stats:
        tanh(x)
        sig(z)
        relu(x * 100)
    assert [r.pct_saturated for r in stats.layers] == [expected, expected, 0.0]
    assert stats.layers[0].pct_dead == 0.0 and stats.layers[1].pct_dead == 0.0


def test_pct_dead_counts_feature_columns_never_positive():
    lin = nn.Linear(3, 4, bias=False)
    with torch.no_grad():  # units 0 and 2 see only negative pre-activations for positive inputs
        lin.weight.copy_(torch.tensor([[-1.0, -1, -1], [1, 1, 1], [-2, -1, 0], [1, -3, 1]]))
    model = nn.Sequential(lin, nn.ReLU())
    X = torch.rand(10, 3, generator=generator(0)) + 0.1
    X[0] = torch.tensor([1.0, 0.1, 1.0])  # unit 3 fires for this example only
    with torch.no_grad(), ActivationStats(model) as stats:
        model(X)
    assert stats.layers[0].pct_dead == 50.0


def test_pct_dead_counts_channels_of_conv_outputs_and_leaky_relu():
    conv = nn.Conv2d(1, 4, 1)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.copy_(torch.tensor([-100.0, 0.0, -100.0, -100.0]))
    model = nn.Sequential(conv, nn.LeakyReLU(0.1))
    with torch.no_grad(), ActivationStats(model) as stats:
        model(torch.rand(2, 1, 3, 3, generator=generator(1)))  # (N, C, H, W)
    assert stats.layers[0].pct_dead == 75.0


def test_pct_dead_single_example_vector():
    relu = nn.ReLU()
    with ActivationStats(relu) as stats:
        relu(torch.tensor([-1.0, 2.0, 0.0, 3.0]))  # the lecture's (512,) vector case
    assert stats.layers[0].pct_dead == 50.0


# --- module selection --------------------------------------------------------------------------

def test_auto_selects_activation_modules():
    model = mlp(4, 2, width=5, depth=3, activation="tanh")
    stats = ActivationStats(model)
    assert [(r.name, r.type, r.index) for r in stats.layers] == [
        ("1", "Tanh", 0), ("3", "Tanh", 1), ("5", "Tanh", 2)]
    stats.remove()


def test_auto_falls_back_to_linear_layers_of_functional_models():
    model = FunctionalTanh()
    with ActivationStats(model) as stats:
        model(torch.randn(3, 4))
    assert [r.name for r in stats.layers] == ["fc1", "fc2"]
    assert stats.layers[0].pct_saturated == 0.0


def test_selection_modes_and_errors():
    model = mlp(4, 2, width=5, depth=1, activation="relu", dropout=0.1)
    assert [n for n, _ in select_modules(model, "linear")] == ["0", "3"]
    assert [n for n, _ in select_modules(model, "leaves")] == ["0", "1", "2", "3"]
    assert [n for n, _ in select_modules(model, [model[3], "1", model[3]])] == ["3", "1"]
    assert select_modules(nn.Tanh(), "auto")[0][0] == "(model)"
    with pytest.raises(ValueError, match="not a submodule"):
        select_modules(model, [nn.ReLU()])
    with pytest.raises(ValueError, match="'auto', 'linear', 'leaves'"):
        select_modules(model, "everything")
    with pytest.raises(ValueError, match="selects no module"):
        select_modules(nn.Flatten(), "auto")


@pytest.mark.parametrize("kwargs, match", [
    (dict(bins=0), "bins"), (dict(range=(1, 1)), "range"), (dict(range=(0, math.inf)), "range"),
    (dict(saturation=1.0), "saturation"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ActivationStats(nn.Tanh(), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(bins=2.0), "bins must be a positive int, got float"),
    (dict(range="ab"), r"range must be a pair \(lo, hi\)"),
    (dict(saturation="0.9"), "saturation must be a real number, got str"),
])
def test_bad_argument_types(kwargs, match):
    with pytest.raises(TypeError, match=match):
        ActivationStats(nn.Tanh(), **kwargs)


def test_model_must_be_a_module():
    with pytest.raises(TypeError, match="nn.Module"):
        ActivationStats(lambda x: x)


# --- hooks: removal, memory, history -----------------------------------------------------------

def test_hooks_are_removed_on_exit_and_pending_gradients_ignored():
    model = mlp(4, 2, width=5, depth=2, activation="relu")
    before = forward_hooks(model)
    with ActivationStats(model, modules="leaves") as stats:
        assert forward_hooks(model) == before + 5
        y = model(torch.randn(3, 4))
    assert forward_hooks(model) == before == 0
    y.sum().backward()  # the graph's tensor hooks fire after removal: they must do nothing
    assert all(r.grad_std is None for r in stats.layers)
    model(torch.randn(3, 4))
    assert all(r.calls == 1 for r in stats.layers)


def test_records_hold_no_tensors_and_outputs_are_freed():
    model = mlp(4, 2, width=5, depth=2, activation="tanh")
    with ActivationStats(model) as stats:
        y = model(torch.randn(3, 4))
        y.sum().backward()
        ref = weakref.ref(y)
        del y
        gc.collect()
        assert ref() is None

    def no_tensor(value):
        if isinstance(value, list):
            return all(no_tensor(v) for v in value)
        return value is None or isinstance(value, (int, float, str))

    for row in stats.to_rows():
        assert all(no_tensor(v) for v in row.values()), row


def test_history_per_call_and_shared_module():
    act = nn.Tanh()
    model = nn.Sequential(nn.Linear(3, 3), act, nn.Linear(3, 3), act)  # one module used twice
    g = generator(0)
    with torch.no_grad(), ActivationStats(model) as stats:
        model(torch.randn(4, 3, generator=g))
        y = model(torch.randn(4, 3, generator=g))
    (rec,) = stats.layers
    assert rec.calls == 4 and len(rec.mean_history) == len(rec.std_history) == 4
    # the probe averages in float64: compare with the float64 mean, not float32's
    assert rec.mean == rec.mean_history[-1] == pytest.approx(y.double().mean().item(), rel=1e-12)


def test_grad_history_appends_per_backward():
    model, _, X = tanh_net()
    with ActivationStats(model) as stats:
        for _ in range(3):
            model(X).pow(2).sum().backward()
    assert len(stats.layers[0].grad_std_history) == 3


# --- rows and table ----------------------------------------------------------------------------

def test_to_rows_and_table_are_plain_and_deterministic():
    model, _, X = tanh_net()
    with ActivationStats(model) as stats:
        model(X)
    rows = stats.to_rows()
    assert isinstance(rows[0], dict) and type(rows[0]["mean"]) is float
    assert set(rows[0]) == {f.name for f in LayerStats.__dataclass_fields__.values()}
    table = stats.table(precision=2)
    lines = table.splitlines()
    assert lines[0].split() == ["layer", "name", "type", "mean", "std", "%sat", "%dead", "grad",
                                "std"]
    assert len(lines) == 2 and lines[1].split()[:3] == ["0", "1", "Tanh"]
    assert lines[1].split()[4] == format(stats.layers[0].std, ".2g")
    assert lines[1].split()[-1] == "-"  # no backward: no gradient std
    assert table == stats.table(precision=2)


def test_lecture_exploding_network_reports_nan_without_crashing():
    model = deep_stack(depth=100, width=64, weight_std=1.0, generator=generator(0))
    with torch.no_grad(), ActivationStats(model) as stats:
        model(torch.randn(1, 64, generator=generator(1)))
    assert math.isfinite(stats.layers[0].std) and not math.isfinite(stats.layers[-1].std)
    assert stats.layers[-1].nonfinite > 0 and "nan" in stats.table()


# --- update:data ratio -------------------------------------------------------------------------

def test_update_to_data_ratio_matches_a_hand_sgd_step():
    model = nn.Linear(4, 3).double()
    nn.init.zeros_(model.bias)
    before = snapshot(model)
    model(torch.randn(5, 4, dtype=torch.float64)).pow(2).sum().backward()
    lr = 1e-3
    with torch.no_grad():
        model.weight.sub_(lr * model.weight.grad)
    ratios = update_to_data_ratio(model, before)
    expected = (lr * model.weight.grad).norm() / before["weight"].norm()
    assert ratios["weight"] == pytest.approx(expected.item(), rel=1e-12)
    assert ratios["bias"] == 0.0  # never moved, starts at zero
    with torch.no_grad():
        model.bias.add_(1.0)
    assert update_to_data_ratio(model, before)["bias"] == math.inf


def test_snapshot_is_detached_and_mismatches_raise():
    model = nn.Linear(2, 2)
    snap = snapshot(model)
    assert not snap["weight"].requires_grad and snap["weight"] is not model.weight
    with pytest.raises(ValueError, match="not a parameter"):
        update_to_data_ratio(model, {"other": torch.zeros(2)})
    with pytest.raises(ValueError, match="shape"):
        update_to_data_ratio(model, {"weight": torch.zeros(3, 3)})


# --- the deep-stack runner ---------------------------------------------------------------------

def test_run_stack_matches_a_hand_written_loop():
    run = run_stack(5, 16, "tanh", weight_std=0.3, batch=2, seed=4)
    g = generator(4)
    weights = [torch.randn(16, 16, generator=g) * 0.3 for _ in range(5)]
    x = torch.randn(2, 16, generator=g)
    for w in weights:
        x = torch.tanh(x @ w.T)
    torch.testing.assert_close(run.output, x)
    assert run.values("std")[-1] == pytest.approx(x.double().std().item(), rel=1e-5)
    assert all(v is None for v in run.values("grad_std"))


def test_run_stack_runs_on_the_seeded_generator_and_returns_a_stack_run():
    a = run_stack(3, 8, "relu", weight_std=0.5, batch=4, seed=1)
    b = run_stack(3, 8, "relu", weight_std=0.5, batch=4, seed=1)
    c = run_stack(3, 8, "relu", weight_std=0.5, batch=4, seed=2)
    assert isinstance(a, StackRun) and len(a.stats.layers) == 3
    assert torch.equal(a.output, b.output) and not torch.equal(a.output, c.output)
    assert a.output.device.type == "cpu" and a.output.shape == (4, 8)
    assert a.values("mean") == [rec.mean for rec in a.stats.layers]


def test_public_names_are_importable_from_the_package_and_from_stats():
    import dlcourse.probes as probes
    import dlcourse.probes.stats as stats

    for name in ["ActivationStats", "LayerStats", "select_modules", "snapshot",
                 "update_to_data_ratio"]:
        assert name in stats.__all__ and name in probes.__all__
        assert getattr(stats, name) is getattr(probes, name)


@pytest.mark.parametrize("activation", ["tanh", "relu", None])
def test_stack_output_is_run_stacks_output_bit_for_bit(activation):
    from dlcourse.probes import run_stack, stack_output

    for seed in (0, 5):
        run = run_stack(12, 64, activation, weight_std=0.2, batch=3, seed=seed)
        out = stack_output(12, 64, activation, weight_std=0.2, batch=3, seed=seed)
        assert out.shape == (3, 64) and torch.equal(out, run.output)
    other = stack_output(12, 64, activation, weight_std=0.2, batch=3, seed=6)
    assert not torch.equal(other, run.output)

"""Tests of dlcourse.experiments: the Weight initialization chapter's helpers.

They are checked against theory and hand computations (small sizes, so the whole file runs in a
few seconds).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch

from dlcourse import init as dlinit
from dlcourse.experiments.claims import (
    ClaimLog,
    fmt,
    percentile_of,
    spread_verdict,
    text_table,
    verdict,
)
from dlcourse.experiments.initialization import (
    blowup_depth,
    first_layer,
    first_layer_grad_std,
    glorot_table,
    gradient_decay,
    layer_table,
    pct_beyond,
    quadrant_data,
    relu_layer_moments,
    relu_moments_theory,
    rows_identical,
    stack_summary,
    tanh_mean_field_std,
    train_deep_relu,
    train_tiny_net,
    variance_of_sum,
)
from dlcourse.nn import mlp
from dlcourse.probes import LayerStats, run_stack
from dlcourse.runtime import generator

# --- claims ------------------------------------------------------------------------------------

def test_fmt_significant_digits_tuples_and_specials():
    assert fmt(0.061234567) == "0.06123"
    assert fmt(7.7803e-16) == "7.78e-16"
    assert fmt((9.027289, 16.01248)) == "(9.027, 16.01)"
    assert fmt(float("nan")) == "nan" and fmt(0.0) == "0"
    assert fmt(29) == "29" and fmt("×4") == "×4" and fmt(True) == "True"


@pytest.mark.parametrize("lecture, ours, expected", [
    (0.0613, 0.0609, "match"), (0.0613, 0.067, "close"), (16.01, 13.21, "ours ×0.83"),
    (7.78e-16, 1.12e-15, "ours ×1.4"), (4.0, 1.0, "ours ×0.25"), (1e-3, 1.0, "ours ×1e+03"),
    (float("nan"), float("nan"), "match"), (float("nan"), 1.0, "differs"), (0.0, 0.0, "match"),
    (0.0, 1e-30, "differs"), (-1.0, 1.0, "differs"), ("identical", "identical", "match"),
    ("tanh", "logistic", "differs"), ((9.027, 16.01), (9.01, 15.98), "match"),
    ((0.2789, 0.4226), (0.888, 1.263), "ours ×3.2"), ((1.0, 1.0), (1.0, float("nan")), "differs"),
])
def test_verdict(lecture, ours, expected):
    assert verdict(lecture, ours) == expected


def test_claim_log_prints_each_line_and_tabulates(capsys):
    log = ClaimLog()
    item = log.add("std after 100 layers", 0.0613, 0.0609, note="one draw")
    assert capsys.readouterr().out == "std after 100 layers — lecture: 0.0613 · ours: 0.0609\n"
    assert item.verdict == "match"
    log.add("factor 4 belongs to", "tanh", "logistic", verdict_="lecture wrong")
    page = log._repr_html_()
    assert page.startswith('<table class="table"><thead><tr><th>claim</th>')
    assert "<td>std after 100 layers</td><td>0.0613</td><td>0.0609</td><td>match</td>" in page
    assert "<td>tanh</td><td>logistic</td><td>lecture wrong</td>" in page
    log.add("|x| < 1 & y", 1.0, 1.0)
    assert "<td>|x| &lt; 1 &amp; y</td>" in log._repr_html_()
    assert "std after 100 layers" in repr(log)


def test_text_table_aligns_columns():
    out = text_table([{"a": 1, "b": 0.123456}, {"a": 10, "b": 2.0}], digits=3).splitlines()
    assert out == [" a      b", " 1  0.123", "10      2"]
    assert text_table([]) == "(no rows)"


def test_percentile_of_counts_values_below_and_ties_half():
    ours = [0.1, 0.2, 0.3, 0.4]
    assert percentile_of(0.05, ours) == 0 and percentile_of(0.5, ours) == 100
    assert percentile_of(0.25, ours) == 50
    assert percentile_of(0.2, ours) == pytest.approx(37.5)  # one below, one tie


def test_spread_verdict_inside_below_above():
    ours = [0.045, 0.05, 0.055, 0.06, 0.07]
    assert spread_verdict(0.0613, ours) == "inside our 5-seed range (percentile 80)"
    assert spread_verdict(0.02, ours) == ("outside our 5-seed range "
                                          "(below: lecture = 0.44 × our lowest)")
    assert spread_verdict(0.14, ours) == ("outside our 5-seed range "
                                          "(above: lecture = 2 × our highest)")


def test_spread_verdict_gives_no_ratio_across_zero():
    assert spread_verdict(-0.0034, [0.0, 0.001]) == ("outside our 2-seed range "
                                                     "(below: our lowest is 0)")
    assert spread_verdict(0.002, [-0.003, -0.001]) == ("outside our 2-seed range "
                                                       "(above: our highest is -0.001)")


def test_spread_verdict_judges_tuples_entry_by_entry():
    ours = [(0.2, 0.4), (0.3, 0.5), (0.25, 0.45)]
    assert spread_verdict((0.28, 0.42), ours) == ("inside our 3-seed range "
                                                  "(percentiles 67, 33)")
    # the mean is inside, the std above: outside, and the text says which entry
    out = spread_verdict((0.28, 0.6), ours)
    assert out.startswith("outside our 3-seed range (percentile 67; above: lecture = 1.2")


def test_spread_verdict_rejects_bad_values():
    with pytest.raises(TypeError, match="ours must be a list"):
        spread_verdict(0.1, 0.2)
    with pytest.raises(ValueError, match="ours is empty"):
        spread_verdict(0.1, [])
    with pytest.raises(ValueError, match="nan"):
        spread_verdict(0.1, [0.1, float("nan")])
    with pytest.raises(ValueError, match="tuples of length 2"):
        spread_verdict((0.1, 0.2), [0.1, 0.2])


def test_claim_log_add_spread_prints_range_and_verdict(capsys):
    log = ClaimLog(digits=2)
    item = log.add_spread("std after 100 layers", 0.0613, [0.0489, 0.0712, 0.0555], note="n")
    line = capsys.readouterr().out.strip()
    assert line == ("std after 100 layers — lecture: 0.0613 · ours, 3 seeds: [0.049, 0.071]"
                    " · inside our 3-seed range (percentile 67)")
    assert item.seeds == [0.0489, 0.0712, 0.0555] and item.ours == "[0.049, 0.071]"
    assert log.rows()[0]["ours"] == "[0.049, 0.071]"
    assert log.rows()[0]["verdict"].startswith("inside")


def test_claim_log_digits_round_our_numbers(capsys):
    ClaimLog(digits=2).add("x", 0.0613, 0.048961)
    assert capsys.readouterr().out.strip() == "x — lecture: 0.0613 · ours: 0.049"


# --- variance of a sum and symmetry ------------------------------------------------------------

@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_variance_of_sum_is_n_var_w(scale):
    n = 64
    var = variance_of_sum(n, scale / math.sqrt(n), trials=20_000)
    assert var == pytest.approx(scale**2, rel=0.05)


def test_quadrant_data_labels():
    X, y = quadrant_data(n=100, features=4, seed=3)
    assert X.shape == (100, 4) and y.shape == (100, 1) and y.dtype == torch.float32
    assert torch.equal(y[:, 0] == 1, X[:, 0] * X[:, 1] > 0)


def test_constant_init_keeps_hidden_units_identical_random_does_not():
    X, y = quadrant_data(n=64)
    for init in (dlinit.zeros_, functools.partial(dlinit.constant_, val=0.3)):
        net, history = train_tiny_net(init, X, y, epochs=5, lr=1.0, batch_size=16)
        assert len(history.step_loss) == 20
        assert rows_identical(net[0].weight) and rows_identical(net[0].bias[:, None])
        assert not torch.equal(net[0].weight, torch.zeros_like(net[0].weight))  # it did learn
    net, _ = train_tiny_net("xavier_normal", X, y, epochs=5, lr=1.0, batch_size=16)
    assert not rows_identical(net[0].weight)


def test_tiny_net_is_the_lectures_4_2_1_network():
    X, y = quadrant_data(n=32)
    net, history = train_tiny_net("xavier_normal", X, y, epochs=2, batch_size=16)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(2, 4), (1, 2)]  # 4 -> 2 -> 1
    assert any(isinstance(m, torch.nn.Sigmoid) for m in net.modules())
    assert len(history.loss) == 2 and len(history.step_loss) == 4


def test_rows_identical_is_bitwise():
    w = torch.ones(3, 4)
    assert rows_identical(w)
    w[2, 1] = torch.nextafter(torch.tensor(1.0), torch.tensor(2.0))
    assert not rows_identical(w)


# --- deep stacks -------------------------------------------------------------------------------

def test_run_stack_backward_feeds_a_gaussian_gradient():
    run = run_stack(4, 32, "tanh", weight_std=1 / math.sqrt(32), batch=8, seed=0, backward=True)
    grads = run.values("grad_std")
    assert all(v is not None and v > 0 for v in grads)
    assert grads[-1] == pytest.approx(1.0, rel=0.2)  # G ~ N(0, 1) at the output
    ratio, per_layer = gradient_decay(run)
    assert ratio == pytest.approx(grads[0] / grads[-1])
    assert per_layer == pytest.approx(ratio ** (1 / 3))
    summary = stack_summary(run)
    assert summary["grad first/last"] == ratio and summary["grad per layer"] == per_layer
    assert summary["% saturated"] == pytest.approx(np.mean(run.values("pct_saturated")[1:]))
    assert summary["std last"] == run.values("std")[-1]
    with pytest.raises(ValueError, match="backward=True"):
        gradient_decay(run_stack(2, 8, "tanh", weight_std=0.1))


def test_identity_stack_explodes_and_vanishes_where_float32_predicts():
    big = run_stack(60, 64, weight_std=1.0)
    layer = first_layer(big.values("std"), lambda v: not math.isfinite(v))
    assert abs(layer - blowup_depth(8.0, float(torch.finfo(torch.float32).max))) <= 3
    small = run_stack(80, 64, weight_std=0.02)
    layer = first_layer(small.values("std"), lambda v: v == 0.0)
    assert abs(layer - blowup_depth(8 * 0.02, 2.0**-149)) <= 3


def test_first_layer_and_blowup_depth():
    assert first_layer([1.0, 2.0, 3.0], lambda v: v > 1.5) == 2
    assert first_layer([1.0], lambda v: v > 5) is None
    assert blowup_depth(10.0, 1e6) == pytest.approx(6.0)
    assert blowup_depth(0.1, 1e-3) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        blowup_depth(1.0, 10.0)


def test_pct_beyond_reads_the_histogram():
    rec = LayerStats(name="1", type="Tanh", index=0,
                     hist_counts=[3, 1, 0, 4, 2], hist_edges=list(np.linspace(-1, 1, 6)))
    assert pct_beyond(rec, 0.6) == pytest.approx(100 * 5 / 10)
    assert pct_beyond(rec, 0.2) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="edge"):
        pct_beyond(rec, 0.5)


def test_layer_table_has_a_row_per_run_and_quantity_and_a_column_per_layer():
    runs = {"a": run_stack(3, 8, "tanh", weight_std=0.5, hist_range=(-1, 1)),
            "b": run_stack(3, 8, "tanh", weight_std=2.0, hist_range=(-1, 1))}
    lines = layer_table(runs, extra={"%>0.9": lambda r: pct_beyond(r, 0.9)}).splitlines()
    assert lines[0].split() == ["run", "1", "2", "3"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["a", "std"], ["a", "%>0.99"], ["a", "%>0.9"],
        ["b", "std"], ["b", "%>0.99"], ["b", "%>0.9"]]
    assert lines[4].split()[2] == fmt(runs["b"].stats.layers[0].std, 3)


# --- theory ------------------------------------------------------------------------------------

def test_relu_moments_theory_values():
    t = relu_moments_theory(512)
    assert t["mean"] == pytest.approx(9.0270333, rel=1e-6)
    assert t["rms"] == pytest.approx(16.0) and t["std"] == pytest.approx(13.2103, rel=1e-4)
    k = relu_moments_theory(512, weight_std=math.sqrt(2 / 512))
    assert k["rms"] == pytest.approx(1.0)
    assert k["mean"] / k["std"] == pytest.approx(1 / math.sqrt(math.pi - 1))


def test_relu_layer_moments_agree_with_theory():
    m = relu_layer_moments(width=64, trials=4000, chunk=1000, seed=1)
    t = relu_moments_theory(64)
    for key in ("mean", "rms", "std"):
        assert m[key] == pytest.approx(t[key], rel=0.03)
    with pytest.raises(ValueError, match="multiple"):
        relu_layer_moments(trials=1500, chunk=1000)


def test_tanh_mean_field_matches_a_wide_stack_and_the_asymptote():
    pred = tanh_mean_field_std(6)
    run = run_stack(6, 2048, "tanh", weight_std=1 / math.sqrt(2048), batch=16)
    np.testing.assert_allclose(run.values("std"), pred, rtol=0.05)
    assert tanh_mean_field_std(400)[-1] == pytest.approx(1 / math.sqrt(800), rel=0.05)
    # in the linear regime (tiny q0) one layer keeps the variance when n·σ² = 1
    assert tanh_mean_field_std(1, q0=1e-6)[0] == pytest.approx(1e-3, rel=1e-3)


def test_glorot_table_square_and_non_square():
    rows = {r["activation"]: r for r in glorot_table(512, 512)}
    assert rows["logistic"]["table r"] == pytest.approx(math.sqrt(6 / 1024))
    assert rows["tanh"]["table σ"] == pytest.approx(4 * math.sqrt(2 / 1024))
    assert rows["logistic"]["derived factor"] == 4.0 and rows["tanh"]["derived factor"] == 1.0
    assert rows["relu"]["derived σ"] == pytest.approx(rows["relu"]["table σ"])  # square: equal
    assert rows["tanh"]["torch gain"] == pytest.approx(5 / 3)
    assert rows["logistic"]["torch gain"] == 1.0
    rows = {r["activation"]: r for r in glorot_table(784, 100)}
    assert rows["relu"]["table σ"] == pytest.approx(math.sqrt(4 / 884))
    assert rows["relu"]["derived σ"] == pytest.approx(math.sqrt(2 / 784))


# --- deep ReLU nets on data ----------------------------------------------------------------------

def test_first_layer_grad_std_and_clears_gradients():
    net = mlp(5, 3, width=8, depth=2, init="kaiming_normal", generator=generator(0))
    X, y = torch.randn(10, 5, generator=generator(1)), torch.arange(10) % 3
    value = first_layer_grad_std(net, X, y)
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(X), y).backward()
    assert value == pytest.approx(net[0].weight.grad.std().item())
    net.zero_grad()
    first_layer_grad_std(net, X, y)
    assert all(p.grad is None or not p.grad.any() for p in net.parameters())


def test_first_layer_grad_std_refuses_a_frozen_first_layer_and_a_net_without_linear():
    net = mlp(5, 3, width=8, depth=2, generator=generator(0))
    net[0].weight.requires_grad_(False)
    X, y = torch.randn(10, 5, generator=generator(1)), torch.arange(10) % 3
    with pytest.raises(ValueError, match=r"got no gradient.*requires_grad=False.*unfreeze"):
        first_layer_grad_std(net, X, y)
    with pytest.raises(ValueError, match=r"no nn\.Linear layer"):
        first_layer_grad_std(torch.nn.Sequential(torch.nn.Identity()), X, y)


def test_train_deep_relu_xavier_vanishes_kaiming_learns():
    g = generator(0)
    X = torch.randn(256, 16, generator=g)
    y = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()  # three classes
    hx, gx = train_deep_relu("xavier_normal", (X, y), depth=20, width=32, lr=0.02, epochs=3)
    hk, gk = train_deep_relu("kaiming_normal", (X, y), depth=20, width=32, lr=0.02, epochs=3)
    assert len(hx.loss) == 3 and len(hx.step_loss) == 3 * 4
    assert gx < 1e-2 * gk  # about 2**-10 smaller after 20 layers
    assert abs(hx.loss[-1] - math.log(3)) < 0.05

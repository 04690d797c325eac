"""Tests of dlcourse.experiments.guidelines: the splits, the recipe's network and optimizer."""

from __future__ import annotations

import math

import torch
from torch import nn

from dlcourse.experiments import guidelines as gl


def test_splits_are_disjoint_float64_and_sized():
    s = gl.digits_splits(valid=300)
    assert (len(s.y_train), len(s.y_valid), len(s.y_test)) == (1047, 300, 450)
    assert s.X_train.dtype == s.X_valid.dtype == s.X_test.dtype == torch.float64
    rows = {tuple(r.tolist()) for r in s.X_train}
    assert sum(tuple(r.tolist()) in rows for r in s.X_valid) < 10  # only duplicate images


def test_recipe_builds_the_table_and_ablations_change_one_thing():
    net = gl.build(gl.Recipe(), depth=4, width=16, seed=0)
    kinds = [type(m) for m in net]
    assert kinds.count(nn.BatchNorm1d) == 4 and kinds.count(nn.ELU) == 4
    assert net[0].weight.dtype == torch.float64
    assert abs(net[0].weight.std().item() - math.sqrt(2 / 64)) < 0.03  # He
    plain = gl.build(gl.ABLATIONS["no batch norm"], depth=4, width=16, seed=0)
    assert nn.BatchNorm1d not in [type(m) for m in plain]
    for name, recipe in gl.ABLATIONS.items():
        changed = [
            f
            for f in gl.Recipe.__dataclass_fields__
            if getattr(recipe, f) != getattr(gl.Recipe(), f)
        ]
        assert len(changed) == (0 if name == "all defaults" else 1)


def test_one_cycle_rises_to_the_peak_and_anneals():
    net = gl.build(gl.Recipe(), depth=1, width=8, seed=0)
    opt = gl._optimizer(net, gl.Recipe(), 0.01, steps=20)
    lrs = []
    for _ in range(20):
        opt.zero_grad()
        net(torch.randn(4, 64, dtype=torch.float64)).sum().backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert max(lrs) > 0.009 and lrs[0] < 0.005 and lrs[-1] < 2e-4
    const = gl._optimizer(net, gl.Recipe(schedule="constant"), 0.01, steps=20)
    assert isinstance(const, torch.optim.NAdam) and const.param_groups[0]["lr"] == 0.01


def test_subset_relabels_and_draws_per_class():
    X = torch.arange(20.0).reshape(20, 1)
    y = torch.arange(20) % 10
    Xs, ys = gl._subset(X, y, range(5, 10), 1, torch.Generator().manual_seed(0))
    assert sorted(ys.tolist()) == [0, 1, 2, 3, 4]
    assert all(int(x) % 10 - 5 == int(t) for x, t in zip(Xs.flatten(), ys))


def test_search_objective_reports_one_loss_per_epoch():
    s = gl.digits_splits()
    curve = list(gl.search_objective(s, epochs=2)({"lr": 1e-2, "width_mult": 0.25}))
    assert len(curve) == 2 and curve[1] < curve[0] < math.log(10) + 0.5

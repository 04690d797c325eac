"""Tests of dlcourse.optim.lr_scheduler: parity with torch, formulas, interval warnings."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.optim import lr_scheduler as ours


def _sgd(lr: float = 0.1, momentum: float = 0.9, groups: int = 1) -> torch.optim.SGD:
    params = [
        {"params": [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))], "lr": lr * (i + 1)}
        for i in range(groups)
    ]
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


def _run(scheduler_of, steps: int, opt_kind=_sgd, metrics=None) -> tuple[list, list]:
    """Rates and momenta after each of ``steps`` optimizer+scheduler steps."""
    opt = opt_kind()
    sched = scheduler_of(opt)
    lrs, moms = [[g["lr"] for g in opt.param_groups]], [_momentum(opt)]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(_momentum(opt))
    return lrs, moms


def _momentum(opt):
    g = opt.param_groups[0]
    return g["betas"][0] if "betas" in g else g.get("momentum")


def _same(a, b, rel=1e-12):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == pytest.approx(y, rel=rel, abs=1e-15)


# --- parity with PyTorch --------------------------------------------------------------------------


@pytest.mark.parametrize(("milestones", "gamma"), [([50], 0.01), ([3, 7, 8], 0.5), ([1], 0.1)])
def test_piecewise_matches_multisteplr(milestones, gamma):
    mine = _run(lambda o: ours.PiecewiseConstantLR(o, milestones, gamma), 60)
    theirs = _run(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma), 60)
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)


def test_lecture_piecewise_example():
    lrs, _ = _run(lambda o: ours.PiecewiseConstantLR(o, [50], 0.01), 60)
    assert lrs[49][0] == pytest.approx(0.1) and lrs[50][0] == pytest.approx(0.001)


@pytest.mark.parametrize("r", [1.0, 20.0, 137.5])
def test_exponential_matches_exponentiallr(r):
    mine = _run(lambda o: ours.ExponentialDecayLR(o, r), 300, lambda: _sgd(groups=2))
    theirs = _run(
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 10 ** (-1 / r)),
        300,
        lambda: _sgd(groups=2),
    )
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"anneal_strategy": "linear"},
        {"three_phase": True},
        {"three_phase": True, "anneal_strategy": "linear", "pct_start": 0.45},
        {"div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9},
    ],
)
@pytest.mark.parametrize("adam", [False, True])
def test_one_cycle_matches_torch(kwargs, adam):
    def opt():
        p = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))]
        return torch.optim.Adam(p, lr=0.1) if adam else torch.optim.SGD(p, lr=0.1, momentum=0.9)

    mine = _run(lambda o: ours.OneCycleLR(o, 0.5, 97, **kwargs), 97, opt)
    theirs = _run(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, 97, **kwargs), 97, opt)
    _same([x[0] for x in mine[0]], [x[0] for x in theirs[0]], rel=1e-12)
    _same(mine[1], theirs[1], rel=1e-12)


def test_one_cycle_past_total_steps_raises():
    opt = _sgd()
    sched = ours.OneCycleLR(opt, 1.0, total_steps=5)
    for _ in range(5):
        opt.step()
        sched.step()
    opt.step()
    with pytest.raises(ValueError, match="total_steps is 5"):
        sched.step()


PLATEAU = [
    {},
    {"patience": 0},
    {"patience": 2, "cooldown": 3},
    {"threshold": 0.05},
    {"threshold": 0.05, "threshold_mode": "abs", "patience": 1},
    {"mode": "max", "patience": 1},
    {"factor": 0.5, "min_lr": 0.02, "patience": 1},
]


@pytest.mark.parametrize("kwargs", PLATEAU)
@given(values=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=40))
@settings(max_examples=40, deadline=None)
def test_plateau_matches_torch(kwargs, values):
    mine = _run(lambda o: ours.ReduceLROnPlateau(o, **kwargs), len(values), metrics=values)
    theirs = _run(
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kwargs),
        len(values),
        metrics=values,
    )
    for a, b in zip(mine[0], theirs[0]):
        _same(a, b)


def test_plateau_patience_threshold_cooldown_by_hand():
    opt = _sgd(lr=1.0)
    sched = ours.ReduceLROnPlateau(opt, patience=1, cooldown=1, threshold=0.1)
    lrs = []
    for v in [1.0, 0.95, 0.95, 0.5, 0.5, 0.5, 0.5]:
        opt.step()
        sched.step(v)
        lrs.append(opt.param_groups[0]["lr"])
    # 0.95 is not 10 % better than 1.0: two bad values > patience 1 -> cut at the 3rd; the 4th
    # improves; the 5th and 6th are bad -> second cut; the 7th falls in the cooldown
    assert lrs == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01])


# --- formulas -------------------------------------------------------------------------------------


@given(t=st.integers(0, 10_000), r=st.floats(0.5, 1e4), c=st.floats(0.1, 3.0))
def test_formulas(t, r, c):
    assert ours.exponential_lr(t, 0.01, r) == pytest.approx(0.01 * 10 ** (-t / r))
    assert ours.power_lr(t, 0.01, r, c) == pytest.approx(0.01 * (1 + t / r) ** (-c))
    assert ours.exponential_lr(t + round(r), 1.0, round(r) or 1) <= ours.exponential_lr(t, 1, 1e9)


def test_tenfold_every_r_and_power_halves_at_r():
    assert ours.exponential_lr(20, 0.01, 20) == pytest.approx(0.001)
    assert ours.exponential_lr(40, 0.01, 20) == pytest.approx(0.0001)
    assert ours.power_lr(20, 0.01, 20, 1.0) == pytest.approx(0.005)
    assert ours.power_lr(60, 0.01, 20, 1.0) == pytest.approx(0.0025)


@pytest.mark.parametrize(("r", "c"), [(10.0, 1.0), (3.0, 0.5), (50.0, 2.0)])
def test_power_scheduler_follows_formula(r, c):
    lrs, _ = _run(lambda o: ours.PowerLR(o, r, c), 100, lambda: _sgd(lr=0.3, groups=2))
    for t, row in enumerate(lrs):
        assert row[0] == pytest.approx(0.3 * (1 + t / r) ** -c, rel=1e-12)
        assert row[1] == pytest.approx(0.6 * (1 + t / r) ** -c, rel=1e-12)


def test_one_cycle_shape():
    lr = [
        ours.one_cycle(t, 100, 1.0, three_phase=True, anneal_strategy="linear") for t in range(101)
    ]
    rates, moms = [x[0] for x in lr], [x[1] for x in lr]
    peak = max(range(101), key=rates.__getitem__)
    assert peak == 29 and rates[0] == pytest.approx(0.04) and rates[peak] == pytest.approx(1.0)
    assert rates[58] == pytest.approx(0.04) and rates[99] == pytest.approx(0.04 / 1e4)
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85)
    assert all(m == pytest.approx(0.95) for m in moms[59:])
    assert all(a < b for a, b in zip(rates[:29], rates[1:30]))  # warm-up rises
    assert all(a > b for a, b in zip(rates[29:99], rates[30:100]))  # then falls


def test_scheduler_is_a_torch_lrscheduler_and_state_dict_round_trips():
    opt = _sgd()
    sched = ours.ExponentialDecayLR(opt, 10.0)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
    for _ in range(5):
        opt.step()
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and "_handle" not in state and state["last_epoch"] == 5
    fresh = ours.ExponentialDecayLR(_sgd(), 10.0)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 5 and fresh.get_last_lr() == sched.get_last_lr()


# --- per batch or per epoch -----------------------------------------------------------------------

BATCH = [
    lambda o: ours.ExponentialDecayLR(o, 10.0),
    lambda o: ours.PowerLR(o, 10.0),
    lambda o: ours.OneCycleLR(o, 1.0, 100),
]
EPOCH = [
    lambda o: ours.PiecewiseConstantLR(o, [5], steps_per_epoch=4),
    lambda o: ours.ReduceLROnPlateau(o, steps_per_epoch=4),
]


def _epochs(sched, opt, per_epoch: bool, steps: int = 4, epochs: int = 3) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(epochs):
            for _ in range(steps):
                opt.step()
                if not per_epoch:
                    _step(sched)
            if per_epoch:
                _step(sched)
    return [w for w in caught if "scheduler.step()" in str(w.message)]


def _step(sched):
    sched.step(1.0) if isinstance(sched, ours.ReduceLROnPlateau) else sched.step()


@pytest.mark.parametrize("make", BATCH)
def test_batch_schedule_warns_once_when_stepped_per_epoch(make):
    opt = _sgd()
    assert len(_epochs(make(opt), opt, per_epoch=True)) == 1
    opt = _sgd()
    assert _epochs(make(opt), opt, per_epoch=False) == []


@pytest.mark.parametrize("make", EPOCH)
def test_epoch_schedule_warns_once_when_stepped_per_batch(make):
    opt = _sgd()
    caught = _epochs(make(opt), opt, per_epoch=False)
    assert len(caught) == 1 and "once per epoch" in str(caught[0].message)
    opt = _sgd()
    assert _epochs(make(opt), opt, per_epoch=True) == []


def test_epoch_schedule_without_steps_per_epoch_stays_silent():
    opt = _sgd()
    assert _epochs(ours.PiecewiseConstantLR(opt, [5]), opt, per_epoch=False) == []


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: ours.ExponentialDecayLR(o, 0), ValueError, "r must be"),
        (lambda o: ours.ExponentialDecayLR(o, "10"), TypeError, "r must be a real"),
        (lambda o: ours.PowerLR(o, 10, c=-1), ValueError, "c must be"),
        (lambda o: ours.PiecewiseConstantLR(o, [5, 3]), ValueError, "milestones must increase"),
        (lambda o: ours.PiecewiseConstantLR(o, 5), TypeError, "milestones must be a list"),
        (lambda o: ours.PiecewiseConstantLR(o, [5], gamma=2), ValueError, "gamma must be"),
        (
            lambda o: ours.PiecewiseConstantLR(o, [5], steps_per_epoch=0),
            ValueError,
            "steps_per_epoch",
        ),
        (lambda o: ours.OneCycleLR(o, -1.0, 10), ValueError, "max_lr must be"),
        (lambda o: ours.OneCycleLR(o, 1.0, 10.5), TypeError, "total_steps"),
        (lambda o: ours.OneCycleLR(o, 1.0, 10, pct_start=1.0), ValueError, "pct_start"),
        (
            lambda o: ours.OneCycleLR(o, 1.0, 10, anneal_strategy="exp"),
            ValueError,
            "anneal_strategy",
        ),
        (lambda o: ours.ReduceLROnPlateau(o, factor=1.0), ValueError, "factor must be"),
        (lambda o: ours.ReduceLROnPlateau(o, mode="lowest"), ValueError, "mode"),
        (lambda o: ours.ReduceLROnPlateau(o, patience=-1), ValueError, "patience"),
        (lambda o: ours.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold_mode"),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_sgd())


def test_not_an_optimizer_and_no_momentum():
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        ours.PowerLR([torch.zeros(1)], 10.0)
    adagrad = torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="cycle_momentum=False"):
        ours.OneCycleLR(adagrad, 1.0, 10)
    assert math.isclose(
        ours.OneCycleLR(adagrad, 1.0, 10, cycle_momentum=False).get_last_lr()[0], 0.04
    )

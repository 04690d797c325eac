"""dlcourse.optim against torch.optim: same trajectories (float64), same state, clear errors."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlcourse import optim as dopt

# (ours, torch's, keyword arguments): every optimizer with its options switched on and off.
CASES: list[tuple[type, type, dict]] = [
    (dopt.SGD, torch.optim.SGD, dict(lr=0.05)),
    (dopt.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (dopt.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=1e-2)),
    (dopt.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    (dopt.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.5, maximize=True)),
    (dopt.Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    (
        dopt.Adagrad,
        torch.optim.Adagrad,
        dict(lr=0.1, lr_decay=0.01, weight_decay=1e-2, initial_accumulator_value=0.1, eps=1e-6),
    ),
    (dopt.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (
        dopt.RMSprop,
        torch.optim.RMSprop,
        dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-2),
    ),
    (dopt.Adam, torch.optim.Adam, dict(lr=0.01)),
    (dopt.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2)),
    (dopt.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    (dopt.NAdam, torch.optim.NAdam, dict(lr=0.01)),
    (
        dopt.NAdam,
        torch.optim.NAdam,
        dict(lr=0.01, betas=(0.8, 0.99), weight_decay=1e-2, momentum_decay=0.01),
    ),
    (dopt.Adamax, torch.optim.Adamax, dict(lr=0.01)),
    (dopt.Adamax, torch.optim.Adamax, dict(lr=0.01, betas=(0.8, 0.99), weight_decay=1e-2)),
]
IDS = [f"{ours.__name__}-{i}" for i, (ours, _, _) in enumerate(CASES)]


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))


def _cnn() -> nn.Module:
    return nn.Sequential(nn.Conv1d(5, 4, 1), nn.ReLU(), nn.Flatten(), nn.Linear(4, 3))


def _rosenbrock_param() -> nn.Module:
    module = nn.Module()
    module.xy = nn.Parameter(torch.tensor([-1.2, 1.0]))
    return module


MODELS: dict[str, Callable[[], nn.Module]] = {"mlp": _mlp, "cnn": _cnn, "rosen": _rosenbrock_param}


def _loss(name: str, model: nn.Module, step: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(step)
    if name == "rosen":
        x, y = model.xy
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    X = torch.randn(16, 5, generator=g, dtype=torch.float64)
    if name == "cnn":
        X = X.unsqueeze(-1)  # (N, C, L=1)
    out = model(X)
    return torch.log1p(out.square()).mean() + 0.1 * torch.sin(out).mean()  # bounded growth


def _run(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    name: str,
    steps: int,
    lr_change: tuple[int, float] | None = None,
) -> list[torch.Tensor]:
    trajectory = []
    for t in range(steps):
        if lr_change is not None and t == lr_change[0]:
            for group in opt.param_groups:
                group["lr"] *= lr_change[1]
        opt.zero_grad()
        _loss(name, model, t).backward()
        opt.step()
        trajectory.append(torch.cat([p.detach().flatten().clone() for p in model.parameters()]))
    return trajectory


def _pair(model_name: str) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    a = MODELS[model_name]().double()
    return a, copy.deepcopy(a)


def _groups(model: nn.Module, kwargs: dict) -> list[dict]:
    """Two parameter groups: weights with the defaults, biases with half the learning rate."""
    weights = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    groups = [{"params": weights}]
    if biases:
        groups.append({"params": biases, "lr": kwargs["lr"] / 2})
    return groups


@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize(("ours", "theirs", "kwargs"), CASES, ids=IDS)
def test_trajectory_matches_torch(ours, theirs, kwargs, model_name):
    a, b = _pair(model_name)
    kw = dict(kwargs)
    if model_name == "rosen":
        kw["lr"] = kw["lr"] / 50  # a steep valley: keep every optimizer stable
    mine = _run(a, ours(_groups(a, kw), **kw), model_name, 60, lr_change=(30, 0.3))
    ref = _run(b, theirs(_groups(b, kw), **kw), model_name, 60, lr_change=(30, 0.3))
    moved = (mine[-1] - mine[0]).abs().max()
    assert moved > 1e-6  # the test would pass trivially if nothing moved
    for t, (x, y) in enumerate(zip(mine, ref, strict=True)):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-13, msg=f"differs at step {t}")


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), CASES, ids=IDS)
def test_state_dict_round_trip_with_torch(ours, theirs, kwargs):
    a, b = _pair("mlp")
    opt_a = ours(a.parameters(), **kwargs)
    _run(a, opt_a, "mlp", 5)
    # ours -> torch: torch continues exactly where ours stopped
    b.load_state_dict(a.state_dict())
    opt_b = theirs(b.parameters(), **kwargs)
    opt_b.load_state_dict(copy.deepcopy(opt_a.state_dict()))  # load shares tensors
    assert set(opt_b.state_dict()["state"][0]) == set(opt_a.state_dict()["state"][0])
    # loading casts NAdam's float32 mu_product to the parameters' float64 (torch does it to its
    # own state too), so the next steps differ by rounding only
    tol = dict(rtol=1e-8, atol=1e-10) if ours is dopt.NAdam else dict(rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(_run(a, opt_a, "mlp", 5), _run(b, opt_b, "mlp", 5), **tol)
    # torch -> ours
    opt_c = ours(a.parameters(), **kwargs)
    opt_c.load_state_dict(copy.deepcopy(opt_b.state_dict()))
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(_run(a, opt_c, "mlp", 5), _run(b, opt_b, "mlp", 5), **tol)


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), CASES, ids=IDS)
def test_state_keys_match_torch(ours, theirs, kwargs):
    a, b = _pair("mlp")
    opt_a, opt_b = ours(a.parameters(), **kwargs), theirs(b.parameters(), **kwargs)
    _run(a, opt_a, "mlp", 2)
    _run(b, opt_b, "mlp", 2)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert set(opt_a.state[p]) == set(opt_b.state[q])
        for key, value in opt_b.state[q].items():
            assert opt_a.state[p][key].dtype == value.dtype, key


def test_defaults_match_torch():
    params = [nn.Parameter(torch.zeros(2))]
    for ours, theirs in [
        (dopt.SGD, torch.optim.SGD),
        (dopt.Adagrad, torch.optim.Adagrad),
        (dopt.RMSprop, torch.optim.RMSprop),
        (dopt.Adam, torch.optim.Adam),
        (dopt.NAdam, torch.optim.NAdam),
        (dopt.Adamax, torch.optim.Adamax),
    ]:
        mine, ref = ours(params).defaults, theirs(params).defaults
        for key, value in mine.items():
            assert ref[key] == value, f"{ours.__name__}.{key}: {value} vs torch {ref[key]}"


def test_closure_returns_the_loss_and_params_without_grad_stay():
    w = nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    frozen = nn.Parameter(torch.tensor([3.0], dtype=torch.float64))
    opt = dopt.Adam([w, frozen], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = w.square().sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == pytest.approx(5.0)
    assert frozen.item() == 3.0 and not opt.state[frozen]
    assert w.abs().max() < 2.0


BAD = [
    (dopt.SGD, dict(lr=-0.1), "lr"),
    (dopt.SGD, dict(momentum=-0.5), "momentum"),
    (dopt.SGD, dict(dampening=-1), "dampening"),
    (dopt.SGD, dict(nesterov=True), "nesterov"),
    (dopt.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
    (dopt.SGD, dict(weight_decay=-1e-4), "weight_decay"),
    (dopt.Adagrad, dict(lr_decay=-1), "lr_decay"),
    (dopt.Adagrad, dict(initial_accumulator_value=-1), "initial_accumulator_value"),
    (dopt.Adagrad, dict(eps=-1e-10), "eps"),
    (dopt.RMSprop, dict(alpha=1.0), "alpha"),
    (dopt.RMSprop, dict(momentum=-0.1), "momentum"),
    (dopt.Adam, dict(betas=(1.0, 0.999)), "betas"),
    (dopt.Adam, dict(betas=(0.9, -0.1)), "betas"),
    (dopt.Adam, dict(lr=float("nan")), "lr"),
    (dopt.NAdam, dict(momentum_decay=-1), "momentum_decay"),
    (dopt.Adamax, dict(betas=(0.9, 1.5)), "betas"),
    (dopt.Adamax, dict(weight_decay=-1), "weight_decay"),
]


BAD_IDS = [f"{c.__name__}-{n}" for c, _, n in BAD]


@pytest.mark.parametrize(("cls", "kwargs", "name"), BAD, ids=BAD_IDS)
def test_invalid_hyperparameters_raise_value_error(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([nn.Parameter(torch.zeros(1))], **kwargs)


@pytest.mark.parametrize("cls", [dopt.SGD, dopt.Adam, dopt.Adagrad])
def test_wrong_types_raise_type_error(cls):
    with pytest.raises(TypeError, match="lr"):
        cls([nn.Parameter(torch.zeros(1))], lr="0.1")
    if cls is dopt.Adam:
        with pytest.raises(TypeError, match="betas"):
            cls([nn.Parameter(torch.zeros(1))], betas=0.9)


@settings(max_examples=25, deadline=None)
@given(
    lr=st.floats(1e-4, 0.5),
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
    size=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_adam_matches_torch_for_any_hyperparameters(lr, beta1, beta2, size, seed):
    g = torch.Generator().manual_seed(seed)
    start = torch.randn(size, dtype=torch.float64, generator=g)
    targets = torch.randn(10, size, dtype=torch.float64, generator=g)
    paths = []
    for cls in (dopt.Adam, torch.optim.Adam):
        p = nn.Parameter(start.clone())
        opt = cls([p], lr=lr, betas=(beta1, beta2))
        for target in targets:
            opt.zero_grad()
            (p - target).pow(4).sum().backward()
            opt.step()
        paths.append(p.detach())
    torch.testing.assert_close(paths[0], paths[1], rtol=1e-11, atol=1e-12)


def test_first_adam_step_has_size_lr():
    """With bias correction the first step is lr·sign(g) (up to eps), whatever the scale of g."""
    for scale in (1e-3, 1.0, 1e6):
        p = nn.Parameter(torch.zeros(3, dtype=torch.float64))
        opt = dopt.Adam([p], lr=0.01)
        p.grad = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) * scale
        opt.step()
        torch.testing.assert_close(
            p.detach().abs(), torch.full((3,), 0.01, dtype=torch.float64), rtol=1e-4, atol=0
        )

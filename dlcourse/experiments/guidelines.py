r"""The demos of the chapter "Practical guidelines", all on the 8×8 digits.

The chapter shows the default recipe and its ablation, a health check of a run, hyperparameter
search and transfer learning.

The recipe is the third lecture's table of defaults: He initialization, ELU, batch norm (the
network is deep), early stopping, Nadam (momentum), and the 1cycle schedule
(``torch.optim.lr_scheduler.OneCycleLR``). :func:`train_recipe` trains a deep MLP with any
subset of these choices; :func:`ablation` removes one at a time over several seeds.

See the book: Practical guidelines.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from dlcourse import runtime
from dlcourse.data import load_digits
from dlcourse.nn import InitSpec, mlp
from dlcourse.probes import ActivationStats, snapshot, update_to_data_ratio
from dlcourse.train import EarlyStopping, evaluate, fit

__all__ = [
    "ABLATIONS",
    "Recipe",
    "Splits",
    "ablation",
    "build",
    "digits_splits",
    "health_check",
    "search_objective",
    "train_recipe",
    "transfer",
]


@dataclass(frozen=True)
class Recipe:
    """The choices of one training run; the defaults are the lecture's table.

    Attributes:
        init: ``"kaiming_normal"`` (He) or ``None`` (PyTorch's default).
        activation: ``"elu"`` or any :func:`dlcourse.nn.get_activation` name.
        batchnorm: a ``BatchNorm1d`` after every hidden Linear layer.
        early_stopping: stop after 5 epochs without a better validation loss; keep the best.
        optimizer: ``"nadam"`` (lr 0.01 at the peak) or ``"sgd"`` (no momentum, lr 0.1).
        schedule: ``"1cycle"`` or ``"constant"`` (the peak learning rate throughout).
    """

    init: InitSpec = "kaiming_normal"
    activation: str = "elu"
    batchnorm: bool = True
    early_stopping: bool = True
    optimizer: str = "nadam"
    schedule: str = "1cycle"


#: The rows of the ablation, each the recipe with one choice replaced (the name says which).
ABLATIONS: dict[str, Recipe] = {
    "all defaults": Recipe(),
    "no He init": Recipe(init=None),
    "ReLU, not ELU": Recipe(activation="relu"),
    "no batch norm": Recipe(batchnorm=False),
    "no early stopping": Recipe(early_stopping=False),
    "plain SGD, not Nadam": Recipe(optimizer="sgd"),
    "constant lr, not 1cycle": Recipe(schedule="constant"),
}


@dataclass(frozen=True)
class Splits:
    """Training, validation and test tensors of the digits."""

    X_train: Tensor
    y_train: Tensor
    X_valid: Tensor
    y_valid: Tensor
    X_test: Tensor
    y_test: Tensor


def digits_splits(valid: int = 300, seed: int = 0) -> Splits:
    """The digits split 1,347 / 450 (train / test), with ``valid`` training images held out.

    The images are float64: every model of the chapter trains in float64, so that its results
    do not depend on the machine's float32 kernels.
    """
    data = load_digits(seed=seed)
    data = replace(data, X_train=data.X_train.double(), X_test=data.X_test.double())
    perm = torch.randperm(len(data.y_train), generator=runtime.generator(seed))
    tr, va = perm[valid:], perm[:valid]
    return Splits(
        data.X_train[tr],
        data.y_train[tr],
        data.X_train[va],
        data.y_train[va],
        data.X_test,
        data.y_test,
    )


def _optimizer(model: nn.Module, recipe: Recipe, lr: float | None, steps: int) -> Any:
    """The optimizer of ``recipe``; a 1cycle schedule steps after every optimizer step."""
    peak = lr if lr is not None else (0.01 if recipe.optimizer == "nadam" else 0.1)
    opt: torch.optim.Optimizer
    if recipe.optimizer == "nadam":
        opt = torch.optim.NAdam(model.parameters(), lr=peak)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=peak)
    if recipe.schedule == "1cycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak, total_steps=steps)
        opt.register_step_post_hook(lambda *_: sched.step() if sched.last_epoch < steps else None)
    return opt


def build(recipe: Recipe, depth: int, width: int, seed: int, classes: int = 10) -> nn.Sequential:
    """The deep MLP of ``recipe`` (64 inputs), drawn from ``runtime.generator(seed)``."""
    return mlp(
        64,
        classes,
        width=width,
        depth=depth,
        activation=recipe.activation,
        init=recipe.init,
        norm=nn.BatchNorm1d if recipe.batchnorm else None,
        generator=runtime.generator(seed),
    ).double()


def train_recipe(
    recipe: Recipe,
    splits: Splits,
    seed: int = 0,
    depth: int = 8,
    width: int = 64,
    epochs: int = 15,
    lr: float | None = None,
) -> dict[str, Any]:
    """Train the deep MLP of ``recipe`` and return its test accuracy, history and model."""
    model = build(recipe, depth, width, seed)
    steps = epochs * math.ceil(len(splits.y_train) / 128)
    with runtime.num_threads(1):
        history = fit(
            model,
            (splits.X_train, splits.y_train),
            optimizer=_optimizer(model, recipe, lr, steps),
            epochs=epochs,
            batch_size=128,
            valid=(splits.X_valid, splits.y_valid),
            seed=seed,
            early_stopping=EarlyStopping(patience=5) if recipe.early_stopping else None,
        )
    _, acc = evaluate(model, splits.X_test, splits.y_test)
    return {"test_acc": acc, "history": history, "model": model}


def ablation(
    splits: Splits,
    seeds: tuple[int, ...] = (0, 1, 2),
    **kwargs: Any,
) -> dict[str, list[float]]:
    """Test accuracy of every :data:`ABLATIONS` row for each seed."""
    return {
        name: [train_recipe(r, splits, seed=s, **kwargs)["test_acc"] for s in seeds]
        for name, r in ABLATIONS.items()
    }


def health_check(
    recipe: Recipe,
    splits: Splits,
    lr: float,
    steps: int = 60,
    seed: int = 0,
    depth: int = 10,
    width: int = 64,
) -> dict[str, Any]:
    """Train ``steps`` minibatch steps (constant ``lr``) and probe the last one.

    Returns:
        A dict with the :class:`~dlcourse.probes.ActivationStats` of the last step (``stats``),
        the median update:data ratio of the weight matrices over the last 10 steps
        (``update_ratio``) and the last training loss (``loss``).
    """
    model = build(replace(recipe, schedule="constant"), depth, width, seed)
    opt = _optimizer(model, replace(recipe, schedule="constant"), lr, steps)
    g = runtime.generator(seed)
    ratios: list[float] = []
    stats = ActivationStats(model)
    loss = torch.tensor(math.nan)
    with runtime.num_threads(1):
        for step in range(steps):
            idx = torch.randint(len(splits.y_train), (64,), generator=g)
            loss = nn.functional.cross_entropy(model(splits.X_train[idx]), splits.y_train[idx])
            opt.zero_grad()
            loss.backward()
            before = snapshot(model)
            opt.step()
            if step >= steps - 10:
                r = update_to_data_ratio(model, before)
                ratios += [
                    v
                    for k, v in r.items()
                    if k.endswith("weight") and "." in k and before[k].dim() == 2
                ]
    stats.remove()
    return {"stats": stats, "update_ratio": statistics.median(ratios), "loss": loss.item()}


def search_objective(
    splits: Splits,
    epochs: int = 8,
    seed: int = 0,
) -> Callable[[dict[str, Any]], Iterator[float]]:
    """An objective for :mod:`dlcourse.search`: ``params -> validation loss per epoch``.

    ``params`` holds ``lr`` (Nadam's, constant) and ``width_mult`` (the hidden width is
    ``round(64 · width_mult)``, a hyperparameter that hardly matters here). The MLP has 2 hidden
    ELU layers; it trains in float64 so that the comparisons of the search do not depend on the
    machine.
    """
    data = (splits.X_train, splits.y_train, splits.X_valid, splits.y_valid)

    def objective(params: dict[str, Any]) -> Iterator[float]:
        width = max(1, round(64 * params["width_mult"]))
        model = mlp(
            64,
            10,
            width=width,
            depth=2,
            activation="elu",
            init="kaiming_normal",
            generator=runtime.generator(seed),
        ).double()
        opt = torch.optim.NAdam(model.parameters(), lr=params["lr"])
        for epoch in range(epochs):
            with runtime.num_threads(1):
                h = fit(
                    model,
                    (data[0], data[1]),
                    optimizer=opt,
                    epochs=1,
                    valid=(data[2], data[3]),
                    seed=seed + epoch,
                )
            yield h.valid_loss[-1]

    return objective


def _subset(
    X: Tensor, y: Tensor, classes: range, per_class: int | None, g: torch.Generator
) -> tuple[Tensor, Tensor]:
    """The examples of ``classes`` (``per_class`` of each, drawn with ``g``), relabelled 0..k-1."""
    keep = []
    for c in classes:
        idx = (y == c).nonzero().flatten()
        if per_class is not None:
            idx = idx[torch.randperm(len(idx), generator=g)[:per_class]]
        keep.append(idx)
    i = torch.cat(keep)
    return X[i], y[i] - classes.start


def transfer(
    splits: Splits, per_class: int = 5, seeds: tuple[int, ...] = (0, 1, 2, 3, 4), epochs: int = 60
) -> dict[str, list[float]]:
    """Digits 5-9 from ``per_class`` labels each: from scratch, frozen base, fine-tuned base.

    The base (3 hidden ELU layers of 64 with batch norm, He init) is pretrained once on every
    training image of digits 0-4; each of ``seeds`` draws a different labelled subset of 5-9.

    Returns:
        Test accuracy on digits 5-9 per seed, for ``"scratch"``, ``"frozen base"``, ``"fine-tune"``.
    """
    Xa, ya = _subset(splits.X_train, splits.y_train, range(0, 5), None, runtime.generator(0))
    base = build(Recipe(), depth=3, width=64, seed=0, classes=5)
    with runtime.num_threads(1):
        fit(base, (Xa, ya), optimizer=torch.optim.NAdam(base.parameters(), lr=0.01), epochs=15)
    Xt, yt = _subset(splits.X_test, splits.y_test, range(5, 10), None, runtime.generator(0))
    out: dict[str, list[float]] = {"scratch": [], "frozen base": [], "fine-tune": []}
    for s in seeds:
        Xb, yb = _subset(
            splits.X_train, splits.y_train, range(5, 10), per_class, runtime.generator(100 + s)
        )
        for mode in out:
            out[mode].append(_fit_new_task(base, mode, Xb, yb, Xt, yt, s, epochs))
    return out


def _fit_new_task(
    base: nn.Module, mode: str, X: Tensor, y: Tensor, Xt: Tensor, yt: Tensor, seed: int, epochs: int
) -> float:
    """Test accuracy after training a new 5-way head (and the base, unless frozen) on ``X, y``."""
    net = build(Recipe(), depth=3, width=64, seed=1000 + seed, classes=5)
    if mode != "scratch":
        head = str(len(net) - 1)
        net.load_state_dict(
            {k: v for k, v in base.state_dict().items() if not k.startswith(head + ".")},
            strict=False,
        )
    model: nn.Module = net
    if mode == "frozen base":  # the base's features, computed once in eval mode
        with torch.no_grad():
            X, Xt = net[:-1].eval()(X), net[:-1](Xt)
        model = net[-1]
    with runtime.num_threads(1):
        fit(
            model,
            (X, y),
            optimizer=torch.optim.NAdam(model.parameters(), lr=0.01),
            epochs=epochs,
            batch_size=16,
            seed=seed,
        )
    return evaluate(model, Xt, yt)[1]

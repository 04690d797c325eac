r"""The experiments of the Learning-rate schedules chapter, as small tested functions.

Every run trains the same small MLP (64 -> 64 -> 64 -> 10, ReLU) on the scikit-learn digits with
SGD and minibatches of 64, from a seeded initialization and a seeded batch order, so a run is a
function of its arguments. The schedules are those of :mod:`dlcourse.optim.lr_scheduler`.

* the loss curve of a too low, a good and a too high learning rate: :func:`train_constant`;
* one run per schedule: :func:`make_scheduler`, :func:`train_scheduled`, :func:`schedule_curve`;
* the same schedules over several seeds: :func:`compare_schedules`, :func:`median`.

See the book: Learning-rate schedules.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from dlcourse._validate import check_choice, check_int, check_positive_float
from dlcourse.data import load_digits, loader
from dlcourse.nn import mlp
from dlcourse.optim import lr_scheduler as sched
from dlcourse.runtime import generator

__all__ = [
    "SCHEDULES",
    "Run",
    "compare_schedules",
    "digits_splits",
    "loss_band",
    "make_scheduler",
    "median",
    "schedule_curve",
    "train_constant",
    "train_scheduled",
]

#: The schedules of the chapter, by name; ``"constant"`` is the baseline without a schedule.
SCHEDULES = ("constant", "piecewise", "plateau", "exponential", "power", "1cycle")
BATCH_SIZE = 64


@dataclass
class Run:
    """One training run: the loss of every step, the rate and momentum used, the end result.

    ``epoch_loss`` is the mean training loss of each epoch, ``valid_loss`` the validation loss
    after each epoch (what the plateau schedule watches), ``test_accuracy`` the final accuracy on
    the held-out test images. A run that diverged has ``diverged=True`` and stops early.
    """

    step_loss: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    momenta: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    test_accuracy: float = float("nan")
    diverged: bool = False

    @property
    def final_loss(self) -> float:
        """The mean training loss of the last epoch (``inf`` after a divergence)."""
        return math.inf if self.diverged else self.epoch_loss[-1]


def digits_splits(seed: int = 0) -> dict[str, tuple[Tensor, Tensor]]:
    """Train (1,077), validation (270) and test (450) digits, standardized on the train part."""
    split = load_digits(seed=seed)
    X, y = split.train
    n_valid = 270
    order = torch.randperm(len(X), generator=generator(seed))
    valid, train = order[:n_valid], order[n_valid:]
    return {"train": (X[train], y[train]), "valid": (X[valid], y[valid]), "test": split.test}


def make_scheduler(
    name: str, optimizer: torch.optim.Optimizer, lr: float, epochs: int, steps_per_epoch: int
) -> Any:
    r"""The chapter's schedule ``name`` for a run of ``epochs`` epochs, or ``None`` (constant).

    Each is set so that a run ends about a hundred times below its peak rate: piecewise
    constant cuts tenfold at 50 % and 75 % of the epochs; plateau halves after 2 epochs without a
    better validation loss; exponential uses :math:`r` = half the steps (two decades); power uses
    :math:`c = 1` and :math:`r` = 1 % of the steps (:math:`\eta` ends near :math:`\eta_0/100`);
    1cycle peaks at ``lr`` after 30 % of the steps.
    """
    check_choice("name", name, SCHEDULES)
    total = epochs * steps_per_epoch
    if name == "piecewise":
        milestones = [max(1, epochs // 2), max(2, 3 * epochs // 4)]
        return sched.PiecewiseConstantLR(optimizer, milestones, 0.1, steps_per_epoch)
    if name == "plateau":
        return sched.ReduceLROnPlateau(
            optimizer, factor=0.5, patience=2, steps_per_epoch=steps_per_epoch
        )
    if name == "exponential":
        return sched.ExponentialDecayLR(optimizer, r=total / 2, steps_per_epoch=steps_per_epoch)
    if name == "power":
        return sched.PowerLR(optimizer, r=total / 100, c=1.0, steps_per_epoch=steps_per_epoch)
    if name == "1cycle":
        return sched.OneCycleLR(
            optimizer, max_lr=lr, total_steps=total, steps_per_epoch=steps_per_epoch
        )
    return None


def schedule_curve(
    name: str, lr: float = 0.1, epochs: int = 20, steps_per_epoch: int = 17
) -> tuple[list[float], list[float]]:
    """The rate and momentum at every step of schedule ``name``, without training.

    The plateau schedule needs a metric: here the validation loss is taken to stop improving
    after epoch 5, to show its staircase.
    """
    param = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr, momentum=0.9)
    scheduler = make_scheduler(name, opt, lr, epochs, steps_per_epoch)
    lrs, moms = [], []
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
            opt.step()
            if name in ("exponential", "power", "1cycle"):
                scheduler.step()
        if name == "piecewise":
            scheduler.step()
        elif name == "plateau":
            scheduler.step(max(1.0 - 0.1 * epoch, 0.5))
    return lrs, moms


def _model(seed: int) -> nn.Module:
    return mlp(
        64,
        10,
        width=64,
        depth=2,
        activation="relu",
        init="kaiming_normal",
        generator=generator(seed),
    )


def _loss_of(model: nn.Module, data: tuple[Tensor, Tensor]) -> float:
    with torch.no_grad():
        return nn.functional.cross_entropy(model(data[0]), data[1]).item()


def _accuracy(model: nn.Module, data: tuple[Tensor, Tensor]) -> float:
    with torch.no_grad():
        return (model(data[0]).argmax(1) == data[1]).float().mean().item()


def train_scheduled(
    name: str,
    lr: float,
    epochs: int = 20,
    seed: int = 0,
    momentum: float = 0.9,
    per_epoch: bool = False,
    data: dict[str, tuple[Tensor, Tensor]] | None = None,
) -> Run:
    """Train the chapter's MLP with schedule ``name`` (see :func:`make_scheduler`).

    Args:
        name: one of :data:`SCHEDULES`.
        lr: the initial rate (the peak rate for 1cycle).
        epochs: passes over the 1,077 training digits (17 batches each).
        seed: seeds the initialization and the batch order.
        momentum: SGD's momentum (1cycle cycles it between 0.85 and 0.95 instead).
        per_epoch: step a per-batch schedule once per epoch, the mistake the chapter measures.
        data: the splits of :func:`digits_splits` (loaded when ``None``).

    Returns:
        The :class:`Run`.
    """
    check_choice("name", name, SCHEDULES)
    check_positive_float("lr", lr)
    epochs = check_int("epochs", epochs, min=1)
    data = data or digits_splits()
    model = _model(seed)
    batches = loader(*data["train"], batch_size=BATCH_SIZE, seed=seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    scheduler = make_scheduler(name, opt, lr, epochs, len(batches))
    per_batch = getattr(scheduler, "interval", "") == "batch" and not per_epoch
    run = Run()
    for _ in range(epochs):
        losses = _epoch(model, batches, opt, scheduler if per_batch else None, run)
        if run.diverged:
            return run
        run.epoch_loss.append(statistics.fmean(losses))
        run.valid_loss.append(_loss_of(model, data["valid"]))
        if isinstance(scheduler, sched.ReduceLROnPlateau):
            scheduler.step(run.valid_loss[-1])
        elif scheduler is not None and not per_batch:
            scheduler.step()
    run.test_accuracy = _accuracy(model, data["test"])
    return run


def _epoch(
    model: nn.Module, batches: Any, opt: torch.optim.Optimizer, scheduler: Any, run: Run
) -> list[float]:
    losses: list[float] = []
    for X, y in batches:
        run.lrs.append(opt.param_groups[0]["lr"])
        run.momenta.append(opt.param_groups[0]["momentum"])
        loss = nn.functional.cross_entropy(model(X), y)
        if not torch.isfinite(loss) or loss.item() > 1e3:
            run.diverged = True
            return losses
        opt.zero_grad()
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
        run.step_loss.append(losses[-1])
    return losses


def train_constant(
    lr: float, epochs: int = 10, seed: int = 0, data: dict[str, tuple[Tensor, Tensor]] | None = None
) -> Run:
    """Plain SGD (no momentum) at a constant rate: the lecture's loss-versus-iteration curves."""
    return train_scheduled("constant", lr, epochs, seed, momentum=0.0, data=data)


def compare_schedules(
    lrs: dict[str, float],
    seeds: Sequence[int],
    epochs: int = 20,
    data: dict[str, tuple[Tensor, Tensor]] | None = None,
    per_epoch: bool = False,
) -> dict[str, list[Run]]:
    """One :func:`train_scheduled` run per schedule (``name -> lr``) and seed."""
    data = data or digits_splits()
    return {
        name: [train_scheduled(name, lr, epochs, s, data=data, per_epoch=per_epoch) for s in seeds]
        for name, lr in lrs.items()
    }


def median(runs: Sequence[Run], what: str = "final_loss") -> float:
    """The median over ``runs`` of an attribute (``final_loss``, ``test_accuracy``)."""
    return statistics.median(getattr(r, what) for r in runs)


def loss_band(loss: float) -> str:
    """A loss as its decade, ``"< 0.01"``, ``"0.01-0.1"``, ``"0.1-1"`` or ``"> 1"``.

    Trained results differ in their last digits between machines; a decade is what the chapter's
    claims need, and a median rarely lies near a decade's edge.
    """
    for edge, text in ((0.01, "< 0.01"), (0.1, "0.01-0.1"), (1.0, "0.1-1")):
        if loss < edge:
            return text
    return "> 1"

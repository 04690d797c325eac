r"""A small, deterministic fit loop: minibatch training, validation, history and early stopping.

Every training demo of the book runs through :func:`fit`, so the loop itself is never the thing a
chapter varies: one epoch is one seeded pass over the training minibatches, each step is

.. math::

    \hat y = f_\theta(X_B), \qquad \ell = L(\hat y, y_B), \qquad
    \theta \leftarrow \mathrm{step}(\theta, \nabla_\theta \ell)

and after each epoch the mean training loss (and, given ``valid``, the validation loss and
accuracy) goes into a :class:`History`.

See the book: Practical guidelines (babysitting the learning process; early stopping).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Union, cast

import torch
from torch import Tensor, nn

from dlcourse._validate import check_int, check_positive_float, check_real
from dlcourse.data import loader

__all__ = ["EarlyStopping", "History", "evaluate", "fit"]

LossFn = Callable[[Tensor, Tensor], Tensor]
Batches = Iterable[tuple[Tensor, Tensor]]
Data = Union[tuple[Tensor, Tensor], Batches]


@dataclass
class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` epochs.

    An epoch improves on the best loss so far when ``valid_loss < best - min_delta``.

    Attributes:
        patience: epochs without improvement tolerated before stopping (at least 1).
        min_delta: how much lower the loss must be to count as an improvement.
        restore_best: put back the weights of the best epoch when training ends.
    """

    patience: int = 5
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self) -> None:
        check_int("patience", self.patience, min=1)
        check_real("min_delta", self.min_delta, min=0)


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (``step_loss``: one per optimizer step).

    Attributes:
        loss: mean training loss over the epoch's minibatches.
        valid_loss, valid_acc: validation loss and accuracy after each epoch (empty without
            ``valid``; accuracy is nan when the outputs are not class scores).
        step_loss: the training loss of every minibatch, for finer curves than ``loss``.
        epochs_run: epochs actually trained (fewer than asked when stopped early).
        stopped_early: whether early stopping ended training.
        best_epoch: with early stopping, the 1-based epoch of the lowest validation loss.
    """

    loss: list[float] = field(default_factory=list)
    valid_loss: list[float] = field(default_factory=list)
    valid_acc: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    epochs_run: int = 0
    stopped_early: bool = False
    best_epoch: int | None = None


def evaluate(
    model: nn.Module, X: Tensor, y: Tensor, loss_fn: LossFn | None = None
) -> tuple[float, float]:
    r"""The loss and the accuracy of ``model`` on ``(X, y)``, in eval mode and without gradients.

    Accuracy is :math:`\frac{1}{N}\sum_i [\arg\max_k \hat y_{ik} = y_i]`; it is nan when the
    outputs are not 2-D class scores with integer labels (a regression loss, say).

    Args:
        model: the network; its train/eval mode is restored afterwards.
        X: inputs; moved to the device of the model's parameters.
        y: targets, moved likewise.
        loss_fn: defaults to cross-entropy.

    Returns:
        ``(loss, accuracy)`` as Python floats.

    See the book: Practical guidelines (training and validation curves).
    """
    dev = _resolve_device(model, None)
    return _evaluate_batches(model, [(X, y)], loss_fn or nn.functional.cross_entropy, dev)


def fit(
    model: nn.Module,
    train: Data,
    loss_fn: LossFn | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    epochs: int = 10,
    lr: float = 0.01,
    batch_size: int = 64,
    valid: Data | None = None,
    seed: int = 0,
    early_stopping: int | EarlyStopping | None = None,
    progress: bool = False,
    device: torch.device | str | None = None,
) -> History:
    """Train ``model`` with minibatches for ``epochs`` epochs and return the :class:`History`.

    Deterministic given ``seed`` and the model's initial weights: the seed fixes the minibatch
    order and every random layer (dropout) inside a forked RNG, so the caller's global random
    state is left untouched.

    Args:
        model: the network, trained in place.
        train: ``(X, y)`` tensors, shuffled into minibatches of ``batch_size`` with ``seed``; or any
            iterable of ``(X_batch, y_batch)`` such as a ``DataLoader``, used as it is.
        loss_fn: ``loss_fn(y_hat, y)``, a scalar; defaults to cross-entropy.
        optimizer: defaults to ``torch.optim.SGD(model.parameters(), lr=lr)``.
        epochs: passes over the training data.
        lr: the learning rate of the default optimizer (ignored when ``optimizer`` is given).
        batch_size: minibatch size when ``train`` is a tuple of tensors.
        valid: ``(X, y)`` or an iterable of batches, evaluated after every epoch.
        seed: seeds the minibatch order and the random layers.
        early_stopping: a patience (int) or an :class:`EarlyStopping`; needs ``valid``. With
            ``restore_best`` (the default) the weights of the best validation epoch are put back
            at the end, whether or not training stopped early.
        progress: show a tqdm bar over epochs (off by default so stored outputs stay deterministic).
        device: move the model and each batch there; ``None`` uses the model's current device.

    Returns:
        The :class:`History` of losses and accuracies.

    See the book: Practical guidelines (babysitting the learning process; early stopping).
    """
    _check_fit_args(epochs, lr, batch_size, seed)
    stopper = _Stopper(_as_config(early_stopping, valid))
    dev = _resolve_device(model, device)
    loss_fn = loss_fn or nn.functional.cross_entropy
    optimizer = optimizer or torch.optim.SGD(model.parameters(), lr=lr)
    batches = _as_batches(train, batch_size, seed, "train")
    valid_batches = (None if valid is None
                     else _as_batches(valid, batch_size, seed, "valid", shuffle=False))
    history = History()
    with torch.random.fork_rng(devices=[dev.index or 0] if dev.type == "cuda" else []):
        torch.manual_seed(seed)
        for _ in _epochs(epochs, progress, history):
            history.loss.append(
                _train_epoch(model, batches, loss_fn, optimizer, dev, history.step_loss))
            history.epochs_run += 1
            if valid_batches is not None:
                v_loss, v_acc = _evaluate_batches(model, valid_batches, loss_fn, dev)
                history.valid_loss.append(v_loss)
                history.valid_acc.append(v_acc)
                if stopper.update(model, v_loss, history.epochs_run):
                    history.stopped_early = True
                    break
    history.best_epoch = stopper.finish(model)
    return history


def _train_epoch(
    model: nn.Module, batches: Batches, loss_fn: LossFn, optimizer: torch.optim.Optimizer,
    dev: torch.device, step_loss: list[float],
) -> float:
    """One pass over the minibatches; returns the mean of their losses."""
    model.train()
    losses = []
    for X, y in batches:
        X, y = X.to(dev), y.to(dev)
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if not losses:
        raise ValueError(
            "train gave no minibatches: pass (X, y) or a re-iterable loader, "
            "not a used-up generator"
        )
    step_loss.extend(losses)
    return math.fsum(losses) / len(losses)


@torch.no_grad()
def _evaluate_batches(
    model: nn.Module, batches: Batches, loss_fn: LossFn, dev: torch.device | None
) -> tuple[float, float]:
    """Sample-weighted mean loss and accuracy over batches, in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, correct, n, scores = 0.0, 0, 0, True
    try:
        for X, y in batches:
            if dev is not None:
                X, y = X.to(dev), y.to(dev)
            y_hat = model(X)
            total_loss += loss_fn(y_hat, y).item() * len(y)  # loss_fn averages over the batch
            n += len(y)
            scores = scores and y_hat.ndim == 2 and not y.is_floating_point() and y.ndim == 1
            if scores:
                correct += (y_hat.argmax(dim=1) == y).sum().item()
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("cannot evaluate on an empty set: X and y have no samples")
    return total_loss / n, (correct / n if scores else math.nan)


class _Stopper:
    """Tracks the best validation loss and a copy of its weights; no-op without a config."""

    def __init__(self, config: EarlyStopping | None) -> None:
        self.config, self.best, self.wait = config, math.inf, 0
        self.best_epoch: int | None = None
        self.best_state: dict[str, Tensor] | None = None

    def update(self, model: nn.Module, valid_loss: float, epoch: int) -> bool:
        """Record one epoch's validation loss; return True when training should stop."""
        if self.config is None:
            return False
        if valid_loss < self.best - self.config.min_delta:
            self.best, self.best_epoch, self.wait = valid_loss, epoch, 0
            if self.config.restore_best:
                self.best_state = copy.deepcopy(model.state_dict())
            return False
        self.wait += 1
        return self.wait >= self.config.patience

    def finish(self, model: nn.Module) -> int | None:
        """Put back the best weights (if asked and seen); return the best epoch."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        return self.best_epoch


def _as_config(
    early_stopping: int | EarlyStopping | None, valid: Data | None
) -> EarlyStopping | None:
    if early_stopping is None:
        return None
    if valid is None:
        raise ValueError(
            "early_stopping watches the validation loss: pass valid=(X_valid, y_valid) too")
    if isinstance(early_stopping, EarlyStopping):
        return early_stopping
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        return EarlyStopping(patience=early_stopping)
    raise TypeError("early_stopping must be a patience (int) or an EarlyStopping, "
                    f"got {type(early_stopping).__name__}")


def _as_batches(data: Data, batch_size: int, seed: int, name: str, shuffle: bool = True) -> Batches:
    """``(X, y)`` tensors become a seeded loader; an iterable of batches is used as it is."""
    if (isinstance(data, (tuple, list)) and len(data) == 2
            and all(isinstance(t, Tensor) for t in data)):
        X, y = cast(tuple[Tensor, Tensor], tuple(data))
        return loader(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed)
    if isinstance(data, Iterable) and not isinstance(data, (Tensor, tuple, list)):
        return data
    raise TypeError(
        f"{name} must be a tuple (X, y) of tensors or an iterable of (X_batch, y_batch) such as a "
        f"DataLoader, got {type(data).__name__}"
    )


def _check_fit_args(epochs: int, lr: float, batch_size: int, seed: int) -> None:
    check_int("epochs", epochs, min=0)
    check_positive_float("lr", lr)
    check_int("batch_size", batch_size, min=1)
    check_int("seed", seed)


def _resolve_device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    if device is not None:
        model.to(device)
        return torch.device(device)
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _epochs(epochs: int, progress: bool, history: History) -> Iterable[int]:
    """``range(epochs)``, wrapped in a tqdm bar that shows the last losses when ``progress``."""
    if not progress:
        yield from range(epochs)
        return
    from tqdm.auto import tqdm

    with tqdm(range(epochs), desc="epochs", unit="epoch") as bar:
        for epoch in bar:
            yield epoch
            last = {"loss": f"{history.loss[-1]:.4f}"} if history.loss else {}
            if history.valid_loss:
                last["valid_loss"] = f"{history.valid_loss[-1]:.4f}"
            bar.set_postfix(last)

"""Tests of dlcourse.train: the fit loop, its history, determinism, early stopping and evaluate."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlcourse.train import EarlyStopping, History, evaluate, fit


def blobs(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two well-separated Gaussian blobs in 2-D, labels 0 and 1: linearly separable."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    centers = (2.0 * y - 1.0).unsqueeze(1) * torch.tensor([1.5, 1.0])
    X = torch.randn(n, 2, generator=g) * 0.3 + centers
    return X, y


def small_net(seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 2))


def test_fit_reduces_the_loss_on_a_separable_problem() -> None:
    X, y = blobs()
    net = small_net()
    history = fit(net, (X, y), epochs=20, lr=0.1, batch_size=16, valid=(X, y))
    assert isinstance(history, History)
    assert history.loss[-1] < 0.25 * history.loss[0]
    assert history.valid_acc[-1] == 1.0
    assert history.epochs_run == 20 and not history.stopped_early and history.best_epoch is None
    loss, acc = evaluate(net, X, y)
    assert acc == 1.0 and loss == pytest.approx(history.valid_loss[-1], rel=1e-6)


def test_history_records_every_step_and_epoch_means() -> None:
    X, y = blobs(n=50)
    history = fit(small_net(), (X, y), epochs=3, lr=0.1, batch_size=16)
    assert len(history.step_loss) == 3 * 4  # ceil(50 / 16) steps per epoch
    for epoch in range(3):
        steps = history.step_loss[4 * epoch : 4 * epoch + 4]
        assert history.loss[epoch] == pytest.approx(sum(steps) / 4)
    assert history.valid_loss == [] and history.valid_acc == []


def test_fit_is_deterministic_given_the_seed() -> None:
    X, y = blobs()
    runs = []
    for scramble in (100, 200):
        net = small_net(seed=1, dropout=0.3)  # dropout draws random numbers too
        torch.manual_seed(scramble)  # the global state before fit must not matter
        history = fit(net, (X, y), epochs=4, lr=0.1, batch_size=8, valid=(X, y), seed=7)
        runs.append((history, [p.detach().clone() for p in net.parameters()]))
    (h1, w1), (h2, w2) = runs
    assert h1.step_loss == h2.step_loss and h1.valid_loss == h2.valid_loss
    for a, b in zip(w1, w2):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    other = fit(small_net(seed=1, dropout=0.3), (X, y), epochs=4, lr=0.1, batch_size=8, seed=8)
    assert other.step_loss != h1.step_loss


def test_fit_leaves_the_global_random_state_alone() -> None:
    X, y = blobs()
    net = small_net(dropout=0.5)
    before = torch.get_rng_state()
    fit(net, (X, y), epochs=2, lr=0.1, seed=3)
    assert torch.equal(before, torch.get_rng_state())


def test_fit_accepts_a_dataloader_and_an_optimizer() -> None:
    X, y = blobs()
    net = small_net()
    batches = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=False)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    history = fit(net, batches, optimizer=optimizer, epochs=10, valid=batches, device="cpu")
    assert len(history.step_loss) == 10 * 4
    assert history.loss[-1] < 0.5 * history.loss[0] and history.valid_acc[-1] == 1.0


def test_fit_custom_loss_gives_nan_accuracy() -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.randn(32, 3, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]])
    net = nn.Linear(3, 1)
    history = fit(net, (X, y), loss_fn=nn.functional.mse_loss, epochs=30, lr=0.1, valid=(X, y))
    assert history.valid_loss[-1] < 0.1 * history.valid_loss[0]
    assert all(math.isnan(acc) for acc in history.valid_acc)


def crossed_sets() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Validation labels are the training labels flipped: the better the fit, the worse on valid.

    So the validation loss is lowest after the first epoch and rises after it.
    """
    X, y = blobs()
    return (X, y), (X, 1 - y)


def test_early_stopping_stops_and_restores_the_best_weights() -> None:
    train, valid = crossed_sets()
    net = small_net(seed=2)
    history = fit(net, train, epochs=30, lr=0.1, batch_size=16, valid=valid, early_stopping=3)
    assert history.stopped_early and history.epochs_run == 4 and len(history.loss) == 4
    assert history.best_epoch == 1
    assert history.valid_loss[0] == min(history.valid_loss) < history.valid_loss[-1]
    loss, _ = evaluate(net, *valid)
    assert loss == pytest.approx(history.valid_loss[0], rel=1e-6)  # the weights of epoch 1 are back
    reference = small_net(seed=2)
    fit(reference, train, epochs=1, lr=0.1, batch_size=16)  # the same first epoch, nothing else
    for a, b in zip(net.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_early_stopping_config_without_restore_keeps_the_last_weights() -> None:
    train, valid = crossed_sets()
    net = small_net(seed=2)
    config = EarlyStopping(patience=2, restore_best=False)
    history = fit(net, train, epochs=30, lr=0.1, batch_size=16, valid=valid, early_stopping=config)
    assert history.stopped_early and history.epochs_run == 3 and history.best_epoch == 1
    assert evaluate(net, *valid)[0] == pytest.approx(history.valid_loss[-1], rel=1e-6)


def test_early_stopping_does_not_stop_while_improving() -> None:
    X, y = blobs()
    history = fit(small_net(), (X, y), epochs=8, lr=0.1, batch_size=16, valid=(X, y),
                  early_stopping=2)
    assert not history.stopped_early and history.epochs_run == 8 and history.best_epoch == 8


class ModeRecorder(nn.Module):
    """Wraps a model and records ``self.training`` at every forward pass."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.modes = inner, []

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        return self.inner(X)


def test_fit_trains_in_train_mode_and_validates_in_eval_mode() -> None:
    X, y = blobs(n=32)
    net = ModeRecorder(small_net(dropout=0.5))
    net.eval()  # fit must switch to train mode itself
    fit(net, (X, y), epochs=2, batch_size=16, valid=(X, y))
    # per epoch: two training steps, then validation in two batches of batch_size
    assert net.modes == [True, True, False, False] * 2


def test_evaluate_restores_the_mode_and_matches_a_hand_computation() -> None:
    X, y = blobs(n=10)
    net = small_net(dropout=0.5)
    net.train()
    loss, acc = evaluate(net, X, y)
    assert net.training
    net.eval()
    with torch.no_grad():
        y_hat = net(X)
    assert loss == pytest.approx(nn.functional.cross_entropy(y_hat, y).item(), rel=1e-6)
    assert acc == pytest.approx((y_hat.argmax(dim=1) == y).float().mean().item())
    assert not net.training  # evaluate put eval mode back too


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = blobs()
    history = fit(small_net(), (X, y), epochs=2, valid=(X, y), progress=True)
    assert history.epochs_run == 2
    assert "epochs" in capsys.readouterr().err


def test_fit_bad_arguments() -> None:
    X, y = blobs()
    net = small_net()
    with pytest.raises(ValueError, match="early_stopping watches the validation loss: pass valid="):
        fit(net, (X, y), early_stopping=3)
    with pytest.raises(TypeError, match="early_stopping must be a patience"):
        fit(net, (X, y), valid=(X, y), early_stopping=2.5)
    with pytest.raises(ValueError, match="patience must be a positive int, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="epochs must be a non-negative int, got -1"):
        fit(net, (X, y), epochs=-1)
    with pytest.raises(ValueError, match="lr must be positive, got 0"):
        fit(net, (X, y), lr=0)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        fit(net, (X, y), batch_size=0)
    with pytest.raises(TypeError, match="epochs must be a non-negative int, got float 2.0"):
        fit(net, (X, y), epochs=2.0)
    with pytest.raises(TypeError, match="lr must be a positive number, got str"):
        fit(net, (X, y), lr="0.1")
    with pytest.raises(TypeError, match=r"train must be a tuple \(X, y\) of tensors .* got Tensor"):
        fit(net, X)
    with pytest.raises(ValueError, match="used-up generator"):
        fit(net, ((X, y) for _ in range(1)), epochs=2)

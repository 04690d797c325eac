"""Tests of the Data augmentation chapter's helpers (dlcourse.experiments.augmentation)."""

from __future__ import annotations

import pytest
import torch

from dlcourse.augment import RandomHorizontalFlip
from dlcourse.experiments.augmentation import (
    AugmentedBatches,
    DigitRun,
    conv_shift_error,
    load_photo,
    make_net,
    plot_grid,
    run_table,
    small_subset,
)


def test_the_photo_ships_offline_in_range():
    cat = load_photo(step=2)
    assert cat.shape == (3, 150, 225) and cat.dtype == torch.float32
    assert 0 <= cat.min() and cat.max() <= 1
    assert load_photo(step=1).shape == (3, 300, 451)
    fig = plot_grid(cat.expand(2, -1, -1, -1), ncols=2, titles=["a", "b"])
    assert len(fig.axes) == 2


def test_small_subset_is_balanced_and_seeded():
    y = torch.arange(200) % 10
    X = torch.arange(200.0)[:, None]
    Xa, ya = small_subset(X, y, 3, seed=0)
    assert torch.bincount(ya).tolist() == [3] * 10
    assert torch.equal(Xa, small_subset(X, y, 3, seed=0)[0])
    assert not torch.equal(Xa, small_subset(X, y, 3, seed=1)[0])


def test_augmented_batches_are_fresh_each_epoch_and_reproducible():
    X = torch.arange(4.0).reshape(1, 1, 1, 4).expand(40, 1, 1, 4)
    y = torch.zeros(40, dtype=torch.long)
    batches = AugmentedBatches(X, y, RandomHorizontalFlip(), batch_size=8, seed=0)
    first = torch.cat([b for b, _ in batches])
    second = torch.cat([b for b, _ in batches])
    assert first.shape == X.shape and not torch.equal(first, second)
    again = torch.cat([b for b, _ in AugmentedBatches(X, y, RandomHorizontalFlip(), 8, 0)])
    assert torch.equal(first, again)


def test_a_conv_layer_is_equivariant_and_the_net_is_not_invariant():
    err = conv_shift_error(seed=0)
    assert err["conv layer"] < 1e-12
    assert err["conv-pool-linear net"] > 0.01


def test_nets_and_run_table():
    assert make_net("cnn", 0)(torch.zeros(2, 1, 8, 8, dtype=torch.float64)).shape == (2, 10)
    assert make_net("mlp", 0)(torch.zeros(2, 1, 8, 8, dtype=torch.float64)).shape == (2, 10)
    with pytest.raises(ValueError, match="kind"):
        make_net("rnn", 0)  # type: ignore[arg-type]
    net = make_net("mlp", 0)
    runs = [DigitRun("mlp", "none", s, 1.0, 0.8, net) for s in range(3)]
    runs += [DigitRun("mlp", "shift", s, 1.0, 0.85 - 0.1 * (s == 2), net) for s in range(3)]
    rows = {r["augmentation"]: r for r in run_table(runs)}
    assert rows["none"]["seeds above none"] == "—"
    assert rows["shift"]["seeds above none"] == "2 of 3"
    assert rows["shift"]["gap %"] == pytest.approx(15.0)

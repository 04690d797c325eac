"""The Data preprocessing chapter's demos: exact step counts, the sign argument, crops, the leak."""

from __future__ import annotations

import torch

from dlcourse.data import Standardize
from dlcourse.experiments.preprocessing import (
    _gd_steps,
    cloud_2d,
    knn_accuracy,
    leak_gap,
    line_fit,
    photo_patches,
    plot_clouds,
    plot_sign_paths,
    sign_updates,
    steps_to,
)


def test_gd_steps_match_running_gradient_descent() -> None:
    lam = torch.tensor([3.0, 0.2], dtype=torch.float64)
    c = torch.tensor([1.0, -2.0], dtype=torch.float64)
    lr, tol = 0.5, 1e-6
    e, steps = c.clone(), 0
    while float((0.5 * lam * e**2).sum()) > tol:
        e, steps = e * (1 - lr * lam), steps + 1
    assert _gd_steps(lam, c, lr, tol) == steps


def test_line_far_from_origin_is_ill_conditioned() -> None:
    near, far = line_fit(-0.5), line_fit(10.0)
    assert far.curvatures[0] / far.curvatures[1] > 1000 * near.curvatures[0] / near.curvatures[1]
    assert far.max_lr < near.max_lr / 50
    assert far.steps > 1000 * near.steps > 0


def test_positive_inputs_give_same_sign_updates() -> None:
    positive, path = sign_updates(center=False, steps=100, lr=0.1)
    centred, _ = sign_updates(center=True, steps=100, lr=0.1)
    assert positive == 1.0 and 0.3 < centred < 0.7
    assert path.shape == (101, 2) and (path[0] == 0).all()
    assert steps_to(path) is not None and steps_to(torch.zeros(5, 2)) is None


def test_photo_patches_and_cloud() -> None:
    P = photo_patches(n=6, size=8, seed=1)
    assert P.shape == (6, 3, 8, 8) and P.dtype == torch.float64
    assert 0 <= P.min() and P.max() <= 255
    assert torch.equal(P, photo_patches(n=6, size=8, seed=1))
    X = cloud_2d(n=200, seed=0)
    assert X.shape == (200, 2) and (X.mean(dim=0) > 3).all()
    assert len(plot_clouds({"a": X, "b": X}).axes) == 2
    assert len(plot_sign_paths({"p": sign_updates(False, steps=5)[1]}).axes) == 1


def test_knn_and_leak_gap() -> None:
    X = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    y = torch.tensor([0, 1])
    assert knn_accuracy(X, y, X + 1, y) == 1.0
    pairs = leak_gap(Standardize, train_size=50, seeds=2)
    assert len(pairs) == 2 and all(0.5 < a <= 1 and 0.5 < b <= 1 for a, b in pairs)

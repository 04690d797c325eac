"""dlcourse.optim.surfaces, the chapter's demo helpers and the trajectory figures."""

from __future__ import annotations

import math

import pytest
import torch

from dlcourse import optim
from dlcourse.experiments.optimizers import (
    AdamNoBiasCorrection,
    LectureMomentum,
    RMSpropEpsInside,
    bias_correction_factor,
    step_angles,
    step_lengths,
    steps_to_target,
)
from dlcourse.optim.surfaces import NARROW, RAVINE, SADDLE, SURFACES, trajectory
from dlcourse.viz import animate_trajectories, plot_trajectories


@pytest.mark.parametrize("surface", list(SURFACES.values()), ids=list(SURFACES))
def test_minimum_is_a_stationary_point_with_the_lowest_value(surface):
    xy = torch.tensor(surface.minimum, dtype=torch.float64, requires_grad=True)
    surface(xy).backward()
    assert xy.grad.abs().max() < 1e-6
    grid = torch.stack(
        torch.meshgrid(
            torch.linspace(*surface.xlim, 50, dtype=torch.float64),
            torch.linspace(*surface.ylim, 50, dtype=torch.float64),
            indexing="xy",
        ),
        dim=-1,
    )
    assert surface(grid).min() >= surface.min_value() - 1e-9


def test_surface_gradients_match_finite_differences():
    for surface in (RAVINE, SADDLE, NARROW):
        xy = torch.tensor([0.3, -0.7], dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(surface, (xy,))


def test_trajectory_is_plain_gradient_descent_for_sgd():
    path = trajectory(RAVINE, lambda p: optim.SGD(p, lr=0.1), 5)
    assert path.shape == (6, 2) and path.dtype == torch.float64
    x, y = RAVINE.start
    for point in path:  # closed form: each coordinate shrinks by (1 - lr * curvature)
        torch.testing.assert_close(point, torch.tensor([x, y], dtype=torch.float64))
        x, y = x * (1 - 0.1 * 0.05), y * (1 - 0.1 * 4.0)


def test_trajectory_lr_factor_changes_the_learning_rate():
    full = trajectory(RAVINE, lambda p: optim.SGD(p, lr=0.1), 3)
    frozen = trajectory(RAVINE, lambda p: optim.SGD(p, lr=0.1), 3, lr_factor=lambda t: 0.0)
    assert (frozen == frozen[0]).all() and not (full == full[0]).all()


def test_trajectory_rejects_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        trajectory(RAVINE, lambda p: optim.SGD(p, lr=0.1), -1)
    with pytest.raises(ValueError, match="start"):
        trajectory(lambda xy: xy.square().sum(), lambda p: optim.SGD(p, lr=0.1), 3)
    with pytest.raises(FloatingPointError, match="learning rate"):
        trajectory(RAVINE, lambda p: optim.SGD(p, lr=10.0), 2000)


def test_lecture_momentum_agrees_with_sgd_only_for_a_constant_lr():
    def paths(lr_factor=None):
        return [
            trajectory(RAVINE, make, 40, lr_factor=lr_factor)
            for make in (
                lambda p: optim.SGD(p, lr=0.02, momentum=0.9),
                lambda p: LectureMomentum(p, lr=0.02, momentum=0.9),
            )
        ]

    a, b = paths()
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    a, b = paths(lambda t: 1.0 if t < 10 else 0.1)
    assert (a - b).norm(dim=1).max() > 0.1


def test_eps_inside_matters_only_for_tiny_gradients():
    def step(cls, grad):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = cls([p], lr=0.01, alpha=0.9, eps=1e-8)
        p.grad = torch.full((1,), grad, dtype=torch.float64)
        opt.step()
        return -p.item()

    assert math.isclose(step(optim.RMSprop, 1.0), step(RMSpropEpsInside, 1.0), rel_tol=1e-6)
    assert step(optim.RMSprop, 1e-6) > 10 * step(RMSpropEpsInside, 1e-6)


def test_bias_correction_factor_matches_the_uncorrected_first_step():
    assert math.isclose(bias_correction_factor(1), 0.1 / math.sqrt(0.001))
    ratios = bias_correction_factor(torch.arange(1, 5000, dtype=torch.float64))
    assert 6 < ratios.max() < 7 and abs(ratios[-1] - 1) < 0.05
    paths = [
        trajectory(RAVINE, make, 1)
        for make in (lambda p: optim.Adam(p, lr=0.1), lambda p: AdamNoBiasCorrection(p, lr=0.1))
    ]
    ratio = step_lengths(paths[1])[0] / step_lengths(paths[0])[0]
    assert math.isclose(ratio, bias_correction_factor(1), rel_tol=1e-6)


def test_path_measures():
    path = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(step_lengths(path), torch.tensor([1.0, 1.0], dtype=torch.float64))
    angles = step_angles(path, (2.0, 0.0))
    assert angles[0] == pytest.approx(0.0) and angles[1] == pytest.approx(90.0)
    assert (
        steps_to_target(trajectory(RAVINE, lambda p: optim.Adam(p, lr=0.3), 200), RAVINE, 1e-2)
        is not None
    )
    assert steps_to_target(path.new_zeros(1, 2) + 5, RAVINE, 1e-2) is None


def test_figures_and_offline_animation():
    paths = {"GD": trajectory(RAVINE, lambda p: optim.SGD(p, lr=0.2), 10)}
    fig = plot_trajectories(RAVINE, paths, title="t")
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2  # the minimum's star and one path
    html = animate_trajectories(RAVINE, paths, frames=3, dpi=20)
    assert "<script" in html and "http" not in html and "fa fa-" not in html
    with pytest.raises(ValueError, match="frames"):
        animate_trajectories(RAVINE, paths, frames=1)

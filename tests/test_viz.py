"""Tests of dlcourse.viz: what each figure plots, its layout and titles, errors for bad input."""

from __future__ import annotations

import io
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

from dlcourse.nn import deep_stack  # noqa: E402
from dlcourse.probes import ActivationStats  # noqa: E402
from dlcourse.runtime import generator  # noqa: E402
from dlcourse.viz import plot_depth_profile, plot_layer_histograms, plot_loss_curves  # noqa: E402


def run_stats(depth: int = 4, backward: bool = False, std: float = 0.1) -> ActivationStats:
    model = deep_stack(depth=depth, width=32, activation="tanh", weight_std=std,
                       generator=generator(0))
    X = torch.randn(8, 32, generator=generator(1))
    with ActivationStats(model, bins=20, range=(-1, 1)) as stats:
        y = model(X)
        if backward:
            y.pow(2).sum().backward()
    return stats


def stairs(ax) -> StepPatch:
    (patch,) = [p for p in ax.patches if isinstance(p, StepPatch)]
    return patch


# --- plot_layer_histograms ---------------------------------------------------------------------

def test_one_histogram_per_layer_with_the_recorded_counts_and_titles():
    stats = run_stats(depth=4)
    fig = plot_layer_histograms(stats, title="tanh, std 0.1")
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    for ax, rec in zip(fig.axes, stats.layers):
        values, edges, _ = stairs(ax).get_data()
        np.testing.assert_array_equal(values, rec.hist_counts)
        np.testing.assert_allclose(edges, rec.hist_edges)
        assert ax.get_title() == (f"layer {rec.index + 1}\n"
                                  f"mean {rec.mean:.2g}, std {rec.std:.2g}")
    assert fig._suptitle.get_text() == "tanh, std 0.1"
    assert len({round(ax.get_position().y0, 6) for ax in fig.axes}) == 1  # one row


def test_many_layers_make_a_grid_and_max_layers_spreads_evenly():
    stats = run_stats(depth=12)
    fig = plot_layer_histograms(stats)
    assert len(fig.axes) == 12
    assert len({round(ax.get_position().y0, 6) for ax in fig.axes}) == 3  # 5 + 5 + 2
    fig = plot_layer_histograms(stats, max_layers=3)
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["layer 1", "layer 7", "layer 12"]


def test_gradient_histograms_and_shared_range():
    stats = run_stats(depth=3, backward=True)
    fig = plot_layer_histograms(stats, kind="gradient", range=(-0.5, 0.5))
    for ax, rec in zip(fig.axes, stats.layers):
        np.testing.assert_array_equal(stairs(ax).get_data()[0], rec.grad_hist_counts)
        assert ax.get_xlim() == (-0.5, 0.5)
        assert f"std {rec.grad_std:.2g}" in ax.get_title()


def test_histogram_errors():
    model = deep_stack(depth=2, width=4, activation="tanh")
    with pytest.raises(ValueError, match="run a forward pass"):
        plot_layer_histograms(ActivationStats(model))
    with pytest.raises(ValueError, match="backward"):
        plot_layer_histograms(run_stats(depth=2), kind="gradient")
    with pytest.raises(ValueError, match="kind"):
        plot_layer_histograms(run_stats(depth=2), kind="weights")
    with pytest.raises(ValueError, match="max_layers"):
        plot_layer_histograms(run_stats(depth=3), max_layers=0)
    with pytest.raises(TypeError, match="max_layers must be a positive int, got float"):
        plot_layer_histograms(run_stats(depth=3), max_layers=2.0)
    with pytest.raises(ValueError, match=r"range must be \(lo, hi\) with lo < hi"):
        plot_layer_histograms(run_stats(depth=3), range=(1, -1))
    with pytest.raises(TypeError, match="ActivationStats"):
        plot_layer_histograms({"a": 1})


def test_accepts_a_list_of_layer_records():
    stats = run_stats(depth=3)
    assert len(plot_layer_histograms(stats.layers[1:]).axes) == 2


# --- plot_depth_profile ------------------------------------------------------------------------

def test_depth_profile_plots_the_values_given():
    fig = plot_depth_profile({"a": [1.0, 0.5, 0.25], "b": [2.0, 2.0]}, title="t")
    (ax,) = fig.axes
    (la, lb) = ax.get_lines()
    np.testing.assert_array_equal(la.get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(la.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lb.get_ydata(), [2.0, 2.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("layer", "std", "t")


def test_depth_profile_from_stats_and_quantities():
    stats = run_stats(depth=5, backward=True)
    ax = plot_depth_profile({"tanh": stats}).axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [r.std for r in stats.layers])
    ax = plot_depth_profile({"tanh": stats}, quantity="grad_std").axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [r.grad_std for r in stats.layers])
    ax = plot_depth_profile({"tanh": stats}, quantity="mean", logy=True).axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "|mean|"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [abs(r.mean) for r in stats.layers])


def test_depth_profile_handles_the_100_layer_extremes():
    fig = plot_depth_profile({"σ=0.01": [1e-2 ** k for k in range(1, 9)], "nan": [1.0, np.nan]},
                             logy=True)
    fig.savefig(io.BytesIO(), format="png")  # draws without error at 1e-16 scales and with nan


def test_depth_profile_errors():
    with pytest.raises(ValueError, match="quantity"):
        plot_depth_profile({"a": [1.0]}, quantity="variance")
    with pytest.raises(ValueError, match="non-empty"):
        plot_depth_profile({})
    with pytest.raises(ValueError, match="at least one layer"):
        plot_depth_profile({"a": []})
    with pytest.raises(TypeError, match="sequence of numbers, got list"):
        plot_depth_profile({"a": ["x", "y"]})
    with pytest.raises(TypeError, match="profiles must be a non-empty dict .* got list"):
        plot_depth_profile([[1.0, 2.0]])
    with pytest.raises(ValueError, match="no 'grad_std' recorded"):
        plot_depth_profile({"a": run_stats(depth=2)}, quantity="grad_std")


# --- plot_loss_curves --------------------------------------------------------------------------

def test_loss_curves_plot_each_history():
    fig = plot_loss_curves({"xavier": [2.3, 2.3, 2.29], "kaiming": SimpleNamespace(loss=[2.3, 1.0]),
                            "dict": {"loss": [3.0]}}, title="deep ReLU", logy=True)
    (ax,) = fig.axes
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [2.3, 2.3, 2.29])
    np.testing.assert_array_equal(lines[1].get_ydata(), [2.3, 1.0])
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2])
    np.testing.assert_array_equal(lines[2].get_ydata(), [3.0])
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("step", "loss", "deep ReLU")
    assert ax.get_yscale() == "log"
    assert plot_loss_curves({"a": [1.0]}, xlabel="epoch").axes[0].get_xlabel() == "epoch"


def test_loss_curves_errors():
    with pytest.raises(ValueError, match="non-empty"):
        plot_loss_curves({})
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plot_loss_curves({"a": []})
    with pytest.raises(TypeError, match="sequence of losses"):
        plot_loss_curves({"a": object()})


# --- figures are the caller's, deterministic, and not in pyplot --------------------------------

def test_figures_are_not_registered_with_pyplot_and_render_deterministically():
    open_before = plt.get_fignums()
    stats = run_stats(depth=3)
    figs = [plot_layer_histograms(stats), plot_layer_histograms(stats)]
    plot_depth_profile({"a": [1.0]})
    plot_loss_curves({"a": [1.0]})
    assert plt.get_fignums() == open_before
    pngs = []
    for fig in figs:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        pngs.append(buffer.getvalue())
    assert pngs[0] == pngs[1]

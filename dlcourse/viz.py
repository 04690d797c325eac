"""Matplotlib figures for the training diagnostics: per-layer histograms, depth profiles, losses.

Every function builds a new :class:`matplotlib.figure.Figure` with a fixed size and dpi and
returns it; none calls ``plt.show()``. Each figure is created through pyplot (which, in a
notebook, loads the inline backend and its PNG display) and at once released from pyplot's
figure list, so a notebook shows it exactly once (when it is the cell's value or passed to
``display``) and nothing accumulates across calls. Save one with ``fig.savefig(path)``.

See the book: Weight initialization.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Mapping, Sequence, Union

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from dlcourse._validate import check_choice, check_int, check_interval
from dlcourse.probes import ActivationStats, LayerStats

__all__ = [
    "DPI",
    "QUANTITIES",
    "animate_trajectories",
    "label_axes",
    "plot_depth_profile",
    "plot_layer_histograms",
    "plot_loss_curves",
    "plot_schedules",
    "plot_trajectories",
]

DPI = 100
#: LayerStats fields that :func:`plot_depth_profile` can draw against depth.
QUANTITIES = ("mean", "std", "grad_mean", "grad_std", "pct_saturated", "pct_dead")
_ROW = 8   # up to this many histograms sit in one row; more make a grid of _COLS columns
_COLS = 5

StatsLike = Union[ActivationStats, Sequence[LayerStats]]


def _records(stats: StatsLike, what: str) -> list[LayerStats]:
    if isinstance(stats, ActivationStats):
        return list(stats.layers)
    if isinstance(stats, Sequence) and all(isinstance(r, LayerStats) for r in stats):
        return list(stats)
    raise TypeError(f"{what} must be an ActivationStats or a list of LayerStats, "
                    f"got {type(stats).__name__}")


def _evenly(n: int, k: int | None) -> list[int]:
    """``k`` indices spread evenly over ``range(n)``, first and last included."""
    if k is not None:
        k = check_int("max_layers", k, min=1)
    if k is None or k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)})


def _new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    fig = plt.figure(figsize=(width, height), dpi=DPI, **kwargs)
    plt.close(fig)  # the caller owns it; pyplot neither keeps nor auto-displays it
    return fig


def _grid(n: int) -> tuple[int, int]:
    return (1, n) if n <= _ROW else (math.ceil(n / _COLS), _COLS)


def _fmt(v: float | None) -> str:
    return "-" if v is None else format(v, ".2g")


def _draw_histogram(ax: Any, rec: LayerStats, grad: bool, xlim: tuple[float, float] | None) -> None:
    counts = rec.grad_hist_counts if grad else rec.hist_counts
    edges = rec.grad_hist_edges if grad else rec.hist_edges
    mean, std = (rec.grad_mean, rec.grad_std) if grad else (rec.mean, rec.std)
    ax.stairs(counts, edges, fill=True, color="C1" if grad else "C0")
    ax.set_title(f"layer {rec.index + 1}\nmean {_fmt(mean)}, std {_fmt(std)}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.locator_params(axis="x", nbins=4)
    ax.set_yticks([])  # counts depend on batch size; the shape is what matters
    if xlim is not None:
        ax.set_xlim(*xlim)


def plot_layer_histograms(stats: StatsLike, kind: Literal["activation", "gradient"] = "activation",
                          max_layers: int | None = None, title: str | None = None,
                          range: tuple[float, float] | None = None) -> Figure:
    """One histogram per layer, left to right from the input: the cs231n activation picture.

    Each panel is titled ``layer k`` (k = ``index + 1``, counting from the input) with that
    layer's mean and std. Vanishing signals show as ever narrower spikes at 0, saturating tanh as
    mass piling up at -1 and 1.

    Args:
        stats: an :class:`~dlcourse.probes.ActivationStats` after a forward (and backward) pass,
            or a list of its :class:`~dlcourse.probes.LayerStats`.
        kind: ``"activation"`` (the layer outputs) or ``"gradient"`` (the loss gradient with
            respect to them; needs a backward pass).
        max_layers: show at most this many layers, spread evenly over the depth (first and last
            kept); ``None`` shows all.
        title: the figure's title.
        range: a shared x-range ``(lo, hi)`` for every panel; ``None`` keeps each layer's own.

    Returns:
        The figure, with one axes per shown layer, in one row up to 8 layers, else a 5-column grid.

    See the book: Weight initialization.
    """
    check_choice("kind", kind, ("activation", "gradient"))
    if range is not None:
        range = check_interval("range", range)
    grad = kind == "gradient"
    recs = [r for r in _records(stats, "stats")
            if (r.grad_hist_counts if grad else r.hist_counts)]
    if not recs:
        hint = "call backward() inside the with-block" if grad else "run a forward pass"
        raise ValueError(f"stats hold no {kind} histograms yet: {hint} while ActivationStats "
                         "is attached")
    recs = [recs[i] for i in _evenly(len(recs), max_layers)]
    nrows, ncols = _grid(len(recs))
    width, height = 1.8 * ncols + 0.4, 1.9 * nrows + (0.35 if title else 0.0)
    # Fixed margins in inches, not constrained layout: it would double an explorer redraw.
    fig = _new_figure(width, height)
    top = 1.0 - (0.5 + (0.35 if title else 0.0)) / height
    axes = fig.subplots(nrows, ncols, squeeze=False, gridspec_kw=dict(
        left=0.2 / width, right=1.0 - 0.2 / width, bottom=0.3 / height, top=top,
        wspace=0.15, hspace=0.9)).ravel()
    for ax in axes[len(recs):]:
        fig.delaxes(ax)
    for ax, rec in zip(axes, recs):
        _draw_histogram(ax, rec, grad, range)
    if title:
        fig.suptitle(title, fontsize=10, y=1.0 - 0.1 / height, va="top")
    return fig


def _profile(values: Any, quantity: str, label: str) -> np.ndarray:
    if isinstance(values, ActivationStats) or (
            isinstance(values, Sequence) and values and isinstance(values[0], LayerStats)):
        raw = [getattr(r, quantity) for r in _records(values, f"profiles[{label!r}]")]
        if all(v is None for v in raw):
            raise ValueError(f"profiles[{label!r}] has no {quantity!r} recorded: run a forward "
                             "(and for grad_* a backward) pass while ActivationStats is attached")
        raw = [math.nan if v is None else v for v in raw]
    else:
        raw = values
    return _curve(raw, f"profiles[{label!r}]", "an ActivationStats or a sequence of numbers",
                  "hold at least one layer")


def _curve(values: Any, what: str, expected: str, shape_rule: str) -> np.ndarray:
    """``values`` as a non-empty 1-D float array; a TypeError says what ``what`` must be."""
    try:
        y = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be {expected}, got {type(values).__name__}") from None
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"{what} must {shape_rule}, got shape {y.shape}")
    return y


def plot_depth_profile(profiles: Mapping[str, Any], quantity: str = "std", logy: bool = False,
                       title: str | None = None) -> Figure:
    r"""A statistic against layer depth, one curve per label: the 100-layer picture.

    With :math:`W \sim N(0, \sigma^2)` and no activation the std after layer :math:`l` is about
    :math:`(\sqrt{n}\,\sigma)^{l}`: a straight line on a log axis, up for :math:`\sigma = 1`,
    down for :math:`\sigma = 0.01`, flat for :math:`\sigma = 1/\sqrt{n}`.

    Args:
        profiles: label -> :class:`~dlcourse.probes.ActivationStats` (or a list of its
            LayerStats) or -> a sequence of floats, one per layer.
        quantity: for stats, one of :data:`QUANTITIES` (``"mean"``, ``"std"``, ``"grad_std"``, ...).
        logy: a logarithmic y-axis (for 1e-16 scales); mean quantities are then drawn as
            absolute values, ``|mean|``, because a log axis cannot show negatives.
        title: the axes title.

    Returns:
        The figure, one axes; x is the layer number 1..L, with ``nan`` where nothing was recorded.

    See the book: Weight initialization.
    """
    check_choice("quantity", quantity, QUANTITIES)
    _check_mapping("profiles", profiles, "label -> ActivationStats or values")
    absolute = logy and quantity.endswith("mean")
    fig = _new_figure(6.4, 4.0, layout="constrained")
    ax = fig.subplots()
    for label, values in profiles.items():
        y = _profile(values, quantity, str(label))
        y = np.abs(y) if absolute else y
        x = np.arange(1, y.size + 1)
        ax.plot(x, y, marker="o" if y.size <= 20 else None, markersize=3, label=str(label))
    label_axes(ax, "layer", f"|{quantity}|" if absolute else quantity, title, logy)
    return fig


def _check_mapping(name: str, value: Any, entries: str) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a non-empty dict {entries}, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must be a non-empty dict {entries}, got an empty one")


def _losses(history: Any, label: str) -> np.ndarray:
    if isinstance(history, Mapping) and "loss" in history:
        history = history["loss"]
    elif hasattr(history, "loss"):
        history = history.loss
    return _curve(history, f"histories[{label!r}]", "a sequence of losses or have a .loss list",
                  "be a non-empty 1-D sequence of losses")


def plot_loss_curves(histories: Mapping[str, Any], title: str | None = None,
                     logy: bool = False, xlabel: str = "step") -> Figure:
    """Training loss against step, one line per label (e.g. Xavier vs Kaiming on a deep ReLU net).

    Args:
        histories: label -> a sequence of losses, or an object with a ``.loss`` list (or a dict
            with a ``"loss"`` key), such as a training history.
        title: the axes title.
        logy: a logarithmic loss axis.
        xlabel: what one point is, e.g. ``"epoch"`` for a history's per-epoch losses.

    Returns:
        The figure, one axes; line ``i`` has x = 1..n and y = the losses as given.

    See the book: Weight initialization.
    """
    _check_mapping("histories", histories, "label -> losses")
    fig = _new_figure(6.4, 4.0, layout="constrained")
    ax = fig.subplots()
    for label, history in histories.items():
        y = _losses(history, str(label))
        ax.plot(np.arange(1, y.size + 1), y, label=str(label))
    label_axes(ax, xlabel, "loss", title, logy)
    return fig


def label_axes(ax: Any, xlabel: str, ylabel: str, title: str | None = None,
               logy: bool = False) -> None:
    """Finish a line plot the course's way: labels, a light grid, a small legend, a title.

    Args:
        ax: the matplotlib axes.
        xlabel: the x axis label.
        ylabel: the y axis label.
        title: the title, or ``None`` for none.
        logy: a logarithmic y axis.
    """
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)


def plot_schedules(curves: Mapping[str, Any], momenta: Mapping[str, Any] | None = None,
                   logy: bool = True, title: str | None = None) -> Figure:
    """Learning rate against step, one line per schedule, and the momentum beside it.

    Args:
        curves: label -> the learning rate at every step (a sequence of numbers).
        momenta: label -> the momentum at every step, drawn on a second axes; ``None`` (or an
            empty dict) draws the rates only.
        logy: a logarithmic rate axis (decays look like straight lines or bends).
        title: the title of the rate axes.

    Returns:
        A figure with one axes (rates) or two (rates, momenta), x = 0..n-1.

    See the book: Learning-rate schedules.
    """
    _check_mapping("curves", curves, "label -> learning rates")
    fig = _new_figure(11.0 if momenta else 6.4, 3.8, layout="constrained")
    axes = fig.subplots(1, 2 if momenta else 1, squeeze=False)[0]
    for label, lrs in curves.items():
        y = _curve(lrs, f"curves[{label!r}]", "a sequence of learning rates",
                   "be a non-empty 1-D sequence of learning rates")
        axes[0].plot(np.arange(y.size), y, label=str(label))
    label_axes(axes[0], "step", "learning rate", title, logy)
    for label, moms in (momenta or {}).items():
        y = _curve(moms, f"momenta[{label!r}]", "a sequence of momenta",
                   "be a non-empty 1-D sequence of momenta")
        axes[1].plot(np.arange(y.size), y, label=str(label))
    if momenta:
        label_axes(axes[1], "step", "momentum", "momentum")
    return fig
def _surface_axes(ax: Any, surface: Any, levels: int = 25, resolution: int = 120) -> None:
    """Draw contour lines of a 2-D surface (of its log), and its minimum as a star."""
    import torch

    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = surface(torch.stack([X, Y], dim=-1)).numpy()
    Z = np.log1p(Z - Z.min())  # log scale: the valley floor and the walls both show
    ax.contour(X.numpy(), Y.numpy(), Z, levels=levels, cmap="Greys", linewidths=0.6)
    ax.plot(*surface.minimum, marker="*", color="k", markersize=10, linestyle="none")
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)


def plot_trajectories(surface: Any, paths: Mapping[str, Any], title: str | None = None,
                      width: float = 6.4, height: float = 3.6) -> Figure:
    """Contours of a 2-D loss surface with one optimizer's path per label.

    Args:
        surface: a :class:`~dlcourse.optim.surfaces.Surface` (callable on ``(..., 2)`` tensors,
            with ``xlim``, ``ylim`` and ``minimum``).
        paths: label -> a ``(T + 1, 2)`` array of visited points, e.g. from
            :func:`dlcourse.optim.surfaces.trajectory`.
        title: the axes title.
        width: figure width in inches.
        height: figure height in inches.

    Returns:
        The figure; the minimum is marked with a star, each path with dots joined by a line.

    See the book: Optimizers.
    """
    _check_mapping("paths", paths, "label -> (T + 1, 2) points")
    fig = _new_figure(width, height, layout="constrained")
    ax = fig.subplots()
    _surface_axes(ax, surface)
    for label, path in paths.items():
        xy = np.asarray(path, dtype=float)
        ax.plot(xy[:, 0], xy[:, 1], marker="o", markersize=2, linewidth=1, label=str(label))
    label_axes(ax, "x", "y", title)
    return fig


def animate_trajectories(surface: Any, paths: Mapping[str, Any], frames: int = 30,
                         title: str | None = None, dpi: int = 60) -> str:
    """An animation of optimizers moving on a 2-D surface, as self-contained HTML.

    Matplotlib's ``to_jshtml`` embeds every frame as a PNG and its own player script, so the
    result plays in the HTML book offline (no script or style is fetched from a server).
    Keep it small: few frames, low dpi.

    Args:
        surface: the :class:`~dlcourse.optim.surfaces.Surface` the paths ran on.
        paths: label -> ``(T + 1, 2)`` points; frame ``k`` shows every path up to step
            ``k·T/frames``.
        frames: the number of frames (>= 2).
        title: the axes title.
        dpi: resolution of each frame.

    Returns:
        The HTML of the player (display it with ``IPython.display.HTML``).

    See the book: Optimizers.
    """
    from matplotlib.animation import FuncAnimation

    _check_mapping("paths", paths, "label -> (T + 1, 2) points")
    check_int("frames", frames, min=2)
    check_int("dpi", dpi, min=10)
    data = {str(k): np.asarray(v, dtype=float) for k, v in paths.items()}
    longest = max(len(xy) for xy in data.values())
    fig = plt.figure(figsize=(5.0, 3.2), dpi=dpi, layout="constrained")
    plt.close(fig)
    ax = fig.subplots()
    _surface_axes(ax, surface)
    lines = {k: ax.plot([], [], marker="o", markersize=2, linewidth=1, label=k)[0] for k in data}
    label_axes(ax, "x", "y", title)

    def draw(frame: int) -> list[Any]:
        upto = 1 + round(frame * (longest - 1) / (frames - 1))
        for k, line in lines.items():
            line.set_data(data[k][:upto, 0], data[k][:upto, 1])
        return list(lines.values())

    anim = FuncAnimation(fig, draw, frames=frames, interval=150, blit=False)
    return _offline_player(str(anim.to_jshtml(default_mode="once")))


# Matplotlib's player draws its buttons with Font Awesome icons loaded from a CDN; offline the
# buttons would be blank, so the stylesheet goes and each icon becomes a plain character.
_ICONS = {"fa-fast-backward": "&#x23EE;", "fa-step-backward": "&#x23F4;&#x23F4;",
          "fa-play fa-flip-horizontal": "&#x23F4;", "fa-pause": "&#x23F8;",
          "fa-play": "&#x23F5;", "fa-step-forward": "&#x23F5;&#x23F5;",
          "fa-fast-forward": "&#x23ED;", "fa-minus": "&minus;", "fa-plus": "+"}


def _offline_player(html: str) -> str:
    """Remove the player's only network resource (Font Awesome) and keep its buttons labelled."""
    import re

    html = re.sub(r'<link rel="stylesheet"\s*href="https?://[^"]*font-awesome[^"]*">', "", html)
    for icon, text in _ICONS.items():
        html = html.replace(f'<i class="fa {icon}"></i>', text)
    return html

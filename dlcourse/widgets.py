"""Interactive explorers for the book, with a static picture where widgets cannot run.

:func:`init_explorer` lets a reader pick an initialization scheme, its scale, the activation and
the depth of a deep tanh/ReLU stack, and redraws the per-layer activation histograms. The figure
itself comes from :func:`explorer_figure`, a pure function of the settings (seeded, CPU), so it is
tested without a browser; the widget only wires controls to it.

Offline books: a rendered HTML page runs no Python. The book vendors the widget JavaScript, so the
saved widget shows its controls and the figure of the initial settings. For every other viewer
(GitHub, nbviewer, an editor without widget support), ``init_explorer(static=True)`` puts a plain
PNG of the current figure into the same output, beside the widget view: a viewer that cannot draw
the widget shows the picture instead.

:func:`gradient_explorer` does the same for activation functions: pick the activation, the
depth and the scale of the input, and see the weight gradient's size layer by layer
(:func:`gradient_figure`, from :func:`dlcourse.experiments.activations.gradient_profile`).

See the book: Weight initialization; Activation functions.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from typing import Any, Literal

from matplotlib.figure import Figure

from dlcourse._validate import check_choice, check_int, check_positive_float
from dlcourse.probes.stack import run_stack
from dlcourse.probes.stats import ActivationStats
from dlcourse.viz import plot_layer_histograms

__all__ = [
    "ACTIVATION_CHOICES",
    "GRADIENT_GRID",
    "SCHEMES",
    "STATIC_GRID",
    "explorer_figure",
    "explorer_stats",
    "gradient_explorer",
    "gradient_figure",
    "init_explorer",
    "scheme_std",
]

SCHEMES = ("normal(σ)", "xavier", "kaiming", "lecun")
ACTIVATION_CHOICES = ("tanh", "relu", "sigmoid", "identity")
Scheme = Literal["normal(σ)", "xavier", "kaiming", "lecun"]
_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}  # shared x-range where outputs are bounded
_MAX_DEPTH = 20

#: The settings the static book precomputes for the explorer (the book's ``dlcourse-explorer``
#: directive draws :func:`explorer_figure` for each combination at build time): the chapter's
#: suggested tour: σ 0.01 (vanishing), 0.14 (saturating at width 512), the schemes at scale 1.
STATIC_GRID: dict[str, list] = {
    "scheme": ["xavier", "normal(σ)", "kaiming"],
    "scale": [1.0, 0.01, 0.14],
    "activation": ["tanh", "relu"],
    "depth": [6],
}


def scheme_std(scheme: Scheme, scale: float, fan_in: int, fan_out: int) -> float:
    r"""The weight std of a scheme, times ``scale``.

    .. math::
        \sigma = s \cdot \begin{cases} 1 & \text{normal}(\sigma)\ (s \text{ is } \sigma)\\
        \sqrt{2/(n_{in}+n_{out})} & \text{xavier} \\ \sqrt{2/n_{in}} & \text{kaiming} \\
        \sqrt{1/n_{in}} & \text{lecun} \end{cases}

    Args:
        scheme: one of :data:`SCHEMES`.
        scale: :math:`s > 0`.
        fan_in: the layer's fan-in :math:`n_{in}`.
        fan_out: the layer's fan-out :math:`n_{out}`.

    Returns:
        The standard deviation, a float.
    """
    check_choice("scheme", scheme, SCHEMES)
    base = {"normal(σ)": 1.0, "xavier": math.sqrt(2.0 / (fan_in + fan_out)),
            "kaiming": math.sqrt(2.0 / fan_in), "lecun": math.sqrt(1.0 / fan_in)}
    return scale * base[scheme]


def _check(depth: int, width: int, batch: int, activation: str, scheme: str, scale: float,
           seed: int) -> None:
    for name, value in (("depth", depth), ("width", width), ("batch", batch)):
        check_int(name, value, min=1)
    check_choice("activation", activation, ACTIVATION_CHOICES)
    check_choice("scheme", scheme, SCHEMES)
    check_positive_float("scale", scale)
    check_int("seed", seed, min=0)


def explorer_stats(depth: int = 6, width: int = 512, batch: int = 16, activation: str = "tanh",
                   scheme: Scheme = "xavier", scale: float = 1.0, seed: int = 0) -> ActivationStats:
    r"""Run a seeded batch through a deep stack and return the per-layer statistics.

    The batch :math:`X \sim N(0, 1)^{batch \times width}` goes through
    ``deep_stack(depth, width, activation)`` with weights :math:`N(0, \sigma^2)`,
    :math:`\sigma` = :func:`scheme_std` (no gradients).

    Args: as :func:`explorer_figure`.

    Returns:
        The detached :class:`~dlcourse.probes.ActivationStats`, one record per layer.
    """
    _check(depth, width, batch, activation, scheme, scale, seed)
    std = scheme_std(scheme, scale, width, width)
    run = run_stack(depth, width, activation, weight_std=std, batch=batch, seed=seed,
                    hist_range=_RANGES.get(activation), bins=50)
    return run.stats


def explorer_figure(depth: int = 6, width: int = 512, batch: int = 16, activation: str = "tanh",
                    scheme: Scheme = "xavier", scale: float = 1.0, seed: int = 0) -> Figure:
    r"""The explorer's picture for one set of settings: one activation histogram per layer.

    The lecture's demo is ``width=4096, batch=16, activation="tanh"`` with
    ``scheme="normal(σ)"`` and ``scale`` 0.01 (vanishing), 0.05 (saturating), or ``"xavier"``
    ("just right"); the default width 512 keeps a redraw well under a second. A layer scales the
    spread by :math:`\sqrt{n}\,\sigma`, so at width 512 the lecture's saturating factor
    :math:`\sqrt{4096} \cdot 0.05 = 3.2` needs ``scale`` :math:`3.2/\sqrt{512} \approx 0.14`.

    Args:
        depth: number of layers (>= 1).
        width: units per layer.
        batch: examples in the batch.
        activation: one of :data:`ACTIVATION_CHOICES`.
        scheme: one of :data:`SCHEMES`; ``"normal(σ)"`` uses ``scale`` as the std itself.
        scale: the std for ``"normal(σ)"``, a multiplier of the scheme's std otherwise (> 0).
        seed: seeds both the weights and the input batch.

    Returns:
        A figure with ``depth`` histogram axes (see :func:`~dlcourse.viz.plot_layer_histograms`).

    See the book: Weight initialization.
    """
    stats = explorer_stats(depth, width, batch, activation, scheme, scale, seed)
    label = f"σ = {scale:.3g}" if scheme == "normal(σ)" else f"{scheme} × {scale:.3g}"
    return plot_layer_histograms(stats, title=f"{label}, {activation}, width {width}",
                                 range=_RANGES.get(activation))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)  # 80 dpi: a quick redraw, still sharp on screen
    return buffer.getvalue()


def _display_output(png: bytes) -> dict[str, Any]:
    """An nbformat display_data output holding ``png``.

    It is set on ``Output.outputs`` directly, which works inside a kernel and in plain Python
    (tests) alike.
    """
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(png).decode("ascii"),
                     "text/plain": "<explorer figure>"}}


def init_explorer(depth: int = 6, width: int = 512, batch: int = 16, activation: str = "tanh",
                  scheme: Scheme = "xavier", scale: float = 1.0, seed: int = 0,
                  static: bool = True) -> Any:
    """An ipywidgets explorer of initialization: scheme, scale, activation and depth -> histograms.

    Controls: ``init`` (Dropdown of :data:`SCHEMES`), ``scale`` (FloatLogSlider, 1e-3 to 10: the
    std for ``normal(σ)``, a multiplier otherwise), ``activation`` (Dropdown of
    :data:`ACTIVATION_CHOICES`) and ``depth`` (IntSlider 1 to 20). Each change redraws
    :func:`explorer_figure` into an Output widget.

    Args:
        depth: the initial number of layers, as in :func:`explorer_figure`.
        width: units per layer, as in :func:`explorer_figure` (stays fixed).
        batch: examples in the batch, as in :func:`explorer_figure` (stays fixed).
        activation: the initial activation, as in :func:`explorer_figure`.
        scheme: the initial scheme, as in :func:`explorer_figure`.
        scale: the initial scale, as in :func:`explorer_figure`.
        seed: seeds the weights and the input batch, as in :func:`explorer_figure` (stays fixed).
        static: add a static PNG of the current figure to the widget's display data, shown by
            viewers that cannot run widgets (the widget view wins where widgets work).

    Returns:
        The ``ipywidgets.VBox``; its ``controls`` attribute maps ``"scheme"``, ``"scale"``,
        ``"activation"``, ``"depth"`` to the control widgets, and ``output`` is the Output widget.

    See the book: Weight initialization.
    """
    import ipywidgets as W

    _check(depth, width, batch, activation, scheme, scale, seed)
    controls = {
        "scheme": W.Dropdown(options=SCHEMES, value=scheme, description="init"),
        "scale": W.FloatLogSlider(value=scale, base=10, min=min(-3, math.floor(math.log10(scale))),
                                  max=max(1, math.ceil(math.log10(scale))), step=0.05,
                                  description="scale", readout_format=".3g"),
        "activation": W.Dropdown(options=ACTIVATION_CHOICES, value=activation,
                                 description="activation"),
        "depth": W.IntSlider(value=depth, min=1, max=max(_MAX_DEPTH, depth), description="depth"),
    }
    output = W.Output()

    box = _explorer_class()([W.HBox([controls["scheme"], controls["scale"]]),
                             W.HBox([controls["activation"], controls["depth"]]), output])
    box.controls, box.output, box.static = controls, output, static

    def redraw(change: Any = None) -> None:
        settings = {key: control.value for key, control in controls.items()}
        box.png = _png(explorer_figure(width=width, batch=batch, seed=seed, **settings))
        output.outputs = (_display_output(box.png),)

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    return box


@functools.cache
def _explorer_class() -> type:
    """A VBox whose display data carries a PNG of its figure beside the widget view."""
    import ipywidgets as W

    class Explorer(W.VBox):
        png: bytes = b""
        static: bool = True

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
            if self.static and self.png:
                bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
            return bundle

    return Explorer


_GRADIENT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")

#: The settings the static book precomputes for :func:`gradient_figure` (the chapter's suggested
#: tour: every activation, shallow and deep, inputs of std 1 and 30).
GRADIENT_GRID: dict[str, list] = {
    "activation": list(_GRADIENT_ACTIVATIONS),
    "depth": [10, 20],
    "input_scale": [1.0, 30.0],
}


def gradient_figure(activation: str = "sigmoid", depth: int = 10, input_scale: float = 1.0,
                    width: int = 128, seed: int = 0) -> Figure:
    """The gradient explorer's picture: the weight-gradient std of each layer, on a log scale.

    Args:
        activation: one of ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"elu"``,
            ``"selu"``, ``"gelu"``.
        depth: the number of hidden layers (>= 1).
        input_scale: the std of the inputs (> 0); large values saturate sigmoid and tanh.
        width: units per layer.
        seed: seeds the weights, the inputs and the gradient fed in at the top.

    Returns:
        A figure with one axis; layer 1 is the input side.

    See the book: Activation functions.
    """
    from dlcourse.experiments.activations import gradient_profile
    from dlcourse.viz import label_axes

    check_choice("activation", activation, _GRADIENT_ACTIVATIONS)
    stds = gradient_profile(activation, depth=depth, width=width, input_scale=input_scale,
                            batch=64, seed=seed)
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    ax.semilogy(range(1, depth + 1), [max(s, 1e-30) for s in stds], "o-", label=activation)
    label_axes(ax, "layer (1 = input side)", "std of dL/dW",
               f"{activation}, input std {input_scale:.3g}, {depth} layers of {width}")
    return fig


def gradient_explorer(activation: str = "sigmoid", depth: int = 10, input_scale: float = 1.0,
                      static: bool = True) -> Any:
    """An ipywidgets explorer: activation, depth, input scale -> per-layer gradient.

    Controls: ``activation`` (Dropdown), ``depth`` (IntSlider 1 to 20) and ``input scale``
    (FloatLogSlider 0.01 to 100). Each change redraws :func:`gradient_figure`.

    Args:
        activation: the initial activation, as in :func:`gradient_figure`.
        depth: the initial depth, as in :func:`gradient_figure`.
        input_scale: the initial input std, as in :func:`gradient_figure`.
        static: add a PNG of the current figure for viewers without widgets (as
            :func:`init_explorer`).

    Returns:
        The ``ipywidgets.VBox``, with ``controls`` and ``output`` as in :func:`init_explorer`.

    See the book: Activation functions.
    """
    import ipywidgets as W

    check_choice("activation", activation, _GRADIENT_ACTIVATIONS)
    check_int("depth", depth, min=1)
    check_positive_float("input_scale", input_scale)
    controls = {
        "activation": W.Dropdown(options=_GRADIENT_ACTIVATIONS, value=activation,
                                 description="activation"),
        "depth": W.IntSlider(value=depth, min=1, max=max(_MAX_DEPTH, depth), description="depth"),
        "input_scale": W.FloatLogSlider(value=input_scale, base=10, min=-2, max=2, step=0.1,
                                        description="input std", readout_format=".3g"),
    }
    output = W.Output()
    box = _explorer_class()([W.HBox([controls["activation"], controls["depth"]]),
                             controls["input_scale"], output])
    box.controls, box.output, box.static = controls, output, static

    def redraw(change: Any = None) -> None:
        settings = {key: control.value for key, control in controls.items()}
        box.png = _png(gradient_figure(**settings))
        output.outputs = (_display_output(box.png),)

    redraw()
    for control in controls.values():
        control.observe(redraw, names="value")
    return box

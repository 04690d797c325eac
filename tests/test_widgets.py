"""Tests of dlcourse.widgets: the pure explorer figure, the widget wiring, the static fallback."""

from __future__ import annotations

import base64
import math

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dlcourse.probes import run_stack  # noqa: E402
from dlcourse.runtime import generator  # noqa: E402
from dlcourse.widgets import (  # noqa: E402
    ACTIVATION_CHOICES,
    SCHEMES,
    explorer_figure,
    explorer_stats,
    init_explorer,
    scheme_std,
)


def png_of(box) -> bytes:
    (out,) = box.output.outputs
    assert out["output_type"] == "display_data"
    return base64.b64decode(out["data"]["image/png"])


@pytest.mark.parametrize("depth", [1, 3, 7])
def test_explorer_figure_has_one_histogram_per_layer(depth):
    fig = explorer_figure(depth=depth, width=64)
    assert len(fig.axes) == depth
    assert fig.axes[-1].get_title().startswith(f"layer {depth}\n")
    assert fig.axes[0].get_xlim() == (-1.0, 1.0)  # tanh: a shared range


def test_scheme_std_formulas():
    assert scheme_std("normal(σ)", 0.01, 512, 512) == 0.01
    assert scheme_std("xavier", 1.0, 300, 100) == pytest.approx(math.sqrt(2 / 400))
    assert scheme_std("kaiming", 2.0, 512, 512) == pytest.approx(2 * math.sqrt(2 / 512))
    assert scheme_std("lecun", 1.0, 512, 64) == pytest.approx(1 / math.sqrt(512))
    with pytest.raises(ValueError, match="scheme"):
        scheme_std("he", 1.0, 1, 1)


def test_explorer_stats_equal_the_lecture_loop():
    # the seed's loop: x = tanh(x @ w) with w ~ N(0, sigma^2), same seed, same draw order
    stats = explorer_stats(depth=3, width=16, batch=4, activation="tanh", scheme="normal(σ)",
                           scale=0.5, seed=3)
    gen = generator(3)
    ws = [torch.empty(16, 16).normal_(0, 0.5, generator=gen) for _ in range(3)]
    x = torch.randn(4, 16, generator=gen)
    for rec, w in zip(stats.layers, ws):
        x = torch.tanh(x @ w.T)
        assert rec.std == pytest.approx(x.std().item(), rel=1e-5)
        assert rec.mean == pytest.approx(x.mean().item(), abs=1e-6)


def test_explorer_stats_come_from_the_shared_stack_runner():
    stats = explorer_stats(depth=4, width=32, batch=8, activation="relu", scheme="kaiming",
                           scale=1.5, seed=2)
    run = run_stack(4, 32, "relu", weight_std=scheme_std("kaiming", 1.5, 32, 32), batch=8,
                    seed=2, bins=50)
    assert [rec.std for rec in stats.layers] == run.values("std")
    assert [rec.hist_counts for rec in stats.layers] == run.values("hist_counts")


def test_the_books_invitation_saturation_needs_sqrt_n_sigma_not_sigma():
    # the lecture's sigma = 0.05 saturates at width 4096 (sqrt(4096)*0.05 = 3.2 per layer); at
    # the explorer's width 512 the same factor needs sigma = 3.2 / sqrt(512) = 0.14
    def saturated(scale: float) -> float:
        stats = explorer_stats(width=512, scheme="normal(σ)", scale=scale)
        return min(rec.pct_saturated for rec in stats.layers[1:])

    assert saturated(0.05) < 2 < 25 < saturated(0.14)


def test_lecture_regimes_vanish_and_saturate():
    small = explorer_stats(depth=6, width=1024, scheme="normal(σ)", scale=0.01)
    big = explorer_stats(depth=6, width=1024, scheme="normal(σ)", scale=0.2)
    assert small.layers[-1].std < 1e-3 < small.layers[0].std  # vanishing with depth
    assert big.layers[-1].pct_saturated > 30.0  # most mass at -1 and 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(scheme="he"), "scheme"), (dict(activation="elu"), "activation"),
    (dict(depth=0), "depth"), (dict(width=0), "width"), (dict(batch=0), "batch"),
    (dict(scale=0.0), "scale"), (dict(scale=-1.0), "scale"), (dict(scale=math.nan), "scale"),
    (dict(seed=-1), "seed"),
])
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        explorer_figure(**kwargs)
    with pytest.raises(ValueError, match=match):
        init_explorer(static=False, **kwargs)


def test_widget_controls_and_redraw_on_change():
    box = init_explorer(depth=2, width=32, static=False)
    assert isinstance(box, W.VBox) and box.output in box.children
    controls = box.controls
    assert tuple(controls["scheme"].options) == SCHEMES
    assert tuple(controls["activation"].options) == ACTIVATION_CHOICES
    assert isinstance(controls["scale"], W.FloatLogSlider)
    assert (controls["depth"].min, controls["depth"].max) == (1, 20)
    first = png_of(box)
    assert first.startswith(b"\x89PNG")
    controls["depth"].value = 5
    second = png_of(box)
    assert second != first
    controls["scheme"].value = "kaiming"
    controls["activation"].value = "relu"
    controls["scale"].value = 0.1
    assert png_of(box) not in (first, second)


def test_redraw_is_the_explorer_figure_of_the_new_settings():
    from dlcourse.widgets import _png

    box = init_explorer(depth=2, width=32, batch=8, static=False)
    box.controls["depth"].value = 3
    expected = _png(explorer_figure(depth=3, width=32, batch=8))
    assert png_of(box) == expected


def test_static_fallback_travels_with_the_widget_view():
    box = init_explorer(depth=2, width=32, static=True)
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == png_of(box) == box.png
    box.controls["depth"].value = 3  # the fallback follows the controls
    assert base64.b64decode(box._repr_mimebundle_()["image/png"]) == png_of(box)
    assert "image/png" not in init_explorer(depth=2, width=32, static=False)._repr_mimebundle_()

r"""The experiments of "Weight initialization, continued": forward and backward, gain, depth.

* the forward and the backward condition on non-square layers, and Xavier's compromise:
  :func:`growing_widths`, :func:`weight_variance`, :func:`variance_flow`,
  :func:`variance_flow_theory`;
* the gain of an activation function: :func:`second_moment`, :func:`gain_table`;
* how He et al.'s Xavier-versus-Kaiming claim depends on depth and learning rate:
  :func:`depth_lr_sweep`, :func:`training_verdict`, :func:`sweep_table`, :func:`plot_sweep`.

Random numbers come from seeded CPU generators (:func:`dlcourse.generator`); what the book prints
from a trained network is a verdict with a wide margin, never a trained loss to three digits.

See the book: Weight initialization, continued.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Sequence

import numpy as np
import torch
from torch import Tensor

from dlcourse.nn.builders import InitName
from dlcourse.runtime import device, generator

if TYPE_CHECKING:  # matplotlib loads only when a figure is drawn
    import matplotlib.figure

__all__ = [
    "RULES", "SweepRun", "VERDICTS", "depth_lr_sweep", "gain_table", "growing_widths",
    "plot_sweep", "second_moment", "sweep_table", "training_verdict", "variance_flow",
    "variance_flow_theory", "weight_variance",
]

Rule = Literal["fan_in", "fan_out", "average"]
#: The three weight variances of section 1, :math:`1/n_{in}`, :math:`1/n_{out}` and Glorot's
#: :math:`2/(n_{in} + n_{out})`, by name.
RULES: tuple[str, ...] = ("fan_in", "fan_out", "average")


# --- section 1: the forward and the backward condition -------------------------------------------

def growing_widths(start: int = 256, stop: int = 1024, depth: int = 8) -> list[int]:
    """Layer widths growing geometrically from ``start`` to ``stop``: ``depth + 1`` of them.

    They are the sizes of a stack of ``depth`` non-square layers (rounded to integers): layer
    ``l`` maps ``widths[l-1] -> widths[l]``.

    See the book: Weight initialization, continued.
    """
    for name, value in (("start", start), ("stop", stop), ("depth", depth)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    ratio = (stop / start) ** (1 / depth)
    return [round(start * ratio**k) for k in range(depth + 1)]


def weight_variance(fan_in: int, fan_out: int, rule: Rule) -> float:
    r"""The weight variance of one of the three rules of section 1.

    ``"fan_in"``: :math:`1/n_{in}` (the forward condition); ``"fan_out"``: :math:`1/n_{out}` (the
    backward condition); ``"average"``: :math:`2/(n_{in} + n_{out})` (Glorot & Bengio, 2010, their
    eq. 12; what ``xavier_normal_`` draws).

    Args:
        fan_in: inputs of the layer.
        fan_out: outputs of the layer.
        rule: one of :data:`RULES`.

    Returns:
        :math:`\operatorname{Var}(w)`.

    See the book: Weight initialization, continued.
    """
    if rule == "fan_in":
        return 1.0 / fan_in
    if rule == "fan_out":
        return 1.0 / fan_out
    if rule == "average":
        return 2.0 / (fan_in + fan_out)
    raise ValueError(f"rule={rule!r} is unknown; use one of {', '.join(map(repr, RULES))}")


def variance_flow(widths: Sequence[int], rule: Rule, batch: int = 1024,
                  seed: int = 0) -> dict[str, list[float]]:
    r"""Measure the variance of the signal forward and of the gradient backward, layer by layer.

    ``X ~ N(0, 1)`` goes forward and a gradient ``G ~ N(0, 1)`` backward through the linear layers
    ``widths[0] -> widths[1] -> ...``, :math:`W_l \sim N(0, \operatorname{Var}(w))` with
    :func:`weight_variance`. Forward :math:`h_l = h_{l-1} W_l^T`; backward
    :math:`\delta_{l-1} = \delta_l W_l` (what autograd computes for a ``Linear`` layer).

    Args:
        widths: the layer widths, at least two.
        rule: one of :data:`RULES`.
        batch: input vectors (and output gradients) per measurement.
        seed: seeds the weights, then ``X``, then ``G``.

    Returns:
        ``{"forward": [Var(h_1), ..., Var(h_L)], "backward": [Var(δ_{L-1}), ..., Var(δ_0)]}``:
        forward after each layer, backward at the input of each layer from the last to the first
        (both relative to the unit variance that was fed in).

    See the book: Weight initialization, continued.
    """
    if len(widths) < 2:
        raise ValueError(f"widths must hold at least two sizes, got {list(widths)!r}")
    g, dev = generator(seed), device()
    weights = [torch.randn(n_out, n_in, generator=g) * math.sqrt(weight_variance(n_in, n_out, rule))
               for n_in, n_out in zip(widths[:-1], widths[1:])]  # (out, in), as nn.Linear stores it
    h = torch.randn(batch, widths[0], generator=g).to(dev)
    delta = torch.randn(batch, widths[-1], generator=g).to(dev)
    forward, backward = [], []
    for W in weights:
        h = h @ W.to(dev).T                      # (batch, out)
        forward.append(h.var().item())
    for W in reversed(weights):
        delta = delta @ W.to(dev)                # (batch, in): the gradient at the layer's input
        backward.append(delta.var().item())
    return {"forward": forward, "backward": backward}


def variance_flow_theory(widths: Sequence[int], rule: Rule) -> dict[str, list[float]]:
    r"""What :func:`variance_flow` should measure, from the two conditions.

    Layer :math:`l` multiplies the forward variance by :math:`n_{in}\operatorname{Var}(w)` and the
    backward variance by :math:`n_{out}\operatorname{Var}(w)`; the lists are the running products,
    in the order of :func:`variance_flow`.

    See the book: Weight initialization, continued.
    """
    pairs = list(zip(widths[:-1], widths[1:]))
    forward, backward, f, b = [], [], 1.0, 1.0
    for n_in, n_out in pairs:
        f *= n_in * weight_variance(n_in, n_out, rule)
        forward.append(f)
    for n_in, n_out in reversed(pairs):
        b *= n_out * weight_variance(n_in, n_out, rule)
        backward.append(b)
    return {"forward": forward, "backward": backward}


# --- section 2: gain ----------------------------------------------------------------------------

def second_moment(f: Callable[[np.ndarray], np.ndarray], std: float = 1.0,
                  nodes: int = 201) -> float:
    r"""The second moment :math:`\mathbb{E}[f(z)^2]` of ``f`` for :math:`z \sim N(0, \text{std}^2)`.

    Computed by Gauss–Hermite quadrature with ``nodes`` points (exact for polynomials up to
    degree ``2 nodes - 1``).

    The gain that keeps the second moment of a layer's pre-activations at 1 is
    :math:`1/\sqrt{\mathbb{E}[f(z)^2]}`, :math:`z \sim N(0, 1)`.

    See the book: Weight initialization, continued.
    """
    if not isinstance(nodes, int) or isinstance(nodes, bool):
        raise TypeError(f"nodes must be an int, got {type(nodes).__name__}")
    if nodes < 1 or not std > 0:
        raise ValueError(f"need nodes >= 1 and std > 0, got nodes={nodes}, std={std}")
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    return float((w / w.sum() * np.asarray(f(std * z), dtype=float) ** 2).sum())


def _activations(slope: float) -> dict[str, tuple[Callable[[np.ndarray], np.ndarray],
                                                  tuple[float, float], str]]:
    """Map name -> (f on NumPy arrays, (f' just left of 0, f' just right of 0), its torch name)."""
    alpha, scale = 1.6732632423543772, 1.0507009873554805  # SELU's constants (Klambauer et al.)
    return {
        "linear": (lambda z: z, (1.0, 1.0), "linear"),
        "tanh": (np.tanh, (1.0, 1.0), "tanh"),
        "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), (0.25, 0.25), "sigmoid"),
        "relu": (lambda z: np.maximum(z, 0.0), (0.0, 1.0), "relu"),
        f"leaky_relu({slope:g})": (lambda z: np.where(z > 0, z, slope * z), (slope, 1.0),
                                   "leaky_relu"),
        "selu": (lambda z: scale * np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0))),
                 (scale * alpha, scale), "selu"),
    }


def gain_table(slope: float = 0.2) -> list[dict[str, Any]]:
    r"""Three gains per activation function, for weights :math:`\operatorname{Var}(w) = g^2/n`.

    * ``forward``: :math:`1/\sqrt{\mathbb{E}[f(z)^2]}`, :math:`z \sim N(0, 1)`
      (:func:`second_moment`): keeps the second moment of unit-variance pre-activations;
    * ``backward, small z``: :math:`1/\sqrt{\mathbb{E}[f'(z)^2]}` for small :math:`z`, i.e.
      :math:`1/|f'(0)|` for a smooth :math:`f` (Glorot and Bengio's linear regime) and
      :math:`\sqrt{2/(f'(0^-)^2 + f'(0^+)^2)}` for a kink (ReLU: :math:`\sqrt 2`);
    * ``torch``: PyTorch's ``calculate_gain``.

    Args:
        slope: the negative slope of the leaky ReLU row, in [0, 1).

    Returns:
        Rows with keys ``activation``, ``E[f(z)²]``, ``forward``, ``backward, small z``,
        ``torch``.

    See the book: Weight initialization, continued.
    """
    if not isinstance(slope, (int, float)) or isinstance(slope, bool):
        raise TypeError(f"slope must be a number, got {type(slope).__name__}")
    if not 0 <= slope < 1:
        raise ValueError(f"slope is the leaky ReLU's negative slope and must be in [0, 1), "
                         f"got {slope!r}")
    rows = []
    for name, (f, (left, right), torch_name) in _activations(float(slope)).items():
        m2 = second_moment(f)
        gain = torch.nn.init.calculate_gain(torch_name, float(slope))  # type: ignore[arg-type]
        rows.append({"activation": name, "E[f(z)²]": m2, "forward": 1 / math.sqrt(m2),
                     "backward, small z": math.sqrt(2 / (left**2 + right**2)), "torch": gain})
    return rows


# --- section 3: depth and learning rate of He et al.'s claim -------------------------------------

#: What :func:`training_verdict` can say, from worst to best.
VERDICTS = ("diverged", "at chance", "slow", "trains")


def training_verdict(loss: float, chance: float = math.log(10), band: float = 0.05,
                     good: float = 0.5) -> str:
    r"""A training run's lowest epoch ``loss``, in words.

    ``"diverged"`` (not finite), ``"at chance"`` (above ``chance - band``; ``chance`` is
    :math:`\ln 10` for ten classes), ``"trains"`` (below ``good``) or ``"slow"`` (in between).

    The thresholds sit far from the losses the book's sweep produces, so that the verdict is the
    same on any CPU even where the trained losses themselves are not.

    See the book: Weight initialization, continued.
    """
    if not isinstance(loss, (int, float)) or isinstance(loss, bool):
        raise TypeError(f"loss must be a number, got {type(loss).__name__}")
    if not 0 < good < chance - band:
        raise ValueError(f"need 0 < good < chance - band, got good={good}, chance={chance}, "
                         f"band={band}")
    if not math.isfinite(loss):
        return "diverged"
    if loss > chance - band:
        return "at chance"
    return "trains" if loss < good else "slow"


@dataclass
class SweepRun:
    """One training run of :func:`depth_lr_sweep`.

    Its settings, its per-epoch losses and the std of the first layer's weight gradient at
    initialization (``grad0``).
    """

    depth: int
    lr: float
    init: str
    seed: int
    loss: list[float]
    grad0: float = math.nan

    @property
    def best(self) -> float:
        """The lowest finite epoch loss (``inf`` when every epoch diverged).

        Unlike the last epoch's loss it does not depend on where a bumpy curve happens to end.
        """
        finite = [v for v in self.loss if math.isfinite(v)]
        return min(finite) if finite else math.inf


def depth_lr_sweep(train: tuple[Tensor, Tensor], depths: Sequence[int], lrs: Sequence[float],
                   inits: Sequence[InitName] = ("xavier_normal", "kaiming_normal"),
                   seeds: Sequence[int] = (0, 1, 2), **kwargs: Any) -> list[SweepRun]:
    """Train a deep ReLU network for every depth, learning rate, init and seed.

    Each run is :func:`~dlcourse.experiments.initialization.train_deep_relu`; ``kwargs``
    (``width``, ``epochs``, ``batch_size``) go to it.

    See the book: Weight initialization, continued.
    """
    from dlcourse.experiments.initialization import train_deep_relu

    runs = []
    for depth in depths:
        for lr in lrs:
            for init in inits:
                for seed in seeds:
                    history, grad0 = train_deep_relu(init, train, depth=depth, lr=lr, seed=seed,
                                                     **kwargs)
                    runs.append(SweepRun(depth, lr, init, seed, list(history.loss), grad0))
    return runs


def _groups(runs: Sequence[SweepRun]) -> dict[tuple[int, str, float], list[SweepRun]]:
    groups: dict[tuple[int, str, float], list[SweepRun]] = {}
    for run in runs:
        groups.setdefault((run.depth, run.init, run.lr), []).append(run)
    return groups


def sweep_table(runs: Sequence[SweepRun], **verdict_kwargs: Any) -> list[dict[str, Any]]:
    """The verdicts of a sweep: one row per (depth, init), one column per learning rate.

    Each cell is the :func:`training_verdict` of the median over the seeds of each run's lowest
    epoch loss (a median of three is robust to one odd run).

    See the book: Weight initialization, continued.
    """
    groups = _groups(runs)
    lrs = sorted({lr for _, _, lr in groups})
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for (depth, init, lr), group in groups.items():
        row = rows.setdefault((depth, init), {"depth": depth, "init": init})
        median = statistics.median(r.best for r in group)
        row[f"lr {lr:g}"] = training_verdict(median, **verdict_kwargs)
    return [{**{"depth": d, "init": i}, **{f"lr {lr:g}": rows[d, i].get(f"lr {lr:g}", "-")
                                            for lr in lrs}} for d, i in sorted(rows)]


def plot_sweep(runs: Sequence[SweepRun], title: str | None = None) -> matplotlib.figure.Figure:
    r"""The lowest epoch loss against depth, one line per (init, learning rate).

    Each line runs through the median over the seeds, with a band from the lowest to the highest
    seed; :math:`\ln 10` is dotted.

    See the book: Weight initialization, continued.
    """
    from dlcourse.viz import _new_figure, label_axes

    if not runs:
        raise ValueError("runs is empty: pass the list that depth_lr_sweep returned")
    fig = _new_figure(6.4, 4.0, layout="constrained")
    ax = fig.subplots()
    lines: dict[tuple[str, float], list[tuple[int, list[float]]]] = {}
    for (depth, init, lr), group in sorted(_groups(runs).items()):
        finals = [min(r.best, 10.0) for r in group]
        lines.setdefault((init, lr), []).append((depth, finals))
    for (init, lr), points in lines.items():
        x = [d for d, _ in points]
        style = "-" if init.startswith("kaiming") else "--"
        line, = ax.plot(x, [statistics.median(f) for _, f in points], style, marker="o",
                        label=f"{init.split('_')[0]}, lr {lr:g}")
        ax.fill_between(x, [min(f) for _, f in points], [max(f) for _, f in points],
                        color=line.get_color(), alpha=0.15)
    ax.axhline(math.log(10), color="grey", lw=0.8, ls=":")
    label_axes(ax, "hidden ReLU layers", "lowest epoch loss (training)", title)
    return fig

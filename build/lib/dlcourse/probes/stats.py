r"""Per-layer activation and gradient statistics of any ``nn.Module``, collected with hooks.

``ActivationStats`` is the instrument behind the lecture's histograms: wrap a forward (and
backward) pass in it and read, for every selected layer, the mean, standard deviation, histogram,
percentage of saturated units (tanh, sigmoid) and of dead units (ReLU family) of the layer's
output, and the same for the gradient of the loss with respect to that output::

    with ActivationStats(model, range=(-1, 1)) as stats:
        model(X)
    print(stats.table())

``snapshot`` and ``update_to_data_ratio`` (from :mod:`dlcourse.probes.updates`, importable here
too) give the cs231n diagnostic :math:`\lVert \Delta\theta \rVert / \lVert \theta \rVert`,
which should be about :math:`10^{-3}` per step for a healthy learning rate. The per-tensor
numbers (moments, histograms, saturated and dead units) come from :mod:`dlcourse.probes.measures`.

See the book: Weight initialization.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence, Union

import torch
from torch import Tensor, nn

from dlcourse._validate import check_int, check_interval, check_module, check_real
from dlcourse.probes.measures import Kind, _histogram, _moments, _pct_dead, _pct_saturated
from dlcourse.probes.updates import snapshot, update_to_data_ratio

__all__ = ["ActivationStats", "LayerStats", "select_modules", "snapshot", "update_to_data_ratio"]

# Classified by class name (walking the MRO), so the course's from-scratch modules named like
# torch's (``dlcourse.nn`` ``Tanh``, ``ReLU``...) are recognised as well as torch.nn's.
_TANH = {"Tanh"}
_SIGMOID = {"Sigmoid"}
_RELU_FAMILY = {"ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU"}
_OTHER_ACTIVATIONS = {"GELU", "SiLU", "Softplus", "Mish", "Hardtanh", "Hardsigmoid", "Hardswish",
                      "Softsign", "Tanhshrink", "LogSigmoid", "Maxout", "Swish"}
_LINEAR = (nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d,
           nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)

ModuleSelection = Union[Literal["auto", "linear", "leaves"], Sequence[Union[nn.Module, str]]]


def _kind(module: nn.Module) -> Kind | None:
    """``"tanh"``, ``"sigmoid"``, ``"relu"`` (the ReLU family), ``"activation"`` or ``None``."""
    for cls in type(module).__mro__:
        name = cls.__name__
        if name in _TANH:
            return "tanh"
        if name in _SIGMOID:
            return "sigmoid"
        if name in _RELU_FAMILY:
            return "relu"
        if name in _OTHER_ACTIVATIONS:
            return "activation"
    return None


def select_modules(model: nn.Module,
                   modules: ModuleSelection = "auto") -> list[tuple[str, nn.Module]]:
    """The ``(name, module)`` pairs ``ActivationStats`` hooks, in ``model.named_modules()`` order.

    Args:
        model: any module.
        modules: ``"auto"`` (every activation module; if the model has none, for instance because
            it calls ``torch.tanh`` functionally in ``forward``, every Linear/Conv layer instead),
            ``"linear"`` (Linear/Conv layers), ``"leaves"`` (modules without children), or a
            sequence of submodules or of their names.

    Returns:
        A non-empty list; the model itself is named ``"(model)"``.
    """
    named = [(name or "(model)", m) for name, m in model.named_modules()]
    if isinstance(modules, str):
        if modules == "auto":
            chosen = [(n, m) for n, m in named if _kind(m) is not None]
            chosen = chosen or [(n, m) for n, m in named if isinstance(m, _LINEAR)]
        elif modules == "linear":
            chosen = [(n, m) for n, m in named if isinstance(m, _LINEAR)]
        elif modules == "leaves":
            chosen = [(n, m) for n, m in named if next(m.children(), None) is None]
        else:
            raise ValueError(f"modules={modules!r}: use 'auto', 'linear', 'leaves' "
                             "or a list of submodules")
    else:
        by_id = {id(m): (n, m) for n, m in named}
        by_name = dict(named)
        chosen = []
        for item in modules:
            pair = (item, by_name[item]) if isinstance(item, str) and item in by_name else \
                by_id.get(id(item)) if isinstance(item, nn.Module) else None
            if pair is None:
                raise ValueError(f"modules: {item!r} is not a submodule (or submodule name) "
                                 "of the model")
            if pair not in chosen:
                chosen.append(pair)
    if not chosen:
        raise ValueError(f"modules={modules!r} selects no module of {type(model).__name__}; "
                         "pass modules='leaves' or an explicit list")
    return chosen


@dataclass
class LayerStats:
    """Statistics of one hooked module's output (latest forward) and its gradient (latest backward).

    ``name`` comes from ``model.named_modules()``; ``index`` is the 0-based position among the
    hooked modules (figures label it ``layer index + 1``). ``std`` is the sample standard
    deviation (``Tensor.std``, divisor :math:`n-1`, 0 for a single value), as in the lecture's
    ``x.std()``. Histograms count finite values only; ``nonfinite`` counts the ``inf``
    and ``nan`` values that an exploding network produces. ``pct_saturated`` is the percentage of
    values with :math:`|y| > s` (tanh) or :math:`y < 1-s` or :math:`y > s` (sigmoid, where
    saturation means near 0 *or* 1), 0 for other modules. ``pct_dead`` is the percentage of units
    (feature columns of an ``(N, D)`` output, channels of ``(N, C, ...)``) whose output is never
    positive for any example of the batch (for ReLU: exactly zero), 0 outside the ReLU family.
    Gradient fields are ``None`` until a backward pass reaches this layer's output.
    """

    name: str
    type: str
    index: int
    calls: int = 0
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    nonfinite: int = 0
    hist_counts: list[int] = field(default_factory=list)
    hist_edges: list[float] = field(default_factory=list)
    pct_saturated: float | None = None
    pct_dead: float | None = None
    grad_mean: float | None = None
    grad_std: float | None = None
    grad_hist_counts: list[int] | None = None
    grad_hist_edges: list[float] | None = None
    mean_history: list[float] = field(default_factory=list)
    std_history: list[float] = field(default_factory=list)
    grad_std_history: list[float] = field(default_factory=list)


def _first_tensor(output: Any) -> Tensor | None:
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)):
        return next((o for o in output if isinstance(o, Tensor)), None)
    return None


class ActivationStats:
    r"""Record per-layer activation and gradient statistics of ``model`` while it runs.

    Hooks are registered on construction and removed by :meth:`remove` or on leaving a ``with``
    block. A forward hook summarises each selected module's output at once and keeps only numbers
    (no tensor survives the call). For gradients it registers a hook on that output tensor, which
    fires during ``backward()`` with :math:`\partial L / \partial y`. Tensor hooks, unlike
    ``register_full_backward_hook``, work when a following activation is in place
    (``nn.ReLU(inplace=True)``: the hook sees the gradient of the value before the in-place
    change) and are simply not registered under ``torch.no_grad()``, where the gradient fields
    stay ``None``.

    Which modules are hooked (``modules=``): see :func:`select_modules`. A model that applies its
    activation functionally (``torch.tanh(self.fc1(x))``) has no activation modules, so ``"auto"``
    falls back to its Linear/Conv layers, whose outputs are *pre*-activations (``pct_saturated``
    and ``pct_dead`` are 0 there). A module called several times per forward (one ``self.act``
    reused after every layer) has one record holding its last call; every call is appended to
    the histories.

    Args:
        model: any ``nn.Module``.
        modules: ``"auto"``, ``"linear"``, ``"leaves"`` or a list of submodules / names.
        bins: histogram bins (>= 1).
        range: ``None`` (each layer's own min/max) or a fixed ``(lo, hi)`` for every layer's
            activation histogram, e.g. ``(-1, 1)`` for tanh. Gradient histograms use their own
            range.
        saturation: threshold :math:`s` in (0, 1) for ``pct_saturated``.

    See the book: Weight initialization.
    """

    def __init__(self, model: nn.Module, modules: ModuleSelection = "auto", bins: int = 50,
                 range: tuple[float, float] | None = None, saturation: float = 0.99) -> None:
        check_module("model", model)
        check_int("bins", bins, min=1)
        if range is not None:
            range = check_interval("range", range)
        check_real("saturation", saturation, min=0, max=1, min_open=True, max_open=True)
        self.bins, self.range, self.saturation = bins, range, float(saturation)
        self._kinds: list[Kind | None] = []
        self.layers: list[LayerStats] = []
        self._handles: list[Any] = []
        self._active = True
        for index, (name, module) in enumerate(select_modules(model, modules)):
            self.layers.append(LayerStats(name=name, type=type(module).__name__, index=index))
            self._kinds.append(_kind(module))
            hook = functools.partial(self._forward_hook, index)
            self._handles.append(module.register_forward_hook(hook))

    def _forward_hook(self, index: int, module: nn.Module, args: Any, output: Any) -> None:
        out = _first_tensor(output)
        if not self._active or out is None:
            return
        rec, kind, y = self.layers[index], self._kinds[index], out.detach()
        rec.calls += 1
        rec.mean, rec.std = _moments(y)
        rec.nonfinite = int(y.numel() - torch.isfinite(y).sum().item())
        rec.min = y.min().item() if y.numel() else None
        rec.max = y.max().item() if y.numel() else None
        rec.hist_counts, rec.hist_edges = _histogram(y, self.bins, self.range)
        rec.pct_saturated = _pct_saturated(y, kind, self.saturation)
        rec.pct_dead = _pct_dead(y) if kind == "relu" else 0.0
        rec.mean_history.append(rec.mean)
        rec.std_history.append(rec.std)
        rec.grad_mean = rec.grad_std = rec.grad_hist_counts = rec.grad_hist_edges = None
        if torch.is_grad_enabled() and out.requires_grad:
            out.register_hook(functools.partial(self._grad_hook, index, rec.calls))

    def _grad_hook(self, index: int, call: int, grad: Tensor) -> None:
        rec = self.layers[index]
        if not self._active or call != rec.calls:  # a stale graph or an earlier call of the module
            return
        rec.grad_mean, rec.grad_std = _moments(grad)
        rec.grad_hist_counts, rec.grad_hist_edges = _histogram(grad, self.bins, None)
        rec.grad_std_history.append(rec.grad_std)

    def remove(self) -> None:
        """Remove every hook; the recorded statistics stay readable."""
        self._active = False
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> "ActivationStats":
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __len__(self) -> int:
        return len(self.layers)

    def to_rows(self) -> list[dict[str, Any]]:
        """One plain ``dict`` per layer (every :class:`LayerStats` field, lists copied)."""
        return [dataclasses.asdict(rec) for rec in self.layers]

    def table(self, precision: int = 3) -> str:
        """A fixed-width text table: layer, name, type, mean, std, %sat, %dead, grad std.

        Numbers use ``precision`` significant digits (``format(v, ".3g")``), percentages one
        decimal; ``-`` marks a value not recorded (no forward yet, or no backward).
        """
        def num(v: float | None) -> str:
            return "-" if v is None else format(v, f".{precision}g")

        def pct(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        header = ["layer", "name", "type", "mean", "std", "%sat", "%dead", "grad std"]
        rows = [[str(r.index), r.name, r.type, num(r.mean), num(r.std), pct(r.pct_saturated),
                 pct(r.pct_dead), num(r.grad_std)] for r in self.layers]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = []
        for row in [header, *rows]:
            cells = [c.ljust(w) if i in (1, 2) else c.rjust(w)
                     for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ActivationStats({len(self.layers)} layers, active={self._active})"

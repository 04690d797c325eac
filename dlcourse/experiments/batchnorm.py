r"""The experiments of the Batch normalization chapter, as small tested functions.

* the normalization variants of one (N, C, H, W) tensor, batch, layer, instance and group norm:
  :func:`normalize`, :data:`NORM_AXES`;
* parameter counts as Keras prints them (trainable and non-trainable): :func:`param_counts`;
* networks with batch norm before or after the nonlinearity, or none: :func:`bn_mlp`;
* training on the digits and its outcome: :func:`train_run`, :class:`RunResult`, :func:`sweep`;
* operation counts of a network before and after folding: :func:`count_ops`, :func:`fuse_mlp`;
* the forgotten ``eval()``: :func:`eval_mode_accuracies`;
* summaries of a sweep: :func:`median_of`, :func:`sweep_table`, :func:`plot_sweep`.

Training runs in float64 on the CPU, so a result does not hinge on the CPU's float32 kernels.

See the book: Batch normalization.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from dlcourse.nn.batchnorm import BatchNorm1d, BatchNorm2d
from dlcourse.nn.fuse import fuse
from dlcourse.runtime import generator, num_threads
from dlcourse.train import fit
from dlcourse.viz import label_axes

__all__ = [
    "NORM_AXES",
    "Placement",
    "RunResult",
    "bn_mlp",
    "count_ops",
    "eval_mode_accuracies",
    "fuse_mlp",
    "median_of",
    "normalize",
    "param_counts",
    "plot_sweep",
    "sweep",
    "sweep_table",
    "train_run",
]

Placement = Literal["none", "before", "after"]

#: The dimensions of an (N, C, H, W) tensor that each normalization averages over; group norm
#: works on the (N, G, C/G, H, W) view, per group of channels.
NORM_AXES: dict[str, tuple[int, ...]] = {
    "batch": (0, 2, 3),
    "layer": (1, 2, 3),
    "instance": (2, 3),
    "group": (2, 3, 4),
}


def normalize(x: Tensor, kind: str, groups: int = 2, eps: float = 1e-5) -> Tensor:
    """Standardize an (N, C, H, W) tensor over :data:`NORM_AXES` ``[kind]`` (no gamma, beta).

    Group norm reshapes to (N, G, C/G, H, W) and standardizes each group.
    """
    if kind not in NORM_AXES:
        raise ValueError(f"kind must be one of {sorted(NORM_AXES)}, got {kind!r}")
    n, c, h, w = x.shape
    y = x.reshape(n, groups, c // groups, h, w) if kind == "group" else x
    dims = NORM_AXES[kind]
    mean = y.mean(dim=dims, keepdim=True)
    var = y.var(dim=dims, unbiased=False, keepdim=True)
    return ((y - mean) / torch.sqrt(var + eps)).reshape(n, c, h, w)


def param_counts(model: nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) numbers, as Keras counts them.

    Non-trainable are the running means and variances (PyTorch keeps them as buffers, besides the
    integer ``num_batches_tracked``, which Keras does not have).
    """
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    buffers = sum(
        b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")
    )
    return trainable, buffers


def bn_mlp(
    sizes: Sequence[int],
    placement: Placement = "before",
    activation: str = "relu",
    weight_scale: float = 1.0,
    seed: int = 0,
) -> nn.Sequential:
    """A float64 MLP with Kaiming-normal weights times ``weight_scale`` and batch norm placed.

    ``"before"``: Linear -> BN -> activation (the lectures' advice); ``"after"``: Linear ->
    activation -> BN (what the Keras example of the third lecture builds); ``"none"``: no BN.
    The last layer has neither BN nor activation.
    """
    gen = generator(seed)
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[activation]
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.normal_(0.0, weight_scale * math.sqrt(2.0 / n_in), generator=gen)
            linear.bias.zero_()
        layers.append(linear)
        if i == len(sizes) - 2:
            break
        block = [BatchNorm1d(n_out, dtype=torch.float64), act()]
        layers += {"before": block, "after": block[::-1], "none": block[1:]}[placement]
    return nn.Sequential(*layers)


@dataclass
class RunResult:
    """One training run: the last epoch's training loss, test accuracy, and whether it diverged."""

    train_loss: float
    test_acc: float

    @property
    def diverged(self) -> bool:
        """The loss became nan or inf, or ended above the loss of guessing (ln 10 = 2.30)."""
        return not math.isfinite(self.train_loss) or self.train_loss > math.log(10)


def train_run(
    model: nn.Module,
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    lr: float,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    drop_last: bool = True,
) -> RunResult:
    """Train ``model`` (float64) with plain SGD and return the :class:`RunResult`.

    With ``drop_last`` the training set is cut to a multiple of ``batch_size`` (1,344 of the
    1,347 digits for 64), so no epoch ends with a tiny batch, whose statistics are mostly noise.
    """
    keep = len(train[1]) - len(train[1]) % batch_size if drop_last else len(train[1])
    X, y = train[0][:keep].double(), train[1][:keep]
    with num_threads(1):  # small nets train fastest, and most reproducibly, on one thread
        history = fit(model, (X, y), epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)
        model.eval()
        with torch.no_grad():
            pred = model(test[0].double()).argmax(dim=1)
    acc = (pred == test[1]).double().mean().item()
    return RunResult(history.loss[-1], acc)


def sweep(
    sizes: Sequence[int],
    train: tuple[Tensor, Tensor],
    test: tuple[Tensor, Tensor],
    placements: Iterable[Placement],
    lrs: Iterable[float] = (0.1,),
    weight_scales: Iterable[float] = (1.0,),
    seeds: Iterable[int] = (0, 1, 2),
    activation: str = "relu",
    epochs: int = 10,
    drop_last: bool = True,
) -> dict[tuple, list[RunResult]]:
    """Train every (placement, lr, weight_scale) over ``seeds``; results keyed by that triple."""
    results: dict[tuple, list[RunResult]] = {}
    for placement in placements:
        for lr in lrs:
            for scale in weight_scales:
                results[placement, lr, scale] = [
                    train_run(
                        bn_mlp(sizes, placement, activation, scale, seed=s),
                        train,
                        test,
                        lr=lr,
                        epochs=epochs,
                        seed=s,
                        drop_last=drop_last,
                    )
                    for s in seeds
                ]
    return results


def count_ops(model: nn.Module) -> dict[str, int]:
    """Multiply-adds per example of the Linear layers, and the elementwise ops of eval-mode BN.

    Eval-mode batch norm costs 4 operations per feature (subtract the mean, divide by the
    standard deviation, multiply by gamma, add beta), or 2 once precomputed as ``s x + t``.
    """
    linear = sum(
        m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear)
    )
    norm = sum(
        4 * m.num_features
        for m in model.modules()
        if isinstance(m, (BatchNorm1d, BatchNorm2d, nn.BatchNorm1d, nn.BatchNorm2d))
    )
    return {
        "linear multiply-adds": linear,
        "batch-norm ops": norm,
        "layers": len(list(model.children())),
    }


def fuse_mlp(model: nn.Sequential) -> nn.Sequential:
    """Fold every eval-mode BN that follows a Linear into it (Linear -> BN -> act only)."""
    layers = list(model)
    out: list[nn.Module] = []
    for layer in layers:
        if isinstance(layer, (BatchNorm1d, nn.BatchNorm1d)) and isinstance(out[-1], nn.Linear):
            out[-1] = fuse(out[-1], layer)
        else:
            out.append(layer)
    return nn.Sequential(*out)


def eval_mode_accuracies(
    model: nn.Module, X: Tensor, y: Tensor, batch_size: int = 10
) -> dict[str, float]:
    """Test accuracy evaluated correctly and with the classic bug of forgetting ``eval()``.

    ``"eval()"``: running statistics. ``"train mode, whole test set"``: one batch of every test
    image. ``"train mode, batches of k"``: shuffled batches of ``batch_size``. ``"train mode,
    one class per batch"``: the test set sorted by label (as a loader without shuffling over a
    sorted folder delivers it), batches of ``batch_size``. The model is left in eval mode.
    """
    X = X.double()
    order = torch.randperm(len(y), generator=generator(0))
    by_class = torch.argsort(y, stable=True)

    def accuracy(train: bool, index: Tensor, size: int) -> float:
        model.train(train)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        with torch.no_grad():
            pred = torch.cat(
                [model(X[index[i : i + size]]).argmax(1) for i in range(0, len(index), size)]
            )
        model.load_state_dict(state)  # train mode updated the running statistics: undo it
        return (pred == y[index]).double().mean().item()

    result = {
        "eval()": accuracy(False, order, len(y)),
        "train mode, whole test set": accuracy(True, order, len(y)),
        f"train mode, batches of {batch_size}": accuracy(True, order, batch_size),
        f"train mode, one class per batch of {batch_size}": accuracy(True, by_class, batch_size),
    }
    model.eval()
    return result


def median_of(runs: Sequence[RunResult], what: Literal["train_loss", "test_acc"]) -> float:
    """The median over seeds of ``what``; a diverged run counts as loss inf and accuracy 0."""
    values = [
        (math.inf if r.diverged else r.train_loss)
        if what == "train_loss"
        else (0.0 if r.diverged else r.test_acc)
        for r in runs
    ]
    return statistics.median(values)


def sweep_table(results: dict[tuple, list[RunResult]], key: int) -> str:
    """One line per result: the swept value (``key``: 1 lr, 2 weight scale) and seed medians.

    A median loss of diverged runs prints as ``diverged`` (and its accuracy as a dash);
    accuracies in percent, one decimal.
    """
    lines = []
    for k, runs in results.items():
        loss = median_of(runs, "train_loss")
        shown = "diverged" if math.isinf(loss) else f"{loss:.2f}"
        acc = "—" if math.isinf(loss) else f"{100 * median_of(runs, 'test_acc'):.1f} %"
        lines.append(
            f"{k[0]:>6}  {k[key]:>5g}  train loss {shown:>8}  test accuracy "
            f"{acc:>6}  "
            f"({sum(r.diverged for r in runs)}/{len(runs)} diverged)"
        )
    return "\n".join(lines)


def plot_sweep(
    results: dict[tuple, list[RunResult]], key: int, xlabel: str, title: str | None = None
) -> Figure:
    """Median test accuracy against the swept value, one line per placement (log x axis)."""
    from dlcourse.viz import _new_figure

    fig = _new_figure(6.4, 3.6, layout="constrained")
    ax = fig.subplots()
    for placement in dict.fromkeys(k[0] for k in results):
        keys = [k for k in results if k[0] == placement]
        ax.plot(
            [k[key] for k in keys],
            [100 * median_of(results[k], "test_acc") for k in keys],
            marker="o",
            label=f"batch norm: {placement}",
        )
    ax.set_xscale("log")
    label_axes(ax, xlabel, "median test accuracy (%)", title)
    return fig

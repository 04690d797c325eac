"""The chapter *Data augmentation*'s demos: a photo distorted, small digit sets trained with it.

The lectures claim that flips, rotations, colour shifts and scaling make new training examples
("the cats are still the cats"), that this reduces overfitting, and that a CNN needs no
translations because it is translation invariant. The helpers here measure each claim on the
8×8 digits: a training set of 10 images per class, a model trained with and without an
augmentation over several seeds, in float64 so that the stored accuracies are the same on any CPU.

See the book: Data augmentation.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib.figure
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dlcourse._validate import check_choice, check_int
from dlcourse.augment import functional as AF
from dlcourse.data import load_digits
from dlcourse.nn import mlp, small_cnn
from dlcourse.runtime import generator, num_threads
from dlcourse.train import evaluate, fit

__all__ = [
    "AugmentedBatches",
    "DigitRun",
    "conv_shift_error",
    "digits01",
    "label_kept",
    "load_photo",
    "make_net",
    "plot_grid",
    "prediction_changes",
    "run_table",
    "small_subset",
    "train_digits",
]

Kind = Literal["mlp", "cnn"]
Augment = Callable[..., Tensor]


def load_photo(step: int = 2) -> Tensor:
    """The cat photo shipped with scikit-image (``skimage.data.chelsea``), ``(3, H, W)`` in [0, 1].

    The photo is CC0 (Stefan van der Walt) and ships inside the scikit-image wheel: nothing is
    downloaded. ``step`` > 1 shrinks it by averaging ``step × step`` blocks (300 × 451 → 150 × 225).
    """
    from skimage.data import chelsea

    img = torch.as_tensor(chelsea().copy()).permute(2, 0, 1).float() / 255  # (3, 300, 451)
    step = check_int("step", step, min=1)
    return F.avg_pool2d(img[None], step)[0] if step > 1 else img


def plot_grid(
    images: Tensor, ncols: int = 4, titles: Sequence[str] | None = None, size: float = 2.2
) -> matplotlib.figure.Figure:
    """Show ``images`` ``(N, C, H, W)`` (C = 1 or 3, values in [0, 1]) in a grid of ``ncols``."""
    from dlcourse.viz import _new_figure

    n = len(images)
    nrows = -(-n // ncols)
    h, w = images.shape[-2:]
    fig = _new_figure(size * ncols * w / h, size * nrows)
    for i in range(n):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        img = images[i].detach().cpu().clamp(0, 1)
        if img.shape[0] == 1:
            ax.imshow(img[0].numpy(), cmap="gray_r", vmin=0, vmax=1)
        else:
            ax.imshow(img.permute(1, 2, 0).numpy())
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig


def digits01() -> dict[str, Tensor]:
    """The digits split (1,347 train, 450 test) as float64 images ``(N, 1, 8, 8)`` in [0, 1]."""
    split = load_digits(standardize=False, flatten=False)
    return {
        "X_train": split.X_train.double() / 16,
        "y_train": split.y_train,
        "X_test": split.X_test.double() / 16,
        "y_test": split.y_test,
    }


def small_subset(X: Tensor, y: Tensor, per_class: int, seed: int) -> tuple[Tensor, Tensor]:
    """``per_class`` random images of each of the 10 classes (a balanced small training set)."""
    g = generator(seed)
    picks = []
    for c in range(10):
        idx = torch.nonzero(y == c).flatten()
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    idx = torch.cat(picks)
    return X[idx], y[idx]


class AugmentedBatches:
    """Shuffled minibatches of ``(X, y)``, each augmented afresh: every epoch sees new versions.

    One generator, seeded once, draws the order and the augmentations, so a run is repeatable.
    """

    def __init__(
        self, X: Tensor, y: Tensor, transform: Augment | None, batch_size: int = 20, seed: int = 0
    ) -> None:
        self.X, self.y, self.transform, self.batch_size = X, y, transform, batch_size
        self.generator = generator(seed)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = torch.randperm(len(self.X), generator=self.generator)
        for start in range(0, len(self.X), self.batch_size):
            idx = order[start : start + self.batch_size]
            X = self.X[idx]
            if self.transform is not None:
                X = self.transform(X, generator=self.generator)
            yield X, self.y[idx]


def make_net(kind: Kind, seed: int) -> nn.Module:
    """A float64 MLP (64 → 128 → 128 → 10, ReLU) or the small CNN (16, 32 channels), 8×8 input."""
    check_choice("kind", kind, ("mlp", "cnn"))
    g = generator(seed)
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), mlp(64, 10, width=128, depth=2, generator=g)).double()
    return small_cnn(generator=g).double()


@dataclass
class DigitRun:
    """One training run: the kind of model, the augmentation's name, the seed, accuracies, model."""

    kind: str
    augment: str
    seed: int
    train_acc: float
    test_acc: float
    net: nn.Module

    @property
    def gap(self) -> float:
        """The training accuracy minus the test accuracy, a measure of overfitting."""
        return self.train_acc - self.test_acc


def train_digits(
    kind: Kind,
    transform: Augment | None,
    data: Mapping[str, Tensor],
    seed: int,
    per_class: int = 10,
    epochs: int = 60,
    name: str = "",
    batch_size: int = 20,
) -> DigitRun:
    """Train on ``per_class`` digits per class (Adam, lr 3e-3, minibatches), with ``transform``.

    Accuracies are measured on the clean training images and on the 450 test images. The run
    uses one thread: these small float64 models train faster on one than on two.
    """
    X, y = small_subset(data["X_train"], data["y_train"], per_class, seed)
    net = make_net(kind, seed)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    with num_threads(1):
        fit(
            net,
            AugmentedBatches(X, y, transform, batch_size, seed),
            optimizer=opt,
            epochs=epochs,
            seed=seed,
        )
    _, train_acc = evaluate(net, X, y)
    _, test_acc = evaluate(net, data["X_test"], data["y_test"])
    return DigitRun(kind, name, seed, train_acc, test_acc, net)


def run_table(runs: Sequence[DigitRun], baseline: str = "none") -> list[dict[str, Any]]:
    """Median train/test accuracy (%) and gap per (model, augmentation); seeds beating baseline."""
    groups: dict[tuple[str, str], list[DigitRun]] = {}
    for r in runs:
        groups.setdefault((r.kind, r.augment), []).append(r)
    rows = []
    for (kind, aug), group in groups.items():
        base = {r.seed: r.test_acc for r in groups.get((kind, baseline), [])}
        better = sum(r.test_acc > base[r.seed] for r in group if r.seed in base)
        above = "—" if aug == baseline else f"{better} of {len(group)}"
        rows.append(
            {
                "model": kind,
                "augmentation": aug,
                "train %": 100 * statistics.median(r.train_acc for r in group),
                "test %": 100 * statistics.median(r.test_acc for r in group),
                "gap %": 100 * statistics.median(r.gap for r in group),
                f"seeds above {baseline}": above,
            }
        )
    return rows


@torch.no_grad()
def label_kept(
    net: nn.Module, X: Tensor, y: Tensor, distortions: Mapping[str, Callable[[Tensor], Tensor]]
) -> dict[str, float]:
    """Accuracy (%) of a trained ``net`` on ``X`` under each distortion: does the label survive?"""
    net.eval()
    return {
        name: 100 * (net(f(X)).argmax(1) == y).double().mean().item()
        for name, f in distortions.items()
    }


@torch.no_grad()
def prediction_changes(net: nn.Module, X: Tensor, dx: int, dy: int) -> float:
    """The % of images whose predicted class changes when shifted by ``(dx, dy)`` whole pixels."""
    net.eval()
    before = net(X).argmax(1)
    after = net(AF.affine(X, translate=(float(dx), float(dy)))).argmax(1)
    return 100 * (before != after).double().mean().item()


def conv_shift_error(seed: int = 0, size: int = 8) -> dict[str, float]:
    """How far a conv layer, and a conv → pool → linear net, are from commuting with a shift.

    A 3×3 convolution with circular padding commutes exactly with a circular shift (translation
    *equivariance*: shift the input, the feature map shifts). Max pooling of stride 2 and the final
    linear layer break it, so the whole net is not *invariant*. Returns the largest absolute
    difference for the conv layer and for the net's logits, in float64.
    """
    g = generator(seed)
    x = torch.rand(4, 1, size, size, generator=g, dtype=torch.float64)
    conv = nn.Conv2d(1, 8, 3, padding=1, padding_mode="circular").double()
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g, dtype=torch.float64))
        shifted = torch.roll(x, 1, dims=-1)
        conv_err = (conv(shifted) - torch.roll(conv(x), 1, dims=-1)).abs().max().item()
        net = nn.Sequential(
            conv,
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * (size // 2) ** 2, 10).double(),
        )
        net_err = (net(shifted) - net(x)).abs().max().item()
    return {"conv layer": conv_err, "conv-pool-linear net": net_err}

r"""Random augmentations with torchvision's names, seeded by a :class:`torch.Generator`.

Each transform draws its parameters *per image* on the CPU from the ``generator`` it is called with
(``aug(images, generator=g)``), so the same seed gives the same batch on any device, and two images
of one batch get independent draws. :class:`Compose` passes the one generator down the chain.
Inputs are floats of shape ``(N, C, H, W)`` or ``(C, H, W)``, in :math:`[0, 1]` for the colour
transforms. Written with torch alone: torchvision is not a dependency.

See the book: Data augmentation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from dlcourse._validate import (
    check_callable,
    check_generator,
    check_interval,
    check_real,
)
from dlcourse.augment import functional as AF

__all__ = [
    "ColorJitter",
    "Compose",
    "RandomAffine",
    "RandomHorizontalFlip",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Transform",
]


def _uniform(n: int, lo: float, hi: float, generator: torch.Generator | None) -> Tensor:
    """``n`` draws from :math:`U(lo, hi)` on the CPU (float64)."""
    return lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)


def _symmetric(
    name: str, value: float | tuple[float, float], low: float | None = None
) -> tuple[float, float]:
    """A number ``d`` becomes ``(-d, d)`` (or ``(1 - d, 1 + d)`` around ``low``); a pair stays."""
    if isinstance(value, (tuple, list)):
        return check_interval(name, value) if value[0] != value[1] else (float(value[0]),) * 2
    d = check_real(name, value, min=0)
    return (-d, d) if low is None else (max(low, 1 - d), 1 + d)


class Transform:
    """A random augmentation: ``transform(img, generator=None)`` returns a new tensor.

    Subclasses implement :meth:`apply`, which receives a batch ``(N, C, H, W)``; the base class
    turns a single ``(C, H, W)`` image into a batch of one and back, and checks the generator.
    """

    def __call__(self, img: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Augment ``img`` (N, C, H, W) or (C, H, W); each image gets its own draw."""
        check_generator("generator", generator)
        batch, single = AF.as_batch(img)
        out = self.apply(batch, generator)
        return out[0] if single else out

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W) with parameters drawn from ``generator``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` in order, each drawing from the same generator.

    See the book: Data augmentation.
    """

    def __init__(self, transforms: Sequence[Callable[..., Tensor]]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            check_callable("each of transforms", t, "a transform such as RandomRotation(15)")

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W), drawing from ``generator``."""
        for t in self.transforms:
            batch = t(batch, generator=generator)
        return batch


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``, independently.

    See the book: Data augmentation.
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = check_real("p", p, min=0, max=1)

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W), drawing from ``generator``."""
        flip = (torch.rand(len(batch), generator=generator) < self.p).to(batch.device)
        return torch.where(flip[:, None, None, None], batch.flip(-1), batch)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image top-bottom with probability ``p``, independently.

    See the book: Data augmentation.
    """

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W), drawing from ``generator``."""
        flip = (torch.rand(len(batch), generator=generator) < self.p).to(batch.device)
        return torch.where(flip[:, None, None, None], batch.flip(-2), batch)


class RandomAffine(Transform):
    r"""Rotate, shift and scale each image by its own random amounts (:func:`~.functional.affine`).

    Args:
        degrees: the angle is drawn from :math:`U(-d, d)`, or from ``(lo, hi)`` given a pair.
        translate: ``(a, b)``: shifts up to ``a·W`` pixels sideways and ``b·H`` up or down, rounded
            to whole pixels as torchvision does (so a pure shift moves whole pixels, up to
            rounding);
            ``None`` for none.
        scale: ``(lo, hi)``: the zoom factor is drawn from :math:`U(lo, hi)`; ``None`` keeps 1.
        padding_mode: ``"zeros"``, ``"border"`` or ``"reflection"`` for pixels from outside.

    See the book: Data augmentation.
    """

    def __init__(
        self,
        degrees: float | tuple[float, float] = 0.0,
        translate: tuple[float, float] | None = None,
        scale: tuple[float, float] | None = None,
        padding_mode: AF.PaddingMode = "zeros",
    ) -> None:
        self.degrees = _symmetric("degrees", degrees)
        if translate is not None:
            translate = (
                check_real("translate[0]", translate[0], min=0, max=1),
                check_real("translate[1]", translate[1], min=0, max=1),
            )
        self.translate = translate
        if scale is not None:
            scale = check_interval("scale", scale)
            if scale[0] <= 0:
                raise ValueError(f"scale must be (lo, hi) with 0 < lo, got {scale!r}")
        self.scale = scale
        self.padding_mode = padding_mode

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W), drawing from ``generator``."""
        n, _, h, w = batch.shape
        angle = _uniform(n, *self.degrees, generator)
        tx = ty = torch.zeros(n, dtype=torch.float64)
        if self.translate is not None:
            tx = torch.round(_uniform(n, -1, 1, generator) * self.translate[0] * w)
            ty = torch.round(_uniform(n, -1, 1, generator) * self.translate[1] * h)
        s = (
            torch.ones(n, dtype=torch.float64)
            if self.scale is None
            else _uniform(n, *self.scale, generator)
        )
        return AF.affine(batch, angle, (tx, ty), s, self.padding_mode)


class RandomRotation(RandomAffine):
    """Rotate each image by an angle from :math:`U(-d, d)` degrees (or from a pair ``(lo, hi)``).

    See the book: Data augmentation.
    """

    def __init__(
        self, degrees: float | tuple[float, float], padding_mode: AF.PaddingMode = "zeros"
    ) -> None:
        super().__init__(degrees=degrees, padding_mode=padding_mode)


class ColorJitter(Transform):
    r"""Random brightness, contrast and per-channel colour shift, each image its own draw.

    Brightness multiplies by :math:`b \sim U(1 - \beta, 1 + \beta)`, contrast blends with the
    mean grey level by :math:`c \sim U(1 - \gamma, 1 + \gamma)`
    (:func:`~.functional.adjust_contrast`), and ``shift`` adds :math:`U(-\delta, \delta)` to each
    channel separately, which tints the image (a crude hue change; torchvision's ``hue`` rotates
    the hue in HSV instead). Values are clamped to :math:`[0, 1]` after each step.

    Args:
        brightness: :math:`\beta \ge 0`.
        contrast: :math:`\gamma \ge 0`.
        shift: :math:`\delta \ge 0`, the largest offset of a channel.

    See the book: Data augmentation.
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0, shift: float = 0.0) -> None:
        self.brightness = _symmetric("brightness", brightness, low=0.0)
        self.contrast = _symmetric("contrast", contrast, low=0.0)
        self.shift = check_real("shift", shift, min=0, max=1)

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W), drawing from ``generator``."""
        n, c = batch.shape[:2]
        out = AF.adjust_brightness(batch, _uniform(n, *self.brightness, generator))
        out = AF.adjust_contrast(out, _uniform(n, *self.contrast, generator))
        if self.shift > 0:
            offsets = _uniform(n * c, -self.shift, self.shift, generator).reshape(n, c)
            out = AF.shift_channels(out, offsets)
        return out


class RandomResizedCrop(Transform):
    r"""Crop a random box of each image and resize it back: scale and aspect augmentation.

    The box covers a fraction :math:`a \sim U(\text{scale})` of the image's area with aspect ratio
    :math:`r` (width/height), :math:`\log r \sim U(\log \text{ratio})`, so its width is
    :math:`\sqrt{a r}\,W'` and its height :math:`\sqrt{a / r}\,H'` with :math:`\sqrt{HW}` for
    :math:`W', H'`; a box side longer than the image is cut to it (torchvision redraws instead),
    and the box's corner is uniform over the positions that keep it inside.

    Args:
        size: output ``(H, W)`` or an int; ``None`` keeps each image's size.
        scale: the range of the area fraction, within ``(0, 1]``.
        ratio: the range of the aspect ratio.

    See the book: Data augmentation.
    """

    def __init__(
        self,
        size: int | tuple[int, int] | None = None,
        scale: tuple[float, float] = (0.08, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
    ) -> None:
        self.size = size
        self.scale = check_interval("scale", scale)
        if not (0 < self.scale[0] and self.scale[1] <= 1):
            raise ValueError(f"scale must lie within (0, 1], got {scale!r}")
        self.ratio = check_interval("ratio", ratio)
        if self.ratio[0] <= 0:
            raise ValueError(f"ratio must be (lo, hi) with 0 < lo, got {ratio!r}")

    def apply(self, batch: Tensor, generator: torch.Generator | None) -> Tensor:
        """Augment ``batch`` (N, C, H, W), drawing from ``generator``."""
        n, _, h, w = batch.shape
        area = _uniform(n, *self.scale, generator) * h * w
        r = torch.exp(_uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), generator))
        bw = torch.sqrt(area * r).clamp(max=w)
        bh = torch.sqrt(area / r).clamp(max=h)
        top = _uniform(n, 0, 1, generator) * (h - bh)
        left = _uniform(n, 0, 1, generator) * (w - bw)
        return AF.resized_crop(batch, top, left, bh, bw, self.size)

r"""Deterministic image distortions on ``(N, C, H, W)`` or ``(C, H, W)`` float tensors.

Each function applies *given* parameters, one per image of a batch (a number for all of them, or a
tensor of shape ``(N,)``); the random draws live in :mod:`dlcourse.augment.transforms`. Geometric
distortions are one inverse map per image, sampled with :func:`torch.nn.functional.grid_sample`:
an output pixel at centred pixel coordinates :math:`q` takes the input's value at

.. math::

    p = \frac{1}{s} R_{-\alpha}\,(q - t),

for a rotation by :math:`\alpha` (counter-clockwise on screen), a scale :math:`s` and a translation
:math:`t` (pixels, right and down); pixels that come from outside the image are 0. Colour changes
assume values in :math:`[0, 1]` and clamp to it, as torchvision does for float images.

See the book: Data augmentation.
"""

from __future__ import annotations

from typing import Literal, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from dlcourse._validate import check_choice, check_int, check_real, check_tensor

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "affine",
    "hflip",
    "resized_crop",
    "rotate",
    "shift_channels",
    "vflip",
]

Param = Union[float, Tensor]
PaddingMode = Literal["zeros", "border", "reflection"]
GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # ITU-R 601 luma, as torchvision's rgb_to_grayscale


def as_batch(img: object, name: str = "img") -> tuple[Tensor, bool]:
    """``(batch, was_single)``: a ``(C, H, W)`` image becomes a batch of one.

    Raises:
        TypeError: ``img`` is not a floating-point tensor.
        ValueError: it has neither 3 nor 4 dimensions.
    """
    img = check_tensor(name, img, floating=True)
    if img.dim() not in (3, 4):
        raise ValueError(
            f"{name} must have shape (N, C, H, W) or (C, H, W), got "
            f"{tuple(img.shape)}: add a channel axis with {name}.unsqueeze(-3)"
        )
    return (img.unsqueeze(0), True) if img.dim() == 3 else (img, False)


def per_image(name: str, value: Param, n: int, like: Tensor) -> Tensor:
    """``value`` as a tensor of shape ``(n,)`` with ``like``'s dtype and device."""
    if isinstance(value, Tensor):
        if value.shape not in ((), (n,)):
            raise ValueError(
                f"{name} must be a number or a tensor of shape ({n},), one per "
                f"image, got shape {tuple(value.shape)}"
            )
        return value.to(like.device, like.dtype).expand(n)
    return torch.full((n,), check_real(name, value), dtype=like.dtype, device=like.device)


def hflip(img: Tensor) -> Tensor:
    """Mirror left and right: reverse the width axis (the last one).

    See the book: Data augmentation.
    """
    return as_batch(img)[0].flip(-1).reshape(img.shape)


def vflip(img: Tensor) -> Tensor:
    """Mirror top and bottom: reverse the height axis (the second last one).

    See the book: Data augmentation.
    """
    return as_batch(img)[0].flip(-2).reshape(img.shape)


def affine(
    img: Tensor,
    angle: Param = 0.0,
    translate: tuple[Param, Param] = (0.0, 0.0),
    scale: Param = 1.0,
    padding_mode: PaddingMode = "zeros",
) -> Tensor:
    r"""Rotate by ``angle`` degrees, scale by ``scale`` and shift by ``translate`` pixels.

    The map is :math:`p = s^{-1} R_{-\alpha}(q - t)` in centred pixel coordinates (module
    docstring), so a non-square image rotates without shearing; a rotation by 90° of a square
    image equals :func:`torch.rot90` and zero parameters give the input back.

    Args:
        img: ``(N, C, H, W)`` or ``(C, H, W)`` floats.
        angle: degrees, counter-clockwise; a number or one per image ``(N,)``.
        translate: ``(tx, ty)`` pixels, right and down; numbers or ``(N,)`` tensors.
        scale: zoom factor > 0 (``2`` enlarges the centre); a number or ``(N,)``.
        padding_mode: what pixels from outside the image take, as in ``grid_sample``.

    Returns:
        A tensor of ``img``'s shape and dtype.

    See the book: Data augmentation.
    """
    batch, _ = as_batch(img)
    check_choice("padding_mode", padding_mode, ("zeros", "border", "reflection"))
    n, _, h, w = batch.shape
    a = torch.deg2rad(per_image("angle", angle, n, batch))
    s = per_image("scale", scale, n, batch)
    if not bool((s > 0).all()):
        raise ValueError("scale must be > 0 for every image: 1 keeps the size")
    tx, ty = (
        per_image(k, v, n, batch) for k, v in zip(("translate[0]", "translate[1]"), translate)
    )
    cos, sin = torch.cos(a), torch.sin(a)
    # inverse rotation in pixel units, then to normalized units: D^-1 R(-a) D / s, D = diag(w, h)/2
    m = (
        torch.stack([torch.stack([cos, -sin * h / w], -1), torch.stack([sin * w / h, cos], -1)], -2)
        / s[:, None, None]
    )  # (N, 2, 2)
    shift = torch.stack([2 * tx / w, 2 * ty / h], -1)  # (N, 2), normalized units
    theta = torch.cat([m, -(m @ shift[:, :, None])], -1)  # (N, 2, 3)
    return _sample(batch, theta, (h, w), padding_mode).reshape(img.shape)


def rotate(img: Tensor, angle: Param, padding_mode: PaddingMode = "zeros") -> Tensor:
    """Rotate counter-clockwise by ``angle`` degrees about the centre (:func:`affine`).

    See the book: Data augmentation.
    """
    return affine(img, angle=angle, padding_mode=padding_mode)


def resized_crop(
    img: Tensor,
    top: Param,
    left: Param,
    height: Param,
    width: Param,
    size: int | tuple[int, int] | None = None,
) -> Tensor:
    """Cut the box ``(top, left, height, width)`` (pixels) and resize it to ``size``, bilinearly.

    Box edges need not be whole pixels; parts of the box outside the image are 0. Unlike
    torchvision, there is no antialiasing when the box shrinks.

    Args:
        img: ``(N, C, H, W)`` or ``(C, H, W)`` floats.
        top: the box's top edge; a number or one per image ``(N,)``; likewise the others.
        left: its left edge.
        height: its height, > 0.
        width: its width, > 0.
        size: the output's ``(H, W)`` (an int for a square); ``None`` keeps the input's.

    Returns:
        ``(N, C, *size)`` (or ``(C, *size)``), ``img``'s dtype.

    See the book: Data augmentation.
    """
    batch, single = as_batch(img)
    n, c, h, w = batch.shape
    out = (h, w) if size is None else ((size, size) if isinstance(size, int) else tuple(size))
    out = tuple(check_int("size", v, min=1) for v in out)
    t, lft, bh, bw = (
        per_image(k, v, n, batch)
        for k, v in zip(("top", "left", "height", "width"), (top, left, height, width))
    )
    if not bool(((bh > 0) & (bw > 0)).all()):
        raise ValueError("height and width of the box must be > 0 for every image")
    zero = torch.zeros_like(bh)
    theta = torch.stack(
        [
            torch.stack([bw / w, zero, (2 * lft + bw) / w - 1], -1),
            torch.stack([zero, bh / h, (2 * t + bh) / h - 1], -1),
        ],
        -2,
    )
    result = _sample(batch, theta, (out[0], out[1]), "zeros")
    return result[0] if single else result


def _sample(batch: Tensor, theta: Tensor, size: tuple[int, int], padding_mode: str) -> Tensor:
    """Bilinear ``grid_sample`` of ``batch`` (N, C, H, W) through ``theta`` (N, 2, 3)."""
    n, c = batch.shape[:2]
    grid = F.affine_grid(theta, [n, c, *size], align_corners=False)  # (N, H', W', 2)
    return F.grid_sample(
        batch, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False
    )


def adjust_brightness(img: Tensor, factor: Param) -> Tensor:
    r"""Scale every value by ``factor`` (one per image) and clamp to :math:`[0, 1]`.

    See the book: Data augmentation.
    """
    batch, _ = as_batch(img)
    f = per_image("factor", factor, batch.shape[0], batch)
    if not bool((f >= 0).all()):
        raise ValueError("factor must be >= 0: 0 gives a black image, 1 the original")
    return (batch * f[:, None, None, None]).clamp(0, 1).reshape(img.shape)


def adjust_contrast(img: Tensor, factor: Param) -> Tensor:
    r"""Blend each image with its mean grey level: :math:`f\,x + (1 - f)\,\bar g`, then clamp.

    :math:`\bar g` is the mean of the luma ``0.2989 R + 0.587 G + 0.114 B`` (of the channel itself
    for one-channel images), as in torchvision; ``factor`` 0 gives a flat grey image.

    See the book: Data augmentation.
    """
    batch, _ = as_batch(img)
    f = per_image("factor", factor, batch.shape[0], batch)[:, None, None, None]
    if not bool((f >= 0).all()):
        raise ValueError("factor must be >= 0: 0 gives a flat grey image, 1 the original")
    if batch.shape[1] == 3:
        weights = torch.tensor(GRAY_WEIGHTS, dtype=batch.dtype, device=batch.device)
        gray = (batch * weights[:, None, None]).sum(1, keepdim=True)
    else:
        gray = batch.mean(1, keepdim=True)
    mean = gray.mean((-3, -2, -1), keepdim=True)
    return (f * batch + (1 - f) * mean).clamp(0, 1).reshape(img.shape)


def shift_channels(img: Tensor, shift: Tensor) -> Tensor:
    """Add ``shift`` to each channel (a colour cast) and clamp to :math:`[0, 1]`.

    Args:
        img: ``(N, C, H, W)`` or ``(C, H, W)`` floats in [0, 1].
        shift: ``(C,)`` for every image or ``(N, C)``, one row per image; channel ``k`` of the
            image gets ``shift[..., k]`` (for RGB: red, green, blue).

    Returns:
        A tensor of ``img``'s shape.

    See the book: Data augmentation.
    """
    batch, _ = as_batch(img)
    n, c = batch.shape[:2]
    shift = check_tensor("shift", shift, floating=True)
    if shift.shape not in ((c,), (n, c)):
        raise ValueError(
            f"shift must have shape ({c},) or ({n}, {c}): one value per channel, "
            f"got {tuple(shift.shape)}"
        )
    shift = shift.to(batch.device, batch.dtype).expand(n, c)
    return (batch + shift[:, :, None, None]).clamp(0, 1).reshape(img.shape)

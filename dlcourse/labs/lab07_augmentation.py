"""Lab 7 — Data augmentation: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement, images ``(N, C, H, W)`` floats):

* q1 ``hflip(images)`` and ``vflip(images)``: mirror left-right and top-bottom;
* q2 ``random_hflip(images, p=0.5, generator=None)``: flip each image with probability ``p``,
  one draw per image from ``generator``;
* q3 ``rotate(images, degrees)``: rotate square images counter-clockwise about their centre
  (``affine_grid`` and ``grid_sample``), one angle for all or one per image;
* q4 ``color_shift(images, shift)``: add ``shift[n, c]`` to channel ``c`` of image ``n`` and keep
  the values in ``[0, 1]``.

Messages name the likely mistake (the wrong axis, one draw for the whole batch, clockwise,
radians, no clipping, the channel order), never the code. See the book: Data augmentation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlcourse.grading import Lab, expect, expect_array, seeded, tensor
from dlcourse.grading.expect import Failure

__all__ = [
    "LAB",
    "batch",
    "expect_color_shift",
    "expect_flip",
    "expect_random_flips",
    "expect_rotation",
    "flip_fraction",
    "reference_rotation",
]

LAB = Lab("lab07_augmentation", title="Data augmentation")
LAB.share(
    "q1", hflip="dlcourse.augment.functional:hflip", vflip="dlcourse.augment.functional:vflip"
)


def batch(n: int = 2, c: int = 3, h: int = 4, w: int = 5, seed: int = 0) -> np.ndarray:
    """A float32 batch of distinct values in [0, 1], so any rearrangement shows."""
    rng = np.random.default_rng(seed)
    return rng.permutation(n * c * h * w).reshape(n, c, h, w).astype(np.float32) / (n * c * h * w)


# ---------------------------------------------------------------- q1: flips

_AXES = {-1: "the width (left-right)", -2: "the height (top-bottom)", 1: "the channels",
         0: "the batch (the order of the images)"}  # fmt: skip


def expect_flip(student: Any, name: str, x: np.ndarray, axis: int) -> None:
    """``student.name(x)`` must reverse ``axis`` of ``x``; otherwise say which axis it reversed."""
    got = expect_array(student.call(name, tensor(x)), f"what {name} returned", x.shape)
    if np.array_equal(got, np.flip(x, axis)):
        return
    for other, what in _AXES.items():
        if other != axis and np.array_equal(got, np.flip(x, other)):
            raise Failure(
                f"{name} reversed {what} of a batch of shape {x.shape}; it should "
                f"reverse {_AXES[axis]}, axis {axis} of (N, C, H, W)"
            )
    raise Failure(
        f"{name} did not mirror the images: it should reverse {_AXES[axis]}, "
        f"axis {axis} of (N, C, H, W), and leave everything else as it is"
    )


@LAB.test("q1")
def hflip_mirrors_left_right(student):
    expect_flip(student, "hflip", batch(), -1)


@LAB.test("q1")
def vflip_mirrors_top_bottom(student):
    expect_flip(student, "vflip", batch(), -2)


# ---------------------------------------------------------------- q2: random flips


def flip_fraction(student: Any, n: int, p: float, seed: int) -> tuple[float, np.ndarray]:
    """Flip ``n`` copies of a left-right ramp; return the fraction flipped and which were."""
    ramp = np.tile(np.arange(4, dtype=np.float32) / 3, (n, 1, 1, 1))  # (n, 1, 1, 4)
    got = expect_array(
        student.call("random_hflip", tensor(ramp), p=p, generator=seeded(seed)),
        "what random_hflip returned",
        ramp.shape,
    )
    flipped = np.all(got == ramp[..., ::-1], axis=(1, 2, 3))
    kept = np.all(got == ramp, axis=(1, 2, 3))
    expect(
        bool(np.all(flipped | kept)),
        "random_hflip changed an image in another way than a "
        "horizontal flip: each image must come back either as it was or mirrored left-right",
    )
    return float(flipped.mean()), flipped


def expect_random_flips(student: Any, n: int, p: float, seed: int) -> None:
    """The fraction flipped is p within 5 standard errors, and not all-or-nothing."""
    fraction, flipped = flip_fraction(student, n, p, seed)
    if 0 < p < 1 and fraction in (0.0, 1.0):
        raise Failure(
            f"random_hflip(p={p}) flipped {'all' if fraction else 'none'} of {n} "
            "images together: draw one random number per image, not one per batch"
        )
    se = math.sqrt(p * (1 - p) / n)
    if abs(fraction - (1 - p)) < 5 * se < abs(fraction - p):
        raise Failure(
            f"random_hflip(p={p}) flipped {fraction:.0%} of {n} images, about 1 - p: "
            "an image should be flipped with probability p"
        )
    expect(
        abs(fraction - p) <= 5 * se + 1e-12,
        f"random_hflip(p={p}) flipped {fraction:.0%} of {n} images; expected about {p:.0%}: "
        "an image should be flipped with probability p",
    )


@LAB.test("q2")
def flips_each_image_with_probability_p(student):
    expect_random_flips(student, 2000, 0.5, seed=0)
    expect_random_flips(student, 2000, 0.2, seed=1)


@LAB.test("q2")
def p_zero_and_one(student):
    expect(
        flip_fraction(student, 50, 0.0, seed=2)[0] == 0.0, "random_hflip(p=0) should flip no image"
    )
    expect(
        flip_fraction(student, 50, 1.0, seed=2)[0] == 1.0,
        "random_hflip(p=1) should flip every image",
    )


@LAB.test("q2")
def reproducible_with_the_generator(student):
    a = flip_fraction(student, 64, 0.5, seed=3)[1]
    b = flip_fraction(student, 64, 0.5, seed=3)[1]
    c = flip_fraction(student, 64, 0.5, seed=4)[1]
    expect(
        np.array_equal(a, b) and not np.array_equal(a, c),
        "random_hflip is not "
        "reproducible: two calls with generators seeded alike flipped different images (or "
        "different seeds the same ones); draw the random numbers from the generator you are "
        "given (generator=generator)",
    )


# ---------------------------------------------------------------- q3: rotations


def reference_rotation(x: np.ndarray, degrees: Any) -> np.ndarray:
    """The course library's rotation of ``x`` (counter-clockwise), for comparison."""
    import torch

    from dlcourse.augment.functional import rotate

    angle = torch.as_tensor(degrees, dtype=torch.float64)
    return rotate(torch.as_tensor(x, dtype=torch.float64), angle).numpy()


def expect_rotation(student: Any, x: np.ndarray, degrees: Any, atol: float = 1e-4) -> None:
    """``student.rotate(x, degrees)`` matches the reference; else name clockwise or radians."""
    arg = tensor(np.asarray(degrees, dtype=np.float32)) if np.ndim(degrees) else degrees
    got = expect_array(student.call("rotate", tensor(x), arg), "what rotate returned", x.shape)
    if np.allclose(got, reference_rotation(x, degrees), atol=atol):
        return
    where = f"rotate(images, {degrees})"
    if np.allclose(got, reference_rotation(x, -np.asarray(degrees)), atol=atol):
        raise Failure(
            f"{where} turned the images clockwise; positive angles turn them "
            "counter-clockwise, as torch.rot90 with k=1 does"
        )
    if np.allclose(got, reference_rotation(x, np.degrees(np.asarray(degrees))), atol=atol):
        raise Failure(
            f"{where} turned the images by {degrees} radians: convert degrees to "
            "radians (multiply by π/180) before taking cos and sin"
        )
    raise Failure(
        f"{where} differs from a counter-clockwise rotation about the centre by up to "
        f"{np.abs(got - reference_rotation(x, degrees)).max():.3g}; check the 2×3 "
        "matrix you give affine_grid (cos and sin in the right places) and "
        "align_corners=False"
    )


@LAB.test("q3")
def rotation_by_90_is_rot90(student):
    x = batch(h=5, w=5)
    expect_rotation(student, x, 90.0)
    expect_rotation(student, x, 0.0)


@LAB.test("q3")
def rotation_by_30_degrees(student):
    expect_rotation(student, batch(n=1, c=1, h=9, w=9, seed=1), 30.0)


# ---------------------------------------------------------------- q4: colour shifts


def expect_color_shift(student: Any, x: np.ndarray, shift: np.ndarray) -> None:
    """``color_shift(x, shift)`` adds ``shift[n, c]`` to channel ``c`` and clips to [0, 1]."""
    got = expect_array(
        student.call("color_shift", tensor(x), tensor(shift)), "what color_shift returned", x.shape
    )
    raw = x + shift[:, :, None, None]
    want = np.clip(raw, 0, 1)
    if np.allclose(got, want, atol=1e-6):
        return
    if got.max() > 1 + 1e-6 or got.min() < -1e-6:
        raise Failure(
            f"color_shift returned values from {got.min():.3g} to {got.max():.3g}: "
            "pixel values must stay in [0, 1] after the shift (clip them)"
        )
    if np.allclose(got, np.clip(x + shift[:, ::-1, None, None], 0, 1), atol=1e-6):
        raise Failure(
            "color_shift added the shifts in reverse channel order (blue's to red): "
            "shift[n, c] belongs to channel c of image n"
        )
    expect(
        False,
        "color_shift should add shift[n, c] to every pixel of channel c of image n "
        "(each image its own row of shift), then clip to [0, 1]; the values differ",
    )


@LAB.test("q4")
def shift_goes_to_its_channel(student):
    x = batch(n=2, c=3) * 0.5 + 0.25  # in [0.25, 0.75]: no clipping needed
    expect_color_shift(student, x, np.array([[0.2, 0.0, -0.1], [0.0, 0.1, 0.0]], np.float32))


@LAB.test("q4")
def values_stay_in_range(student):
    expect_color_shift(student, batch(n=2, c=3), np.array([[0.5, 0.0, -0.5]] * 2, np.float32))

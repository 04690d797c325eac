"""Tests of dlcourse.augment: exact geometry, per-image draws, seeding, ranges and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dlcourse.augment import (
    ColorJitter,
    Compose,
    RandomAffine,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
)
from dlcourse.augment import functional as AF


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(n: int = 4, c: int = 3, h: int = 6, w: int = 7, dtype=torch.float64) -> torch.Tensor:
    return torch.rand(n, c, h, w, generator=gen(99), dtype=dtype)


ALL_RANDOM = [
    RandomHorizontalFlip(),
    RandomVerticalFlip(),
    RandomRotation(30),
    RandomAffine(10, translate=(0.2, 0.2), scale=(0.8, 1.2)),
    ColorJitter(0.3, 0.3, 0.1),
    RandomResizedCrop(scale=(0.3, 1.0)),
]


# --- exact geometry ------------------------------------------------------------------------------


def test_flips_reverse_the_right_axis():
    x = images()
    assert torch.equal(AF.hflip(x), x[..., torch.arange(6, -1, -1)])
    assert torch.equal(AF.vflip(x), x[..., torch.arange(5, -1, -1), :])
    assert torch.equal(AF.hflip(x[0]), x[0].flip(-1))
    assert torch.equal(AF.hflip(AF.hflip(x)), x)


@pytest.mark.parametrize("k", [1, 2, 3, -1])
def test_rotation_by_multiples_of_90_equals_rot90(k):
    x = images(h=7, w=7)
    torch.testing.assert_close(
        AF.rotate(x, 90.0 * k), torch.rot90(x, k, dims=(-2, -1)), atol=1e-12, rtol=0
    )


def test_rotation_by_180_of_a_non_square_image():
    x = images(h=4, w=9)
    torch.testing.assert_close(
        AF.rotate(x, 180.0), torch.rot90(x, 2, dims=(-2, -1)), atol=1e-12, rtol=0
    )


def test_identity_parameters_give_the_input_back():
    x = images()
    for out in (
        AF.rotate(x, 0.0),
        AF.affine(x),
        AF.resized_crop(x, 0, 0, 6, 7),
        AF.adjust_brightness(x, 1.0),
        AF.adjust_contrast(x, 1.0),
        AF.shift_channels(x, torch.zeros(3, dtype=torch.float64)),
    ):
        torch.testing.assert_close(out, x, atol=1e-12, rtol=0)


def test_whole_pixel_translation_moves_pixels():
    x = images()
    out = AF.affine(x, translate=(2.0, -1.0))
    torch.testing.assert_close(out[..., :-1, 2:], x[..., 1:, :-2], atol=1e-12, rtol=0)
    assert out[..., :2].abs().max() < 1e-12 and out[..., -1, :].abs().max() < 1e-12


def test_resized_crop_of_a_pixel_box_is_the_slice():
    x = images()
    out = AF.resized_crop(x, 1, 2, 3, 4, size=(3, 4))
    torch.testing.assert_close(out, x[..., 1:4, 2:6], atol=1e-12, rtol=0)


def test_scale_two_zooms_into_the_centre():
    x = images(n=1, c=1, h=8, w=8)
    zoom = AF.affine(x, scale=2.0)
    crop = AF.resized_crop(x, 2, 2, 4, 4)
    torch.testing.assert_close(zoom, crop, atol=1e-12, rtol=0)


def test_per_image_parameters_act_on_their_own_image():
    x = images(h=5, w=5)
    angles = torch.tensor([0.0, 90.0, 180.0, 270.0])
    out = AF.rotate(x, angles)
    for i in range(4):
        torch.testing.assert_close(out[i], torch.rot90(x[i], i, dims=(-2, -1)), atol=1e-12, rtol=0)


# --- colour --------------------------------------------------------------------------------------


def test_colour_changes_follow_their_formulas_and_clamp():
    x = images()
    torch.testing.assert_close(AF.adjust_brightness(x, 0.5), x * 0.5)
    assert AF.adjust_brightness(x, 3.0).max() == 1.0
    gray = (0.2989 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).mean((-2, -1))
    flat = AF.adjust_contrast(x, 0.0)
    torch.testing.assert_close(flat, gray[:, None, None, None].expand_as(x))
    shift = torch.tensor([0.5, 0.0, -0.5], dtype=torch.float64)
    out = AF.shift_channels(x, shift)
    torch.testing.assert_close(out[:, 0], (x[:, 0] + 0.5).clamp(max=1))
    torch.testing.assert_close(out[:, 1], x[:, 1])
    torch.testing.assert_close(out[:, 2], (x[:, 2] - 0.5).clamp(min=0))


def test_shift_channels_per_image_rows():
    x = images(n=2)
    shift = torch.tensor([[0.1, 0.0, 0.0], [0.0, 0.0, 0.1]], dtype=torch.float64)
    out = AF.shift_channels(x, shift)
    torch.testing.assert_close(out[0, 0], (x[0, 0] + 0.1).clamp(max=1))
    torch.testing.assert_close(out[1, 0], x[1, 0])


# --- random transforms: shapes, seeding, independence, statistics --------------------------------


@pytest.mark.parametrize("transform", ALL_RANDOM, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_range_and_reproducibility(transform, dtype):
    x = images(dtype=dtype)
    out = transform(x, generator=gen(3))
    assert out.shape == x.shape and out.dtype == dtype
    assert 0 <= out.min() and out.max() <= 1
    assert torch.equal(out, transform(x, generator=gen(3)))
    assert transform(x[0], generator=gen(3)).shape == x[0].shape


@pytest.mark.parametrize("transform", ALL_RANDOM, ids=lambda t: type(t).__name__)
def test_each_image_gets_its_own_draw(transform):
    same = images(n=1).expand(16, -1, -1, -1).contiguous()  # 16 copies of one image
    out = transform(same, generator=gen(5))
    distinct = {tuple(o.flatten().tolist()) for o in out.round(decimals=9)}
    assert len(distinct) > 1


def test_compose_passes_one_generator_along():
    aug = Compose([RandomHorizontalFlip(), RandomRotation(20), ColorJitter(0.2, 0.2, 0.05)])
    x = images()
    assert torch.equal(aug(x, generator=gen(1)), aug(x, generator=gen(1)))
    assert not torch.equal(aug(x, generator=gen(1)), aug(x, generator=gen(2)))
    g = gen(7)
    by_hand = aug.transforms[2](aug.transforms[1](aug.transforms[0](x, g), g), g)
    assert torch.equal(aug(x, generator=gen(7)), by_hand)


def test_flip_probability_is_p():
    x = torch.arange(4.0).reshape(1, 1, 1, 4).expand(4000, 1, 1, 4)
    out = RandomHorizontalFlip(p=0.3)(x, generator=gen(0))
    flipped = (out[:, 0, 0, 0] == 3).double().mean().item()
    assert stats.binomtest(int(flipped * 4000), 4000, 0.3).pvalue > 1e-3


def test_rotation_angles_are_uniform():
    # rotate a single bright pixel of a large canvas and read its angle back
    x = torch.zeros(400, 1, 41, 41, dtype=torch.float64)
    x[:, 0, 20, 35] = 1.0  # 15 px right of the centre
    out = RandomRotation(40)(x, generator=gen(0))
    ys, xs = torch.meshgrid(torch.arange(41.0), torch.arange(41.0), indexing="ij")
    w = out[:, 0] / out[:, 0].sum((-2, -1), keepdim=True)
    cx, cy = (w * xs).sum((-2, -1)) - 20, (w * ys).sum((-2, -1)) - 20
    angles = np.degrees(np.arctan2(-cy.numpy(), cx.numpy()))  # counter-clockwise on screen
    assert stats.kstest(angles, stats.uniform(-40, 80).cdf).pvalue > 1e-3


def test_translations_are_whole_pixels_within_the_bound():
    x = torch.zeros(200, 1, 9, 9, dtype=torch.float64)
    x[:, 0, 4, 4] = 1.0
    out = RandomAffine(translate=(2 / 9, 1 / 9))(x, generator=gen(0))
    torch.testing.assert_close(out.sum((-2, -1)), torch.ones(200, 1, dtype=torch.float64))
    where = out[:, 0].flatten(1).argmax(1)
    dy, dx = where // 9 - 4, where % 9 - 4
    assert dx.abs().max() == 2 and dy.abs().max() == 1


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 5),
    c=st.sampled_from([1, 3]),
    h=st.integers(2, 12),
    w=st.integers(2, 12),
    seed=st.integers(0, 2**31),
)
def test_any_shape_keeps_its_shape_and_range(n, c, h, w, seed):
    x = torch.rand(n, c, h, w, generator=gen(seed))
    aug = Compose(ALL_RANDOM)
    out = aug(x, generator=gen(seed))
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert 0 <= out.min() and out.max() <= 1


@settings(max_examples=25, deadline=None)
@given(angle=st.floats(-360, 360), seed=st.integers(0, 2**31))
def test_rotating_back_restores_the_centre(angle, seed):
    x = torch.rand(1, 1, 21, 21, generator=gen(seed), dtype=torch.float64)
    back = AF.rotate(AF.rotate(x, angle), -angle)
    # bilinear resampling blurs a little; the centre pixel is never outside the image
    assert abs(back[0, 0, 10, 10] - x[0, 0, 10, 10]) < 0.5
    assert math.isfinite(back.sum().item())


# --- bad input -----------------------------------------------------------------------------------


def test_bad_input_errors():
    x = images()
    with pytest.raises(TypeError, match="torch.Tensor"):
        AF.hflip(np.zeros((3, 4, 4)))
    with pytest.raises(TypeError, match="floating-point"):
        AF.rotate(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), 10.0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        AF.vflip(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="one per image"):
        AF.rotate(x, torch.zeros(3))
    with pytest.raises(ValueError, match="scale must be > 0"):
        AF.affine(x, scale=0.0)
    with pytest.raises(ValueError, match="shift must have shape"):
        AF.shift_channels(x, torch.zeros(2))
    with pytest.raises(ValueError, match="padding_mode"):
        AF.rotate(x, 10.0, padding_mode="wrap")
    with pytest.raises(ValueError, match="p must be"):
        RandomHorizontalFlip(p=1.5)
    with pytest.raises(TypeError, match="torch.Generator"):
        RandomRotation(10)(x, generator=0)
    with pytest.raises(ValueError, match="scale must lie within"):
        RandomResizedCrop(scale=(0.5, 2.0))
    with pytest.raises(TypeError, match="transform"):
        Compose([RandomRotation(10), "flip"])
    with pytest.raises(ValueError, match="brightness"):
        ColorJitter(brightness=-0.1)

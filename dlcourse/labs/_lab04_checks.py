"""Lab 4's checks: test data, the expected answers, and the known mistakes with their hints.

Shared by the public tests (:mod:`dlcourse.labs.lab04_preprocessing`) and the hidden tests of
``solutions/lab04_preprocessing.ipynb``. A student's output is compared with the expected answer
and, when it differs, with the output of each known mistake (statistics from the wrong split, the
unbiased std, a missing epsilon, ...), so the message names the mistake instead of only saying
"wrong". See the book: Data preprocessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlcourse.grading import expect_array, tensor
from dlcourse.grading.expect import Failure

__all__ = [
    "as_tensors",
    "channel_mistakes",
    "expect_match",
    "images",
    "pca_mistakes",
    "pca_reference",
    "splits",
    "standardize_mistakes",
    "whiten_mistakes",
    "whiten_reference",
]


def splits(seed: int, sizes: tuple[int, int, int] = (40, 15, 15), d: int = 5) -> list[np.ndarray]:
    """Train, validation and test sets whose statistics differ, so a wrong split shows (float64)."""
    rng = np.random.default_rng(seed)
    scale, shift = rng.uniform(0.5, 5, d), rng.uniform(-10, 10, d)
    return [
        rng.normal(size=(n, d)) * scale * (1 + 0.5 * i) + shift + 3 * i for i, n in enumerate(sizes)
    ]


def images(seed: int, n: int = 6, c: int = 3, hw: int = 4) -> np.ndarray:
    """A batch of images ``(N, C, H, W)`` with a different mean and spread in each channel."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, c, hw, hw)) * rng.uniform(1, 4, (1, c, 1, 1)) + rng.uniform(
        0, 100, (1, c, 1, 1)
    )


def _standardize(
    parts: list[np.ndarray], fit: np.ndarray, eps: float, ddof: int = 0, axis: int = 0
) -> list[np.ndarray]:
    mean = fit.mean(axis=axis, keepdims=True)
    std = fit.std(axis=axis, ddof=ddof, keepdims=True)
    return [(x - mean) / (std + eps) for x in parts]


EPS_HINT = (
    "eps is missing (or not the eps passed in): a feature that is constant on the training set has "
    "std 0, and dividing by 0 gives nan or inf; divide by (std + eps)"
)
OWN_STATS_HINT = (
    "each split was standardized with its own statistics: compute the mean and std on the "
    "training set only, and apply those same numbers to the validation and test sets"
)
COMBINED_HINT = (
    "the statistics were computed on all splits combined: the validation and test data must not "
    "influence them (fit on the training set only)"
)
UNBIASED_HINT = (
    "the std is the unbiased one (dividing by N - 1, torch.std's default); the lecture's np.std "
    "divides by N: use correction=0 (or unbiased=False)"
)
GLOBAL_HINT = "one mean and one std for all features together: compute one per feature (dim=0)"


def standardize_mistakes(parts: list[np.ndarray], eps: float) -> dict[str, list[np.ndarray]]:
    """The expected outputs (key ``""``) and those of known mistakes, each mapped to its hint."""
    tr = parts[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "": _standardize(parts, tr, eps),
            OWN_STATS_HINT: [_standardize([x], x, eps)[0] for x in parts],
            COMBINED_HINT: _standardize(parts, np.concatenate(parts), eps),
            UNBIASED_HINT: _standardize(parts, tr, eps, ddof=1),
            EPS_HINT: _standardize(parts, tr, 0.0),
            GLOBAL_HINT: [(x - tr.mean()) / (tr.std() + eps) for x in parts],
        }


def channel_mistakes(X: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Expected per-channel ``[mean, std]`` (key ``""``) and known mistakes' outputs."""
    dims = (0, 2, 3)
    return {
        "": [X.mean(axis=dims), X.std(axis=dims)],
        "the std is the unbiased one (N - 1); use the population std (correction=0), as the "
        "mean and std of torchvision's Normalize are": [
            X.mean(axis=dims),
            X.std(axis=dims, ddof=1),
        ],
        "these are statistics of every pixel (the mean image, AlexNet), not one number per "
        "channel: average over the samples, the height and the width (dims 0, 2, 3)": [
            X.mean(axis=0),
            X.std(axis=0),
        ],
        "these are statistics of every image (one per sample and channel): average over the "
        "samples too (dims 0, 2, 3)": [X.mean(axis=(2, 3)), X.std(axis=(2, 3))],
    }


def pca_reference(
    X: np.ndarray, k: int, ddof: int = 1, center: bool = True, ascending: bool = False
) -> list[np.ndarray]:
    """``[mean, components (k, D), variances (k,)]`` from the eigenvectors of the covariance."""
    mean = X.mean(axis=0)
    Xc = X - mean if center else X
    values, vectors = np.linalg.eigh(Xc.T @ Xc / (len(X) - ddof))  # ascending
    order = np.arange(len(values)) if ascending else np.argsort(values)[::-1]
    return [mean, vectors[:, order[:k]].T, values[order[:k]]]


def pca_mistakes(X: np.ndarray, k: int) -> dict[str, list[np.ndarray]]:
    """Expected PCA (key ``""``) and known mistakes' outputs, each mapped to its hint."""
    return {
        "": pca_reference(X, k),
        "the covariance divides by N; divide by N - 1 (the unbiased covariance of np.cov and "
        "scikit-learn's PCA), so that whitened data has covariance exactly I": pca_reference(
            X, k, ddof=0
        ),
        "these are the directions of the smallest variance: torch.linalg.eigh returns the "
        "eigenvalues in ascending order; keep the k largest, largest first": pca_reference(
            X, k, ascending=True
        ),
        "the covariance was computed without subtracting the mean first: centre the "
        "data": pca_reference(X, k, center=False),
    }


def whiten_reference(
    X: np.ndarray,
    mean: np.ndarray,
    V: np.ndarray,
    lam: np.ndarray,
    eps: float,
    zca: bool,
    root: bool = True,
    rotate: bool = True,
    centre: bool = True,
) -> np.ndarray:
    """PCA whitening, or ZCA (rotated back with ``V``), with the switches of the mistakes."""
    with np.errstate(divide="ignore", invalid="ignore"):
        Z = ((X - mean) if centre else X) @ V.T / ((lam + eps) ** (0.5 if root else 1.0))
    return Z @ V if zca and rotate else Z


def whiten_mistakes(
    X: np.ndarray, mean: np.ndarray, V: np.ndarray, lam: np.ndarray, eps: float, zca: bool
) -> dict[str, list[np.ndarray]]:
    """Expected whitening (key ``""``) and known mistakes' outputs, each mapped to its hint."""

    def ref(**kw: Any) -> list[np.ndarray]:
        return [whiten_reference(X, mean, V, lam, **{"eps": eps, "zca": zca, **kw})]

    mistakes = {
        "": ref(),
        "eps is missing: a direction of zero variance is divided by sqrt(0); divide by "
        "sqrt(variances + eps)": ref(eps=0.0),
        "the components were divided by the variances; divide by their square roots (the "
        "standard deviations) so that each has variance 1": ref(root=False),
        "the mean was not subtracted before projecting": ref(centre=False),
    }
    if zca:
        mistakes[
            "ZCA must rotate the whitened components back to the original axes "
            "(multiply by the components matrix once more)"
        ] = ref(rotate=False)
    return mistakes


def _same(got: list[np.ndarray], want: list[np.ndarray], up_to_sign: bool) -> bool:
    for g, w in zip(got, want):
        if g.shape != w.shape or not np.array_equal(np.isfinite(g), np.isfinite(w)):
            return False
        if up_to_sign and g.ndim == 2:  # eigenvectors: rows equal up to their sign
            g = g * np.sign((g * w).sum(axis=1, keepdims=True))
        if not np.allclose(g, w, rtol=1e-6, atol=1e-8, equal_nan=True):
            return False  # nan and inf (a division by 0) must sit where the mistake puts them
    return True


def expect_match(
    got: Any, mistakes: Mapping[str, list[np.ndarray]], what: str, up_to_sign: bool = False
) -> None:
    """Fail unless ``got`` (a tensor or a sequence of tensors) equals ``mistakes[""]``.

    On a mismatch the message names the first known mistake that reproduces ``got``, or says
    which part is wrong and how.
    """
    want = mistakes[""]
    parts = list(got) if isinstance(got, (list, tuple)) else [got]
    if len(parts) != len(want):
        raise Failure(f"{what} should return {len(want)} tensors, but returned {len(parts)}")
    arrays = [expect_array(p, f"{what}: output {i + 1}") for i, p in enumerate(parts)]
    if _same(arrays, want, up_to_sign):
        return
    for hint, output in mistakes.items():
        if hint and _same(arrays, output, up_to_sign):
            raise Failure(f"{what} is wrong: {hint}")
    for i, w in enumerate(want):
        if arrays[i].ndim == 2 and arrays[i].shape[::-1] == np.shape(w) != arrays[i].shape:
            raise Failure(
                f"{what}: output {i + 1} has shape {arrays[i].shape}, the transpose of the "
                f"expected {np.shape(w)}: are the vectors stored as columns? Return them as rows"
            )
        expect_array(parts[i], f"{what}: output {i + 1}", np.shape(w))
    bad = next(i for i in range(len(want)) if not _same([arrays[i]], [want[i]], up_to_sign))
    finite = "contains nan or inf; " if not np.isfinite(arrays[bad]).all() else ""
    raise Failure(
        f"{what}: output {bad + 1} {finite}differs from the expected values "
        f"(largest difference {np.nanmax(np.abs(arrays[bad] - want[bad])):.3g})"
    )


def as_tensors(*arrays: np.ndarray) -> list[dict]:
    """Specs of float64 tensors holding ``arrays``, for a call of the student's function."""
    return [tensor(a, dtype="float64") for a in arrays]

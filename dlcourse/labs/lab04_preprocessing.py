"""Lab 4 — Data preprocessing: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement; tensors are float64):

* q1 ``standardize_splits(X_train, X_valid, X_test, eps=1e-8) -> (Z_train, Z_valid, Z_test)``:
  per-feature mean and population std of the training set, applied to all three;
* q2 ``channel_stats(images) -> (mean, std)``: one mean and std per channel of ``(N, C, H, W)``;
* q3 ``pca_fit(X_train, k) -> (mean, components, variances)``: the top-``k`` eigenvectors (rows)
  and eigenvalues of the unbiased covariance, largest first;
* q4 ``whiten(X, mean, components, variances, eps=1e-5, zca=False)``: PCA or ZCA whitening with
  given statistics.

The questions do not call each other, so a wrong answer loses only its own question. Messages name
the mistake (statistics from the wrong split, the unbiased std, a missing epsilon, ...) and never
show code (``dlcourse.labs._lab04_checks``). See the book: Data preprocessing.
"""

from __future__ import annotations

import numpy as np

from dlcourse.grading import Lab, expect
from dlcourse.labs._lab04_checks import (
    as_tensors,
    channel_mistakes,
    expect_match,
    images,
    pca_mistakes,
    pca_reference,
    splits,
    standardize_mistakes,
    whiten_mistakes,
    whiten_reference,
)

__all__ = [
    "LAB",
    "as_tensors",
    "channel_mistakes",
    "check_standardize",
    "check_whiten",
    "expect_match",
    "images",
    "pca_mistakes",
    "pca_reference",
    "splits",
    "standardize_mistakes",
    "whiten_mistakes",
    "whiten_reference",
]

LAB = Lab("lab04_preprocessing", title="Data preprocessing")


def check_standardize(student, parts: list[np.ndarray], eps: float = 1e-8) -> None:
    """Call ``standardize_splits`` on ``parts`` and compare with the answer and the mistakes."""
    got = student.call("standardize_splits", *as_tensors(*parts), eps=eps)
    expect_match(got, standardize_mistakes(parts, eps), "standardize_splits")


# ---------------------------------------------------------------- q1: standardize


@LAB.test("q1")
def standardizes_the_training_set(student):
    parts = splits(seed=0)
    Z_train = np.asarray(student.call("standardize_splits", *as_tensors(*parts))[0])
    expect(
        Z_train.shape == parts[0].shape,
        f"Z_train should have the shape of X_train, {parts[0].shape}; it has {Z_train.shape}",
    )
    check_standardize(student, parts)


@LAB.test("q1")
def applies_the_training_statistics_to_every_split(student):
    check_standardize(student, splits(seed=1))


@LAB.test("q1")
def constant_feature_stays_finite(student):
    parts = splits(seed=2, sizes=(20, 8, 8), d=3)
    for part in parts:
        part[:, 1] = 7.0  # constant: std 0 on the training set
    check_standardize(student, parts)


# ---------------------------------------------------------------- q2: per-channel statistics


@LAB.test("q2")
def per_channel_mean_and_std(student):
    X = images(seed=0)
    got = student.call("channel_stats", *as_tensors(X))
    expect_match(got, channel_mistakes(X), "channel_stats")


# ---------------------------------------------------------------- q3: PCA


@LAB.test("q3")
def pca_on_few_samples(student):
    X = splits(seed=3, sizes=(8, 1, 1), d=4)[0]  # N = 8: N versus N - 1 is a 14 % difference
    got = student.call("pca_fit", *as_tensors(X), 2)
    expect_match(got, pca_mistakes(X, 2), "pca_fit(X_train, k=2)", up_to_sign=True)


@LAB.test("q3")
def pca_components_are_orthonormal_rows(student):
    X = splits(seed=4, sizes=(50, 1, 1), d=6)[0] @ np.random.default_rng(4).normal(size=(6, 6))
    _, V, _ = student.call("pca_fit", *as_tensors(X), 3)
    V = np.asarray(V)
    expect(
        V.shape == (3, 6),
        f"components should have shape (k, D) = (3, 6), one eigenvector per row; it has "
        f"{V.shape} (torch.linalg.eigh returns the eigenvectors as columns)",
    )
    expect(
        np.allclose(V @ V.T, np.eye(3), atol=1e-8),
        "the rows of components should be orthonormal unit vectors (V @ V.T = I)",
    )
    expect_match(
        [V], {"": [pca_reference(X, 3)[1]]}, "pca_fit(X_train, k=3): components", up_to_sign=True
    )


# ---------------------------------------------------------------- q4: whitening


def check_whiten(student, X: np.ndarray, k: int, eps: float, zca: bool) -> None:
    """Whiten ``X`` with its own exact PCA statistics and compare with the answer and mistakes."""
    mean, V, lam = pca_reference(X, k)
    got = student.call("whiten", *as_tensors(X, mean, V, lam), eps=eps, zca=zca)
    big = np.abs(np.asarray(got, dtype=float)).max() if isinstance(got, np.ndarray) else 0.0
    expect(
        eps == 0 or bool(np.isfinite(big) and big < 1e4),
        f"whiten(..., eps={eps:g}) returned values up to {big:.3g}: a direction of (almost) zero "
        "variance was divided by (almost) 0. Is eps missing? Divide by sqrt(variances + eps)",
    )
    expect_match(
        got, whiten_mistakes(X, mean, V, lam, eps, zca), f"whiten(..., eps={eps:g}, zca={zca})"
    )


@LAB.test("q4")
def pca_whitening(student):
    X = splits(seed=5, sizes=(60, 1, 1), d=4)[0]
    check_whiten(student, X, k=4, eps=1e-5, zca=False)
    mean, V, lam = pca_reference(X, 4)
    Z = np.asarray(student.call("whiten", *as_tensors(X, mean, V, lam), eps=0.0))
    expect(
        np.allclose(np.cov(Z, rowvar=False), np.eye(4), atol=1e-8),
        "with eps=0 the whitened training data should have covariance I (np.cov)",
    )


@LAB.test("q4")
def zca_whitening(student):
    check_whiten(student, splits(seed=6, sizes=(60, 1, 1), d=4)[0], k=4, eps=1e-5, zca=True)


@LAB.test("q4")
def zero_variance_direction(student):
    X = splits(seed=7, sizes=(30, 1, 1), d=3)[0]
    X[:, 2] = X[:, 0] - X[:, 1]  # redundant: one eigenvalue is 0
    check_whiten(student, X, k=3, eps=1e-5, zca=False)

"""Standardize with its options, ChannelNormalize, PCA and Whiten.

Parity with scikit-learn, identity covariance after whitening, properties, and the errors a student
meets first.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import StandardScaler

from dlcourse.data import PCA, ChannelNormalize, Standardize, Whiten


def _correlated(n: int, d: int, seed: int, offset: float = 3.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64)
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + offset


# --- Standardize: scikit-learn parity and the mean image -----------------------------------------


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_standardize_matches_sklearn_standard_scaler(with_mean: bool, with_std: bool) -> None:
    A, B = _correlated(60, 5, seed=0), _correlated(20, 5, seed=1, offset=-7)
    ours = Standardize(with_mean=with_mean, with_std=with_std).fit(A)
    theirs = StandardScaler(with_mean=with_mean, with_std=with_std).fit(A.numpy())
    for X in (A, B):
        np.testing.assert_allclose(
            ours.transform(X).numpy(), theirs.transform(X.numpy()), rtol=1e-12, atol=1e-12
        )
    if with_mean or with_std:  # scikit-learn skips the statistics it does not use
        np.testing.assert_allclose(ours.mean_.numpy(), A.numpy().mean(axis=0), rtol=1e-13)
    torch.testing.assert_close(ours.inverse_transform(ours.transform(B)), B)


def test_mean_image_is_one_number_per_pixel() -> None:
    X = torch.rand(30, 3, 4, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    scaler = Standardize(with_std=False).fit(X)
    assert scaler.mean_.shape == (3, 4, 4)
    torch.testing.assert_close(
        scaler.transform(X).mean(dim=0),
        torch.zeros(3, 4, 4, dtype=torch.float64),
        atol=1e-14,
        rtol=0,
    )
    assert (scaler.scale_ == 1).all()


# --- ChannelNormalize ----------------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 12), c=st.integers(1, 4), hw=st.integers(1, 5), seed=st.integers(0, 999))
def test_channel_normalize_properties(n: int, c: int, hw: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, c, hw, hw, generator=g, dtype=torch.float64) * 5 + torch.arange(c).reshape(
        1, c, 1, 1
    )
    norm = ChannelNormalize().fit(X)
    Z = norm.transform(X)
    assert norm.mean_.shape == norm.std_.shape == (c,)
    flat = Z.transpose(0, 1).reshape(c, -1)  # (C, N·H·W)
    torch.testing.assert_close(flat.mean(dim=1), torch.zeros(c, dtype=X.dtype), atol=1e-12, rtol=0)
    torch.testing.assert_close(flat.std(dim=1, correction=0), torch.ones(c, dtype=X.dtype))
    torch.testing.assert_close(norm.inverse_transform(Z), X)


def test_channel_normalize_matches_torchvision_formula_and_any_size() -> None:
    X = torch.rand(10, 3, 6, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    norm = ChannelNormalize().fit(X)
    mean = X.numpy().mean(axis=(0, 2, 3))
    std = X.numpy().std(axis=(0, 2, 3))
    Y = torch.rand(2, 3, 9, 5, dtype=torch.float64)  # another size: same 6 numbers apply
    want = (Y.numpy() - mean[:, None, None]) / std[:, None, None]
    np.testing.assert_allclose(norm.transform(Y).numpy(), want, rtol=1e-12)
    vgg = ChannelNormalize(with_std=False).fit(X)
    np.testing.assert_allclose(
        vgg.transform(Y).numpy(), Y.numpy() - mean[:, None, None], rtol=1e-12
    )


def test_channel_normalize_errors() -> None:
    with pytest.raises(ValueError, match=r"ChannelNormalize is not fitted yet: call .fit"):
        ChannelNormalize().transform(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"expects images \(N, C, H, W\).*use Standardize"):
        ChannelNormalize().fit(torch.zeros(5, 3))
    norm = ChannelNormalize().fit(torch.rand(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"fitted on 3 channels but X has 1"):
        norm.transform(torch.rand(4, 1, 2, 2))


def test_channel_normalize_constant_channel_is_finite() -> None:
    X = torch.rand(5, 2, 3, 3)
    X[:, 1] = 0.5
    Z = ChannelNormalize().fit_transform(X)
    assert torch.isfinite(Z).all() and (Z[:, 1] == 0).all()


# --- PCA -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("k", [1, 3, 6])
def test_pca_matches_sklearn(whiten: bool, k: int) -> None:
    A, B = _correlated(80, 6, seed=2), _correlated(15, 6, seed=3, offset=0)
    ours = PCA(n_components=k, whiten=whiten).fit(A)
    theirs = SkPCA(n_components=k, whiten=whiten, svd_solver="full").fit(A.numpy())
    np.testing.assert_allclose(ours.components_.numpy(), theirs.components_, atol=1e-12)
    np.testing.assert_allclose(
        ours.explained_variance_.numpy(), theirs.explained_variance_, rtol=1e-12
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio_.numpy(), theirs.explained_variance_ratio_, rtol=1e-12
    )
    for X in (A, B):
        np.testing.assert_allclose(
            ours.transform(X).numpy(), theirs.transform(X.numpy()), atol=1e-11
        )
    Z = ours.transform(B)
    np.testing.assert_allclose(
        ours.inverse_transform(Z).numpy(), theirs.inverse_transform(Z.numpy()), atol=1e-11
    )


@settings(max_examples=25, deadline=None)
@given(n=st.integers(8, 40), d=st.integers(1, 6), seed=st.integers(0, 9999), data=st.data())
def test_pca_properties(n: int, d: int, seed: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, d))
    X = _correlated(n, d, seed)
    pca = PCA(n_components=k).fit(X)
    Z = pca.transform(X)
    V = pca.components_
    torch.testing.assert_close(V @ V.T, torch.eye(k, dtype=X.dtype), atol=1e-10, rtol=0)
    cov = torch.cov(Z.T).reshape(k, k)
    torch.testing.assert_close(cov, torch.diag(pca.explained_variance_), atol=1e-9, rtol=1e-9)
    assert (pca.explained_variance_[:-1] >= pca.explained_variance_[1:] - 1e-12).all()
    if k == d:  # keeping every component loses nothing
        torch.testing.assert_close(pca.inverse_transform(Z), X)


def test_pca_keeps_image_shape_and_reconstructs_best_rank_k() -> None:
    X = _correlated(50, 12, seed=4).reshape(50, 3, 2, 2)
    pca = PCA(n_components=12).fit(X)
    torch.testing.assert_close(pca.inverse_transform(pca.transform(X)), X)
    errors = [
        ((PCA(k).fit(X).inverse_transform(PCA(k).fit(X).transform(X)) - X) ** 2).sum().item()
        for k in (2, 6, 10)
    ]
    assert errors[0] > errors[1] > errors[2] > 0


def test_pca_errors() -> None:
    with pytest.raises(ValueError, match=r"PCA is not fitted yet: call .fit\(X_train\)"):
        PCA().transform(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="not fitted"):
        PCA().inverse_transform(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"n_components=5 is more than min\(N, D\) = 4"):
        PCA(5).fit(torch.randn(10, 4))
    pca = PCA(2).fit(torch.randn(10, 4))
    with pytest.raises(ValueError, match=r"fitted on 4 features .* but X has 3 features"):
        pca.transform(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"expects components of shape \(N, 2\), got shape"):
        pca.inverse_transform(torch.randn(5, 4))
    with pytest.raises(ValueError, match="n_components"):
        PCA(0)
    with pytest.raises(ValueError, match="eps"):
        PCA(eps=-1.0)


# --- Whiten --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_covariance_is_identity(method: str) -> None:
    X = _correlated(200, 5, seed=5)
    white = Whiten(method, eps=0.0).fit(X)
    Z = white.transform(X)
    assert Z.shape == X.shape
    torch.testing.assert_close(torch.cov(Z.T), torch.eye(5, dtype=X.dtype), atol=1e-10, rtol=0)
    np.testing.assert_allclose(np.cov(Z.numpy(), rowvar=False), np.eye(5), atol=1e-10)
    torch.testing.assert_close(white.inverse_transform(Z), X)


def test_pca_whitening_matches_sklearn_and_zca_is_symmetric() -> None:
    X = _correlated(100, 4, seed=6)
    ours = Whiten("pca", eps=0.0).fit(X).transform(X)
    theirs = SkPCA(whiten=True, svd_solver="full").fit(X.numpy()).transform(X.numpy())
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-11)
    zca = Whiten("zca", eps=0.0).fit(X)
    W = zca.transform(X) - zca.transform(X[:1] * 0 + zca.mean_)  # linear part, applied to X - mu
    M = torch.linalg.lstsq(X - zca.mean_, W).solution  # the 4x4 whitening matrix
    torch.testing.assert_close(M, M.T, atol=1e-9, rtol=0)  # ZCA: symmetric Sigma^(-1/2)
    cov = torch.cov(X.T)
    torch.testing.assert_close(M @ M, torch.linalg.inv(cov), atol=1e-9, rtol=1e-7)


def test_zca_keeps_image_layout() -> None:
    X = _correlated(300, 12, seed=7).reshape(300, 3, 2, 2)
    Z = Whiten("zca", eps=0.0).fit_transform(X)
    assert Z.shape == X.shape
    flat = Z.reshape(300, -1)
    torch.testing.assert_close(torch.cov(flat.T), torch.eye(12, dtype=X.dtype), atol=1e-9, rtol=0)


def test_whiten_eps_and_degenerate_data() -> None:
    X = _correlated(50, 3, seed=8)
    X = torch.cat([X, X[:, :1] * 2], dim=1)  # a redundant feature: one zero eigenvalue
    with pytest.raises(ValueError, match=r"zero eigenvalue .* pass eps > 0"):
        Whiten(eps=0.0).fit(X)
    Z = Whiten(eps=1e-5).fit_transform(X)
    assert torch.isfinite(Z).all()
    with pytest.raises(ValueError, match=r"at least as many samples as features .* PCA"):
        Whiten().fit(torch.randn(3, 5))
    with pytest.raises(ValueError, match="method"):
        Whiten("pcaa")  # type: ignore[arg-type]

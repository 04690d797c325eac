"""Tests of dlcourse.data: the digits split, train-only preprocessing, and seeded minibatches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from dlcourse.data import MinMaxScale, Split, Standardize, TensorLoader, load_digits, loader


@pytest.fixture(scope="module")
def split() -> Split:
    return load_digits()


@pytest.fixture(scope="module")
def raw_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = sklearn_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


# --- load_digits -------------------------------------------------------------------------------


def test_digits_shapes_and_dtypes(split: Split) -> None:
    assert split.X_train.shape == (1347, 64) and split.X_test.shape == (450, 64)
    assert split.X_train.dtype == split.X_test.dtype == torch.float32
    assert split.y_train.dtype == split.y_test.dtype == torch.int64
    assert split.y_train.shape == (1347,) and split.y_test.shape == (450,)
    assert set(split.y_train.tolist()) == set(range(10)) and split.n_classes == 10
    assert split.train[0] is split.X_train and split.test[1] is split.y_test


def test_digits_images_when_not_flattened(split: Split) -> None:
    images = load_digits(flatten=False)
    assert images.X_train.shape == (1347, 1, 8, 8) and images.X_test.shape == (450, 1, 8, 8)
    torch.testing.assert_close(images.X_train.reshape(-1, 64), split.X_train)


def test_digits_split_is_stratified(split: Split) -> None:
    per_class_test = torch.bincount(split.y_test, minlength=10)
    per_class_all = per_class_test + torch.bincount(split.y_train, minlength=10)
    assert (per_class_test - 0.25 * per_class_all).abs().max() <= 1


def test_digits_seed_changes_the_split(split: Split) -> None:
    other = load_digits(seed=1)
    assert not torch.equal(other.y_train, split.y_train)
    torch.testing.assert_close(load_digits(seed=0).X_train, split.X_train, rtol=0, atol=0)


def test_digits_standardized_with_numpy_train_statistics(split: Split, raw_split) -> None:
    X_tr, X_te, y_tr, y_te = raw_split
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)  # the lecture's np.mean / np.std, train only
    std[std == 0] = 1.0
    np.testing.assert_allclose(split.X_train.numpy(), (X_tr - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(split.X_test.numpy(), (X_te - mean) / std, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(split.y_train.numpy(), y_tr)
    np.testing.assert_array_equal(split.y_test.numpy(), y_te)


def test_digits_test_set_did_not_leak_into_statistics(split: Split, raw_split) -> None:
    X_tr, X_te, _, _ = raw_split
    assert split.scaler is not None
    np.testing.assert_allclose(split.scaler.mean_.numpy(), X_tr.mean(axis=0), rtol=1e-6, atol=1e-6)
    # Statistics of all the data, or of the test part, differ from the ones used.
    all_mean = np.concatenate([X_tr, X_te]).mean(axis=0)
    assert np.abs(split.scaler.mean_.numpy() - all_mean).max() > 1e-3
    assert np.abs(split.scaler.std_.numpy() - X_te.std(axis=0)).max() > 1e-2
    # So the training part is exactly centred and the test part only approximately.
    assert split.X_train.mean(dim=0).abs().max() < 1e-5
    assert split.X_test.mean(dim=0).abs().max() > 1e-2


def test_digits_constant_pixels_are_finite(split: Split) -> None:
    assert split.scaler is not None
    constant = split.scaler.std_ == 0
    assert constant.sum() >= 1  # the digits have pixels that are 0 in every training image
    assert torch.isfinite(split.X_train).all() and torch.isfinite(split.X_test).all()
    assert (split.X_train[:, constant] == 0).all()


def test_digits_unstandardized_and_device() -> None:
    raw = load_digits(standardize=False, device="cpu")
    assert raw.scaler is None
    assert raw.X_train.min() == 0 and raw.X_train.max() == 16 and raw.X_train.device.type == "cpu"


def test_digits_bad_test_size() -> None:
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\), got 1\.5"):
        load_digits(test_size=1.5)
    with pytest.raises(TypeError, match=r"test_size must be a real number, got str"):
        load_digits(test_size="0.2")


# --- Standardize ---------------------------------------------------------------------------------


def test_standardize_fit_on_one_set_applies_to_another() -> None:
    g = torch.Generator().manual_seed(0)
    A = torch.randn(200, 3, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2.0, 5.0]) + 10
    B = torch.randn(50, 3, generator=g, dtype=torch.float64) * 100 - 40  # very different statistics
    scaler = Standardize().fit(A)
    mean, std = A.numpy().mean(axis=0), A.numpy().std(axis=0)
    np.testing.assert_allclose(scaler.transform(B).numpy(), (B.numpy() - mean) / std, rtol=1e-12)
    np.testing.assert_allclose(scaler.mean_.numpy(), mean, rtol=1e-12)  # B did not move them


def test_standardize_zero_std_features_are_finite() -> None:
    X = torch.randn(20, 4, generator=torch.Generator().manual_seed(1))
    X[:, 1], X[:, 2], X[:, 3] = 0.0, 3.7, 0.1  # constant columns; 0.1 is not exact in binary
    scaler = Standardize()
    Z = scaler.fit_transform(X)
    assert torch.isfinite(Z).all()
    assert (Z[:, 1:] == 0).all()
    assert (scaler.std_[1:] == 0).all() and (scaler.scale_[1:] == 1).all()
    torch.testing.assert_close(scaler.transform(X + 1)[:, 1:], torch.ones(20, 3))  # divided by 1


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 30),
    shape=st.sampled_from([(3,), (5,), (1, 2, 2)]),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**16),
)
def test_standardize_properties(
    n: int, shape: tuple[int, ...], dtype: torch.dtype, seed: int
) -> None:
    X = (torch.randn(n, *shape, generator=torch.Generator().manual_seed(seed)) * 3 + 2).to(dtype)
    scaler = Standardize()
    Z = scaler.fit_transform(X)
    assert Z.shape == X.shape and Z.dtype == dtype
    atol = 1e-4 if dtype == torch.float32 else 1e-10
    torch.testing.assert_close(Z.mean(dim=0), torch.zeros(shape, dtype=dtype), atol=atol, rtol=0)
    torch.testing.assert_close(Z.std(dim=0, correction=0), torch.ones(shape, dtype=dtype),
                               atol=atol, rtol=atol)
    torch.testing.assert_close(scaler.inverse_transform(Z), X, atol=atol * 10, rtol=atol)


def test_standardize_transform_before_fit() -> None:
    with pytest.raises(ValueError, match=r"Standardize is not fitted yet: call .*fit\(X_train\)"):
        Standardize().transform(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="not fitted"):
        MinMaxScale().inverse_transform(torch.zeros(3, 2))


def test_standardize_wrong_feature_count_names_both() -> None:
    scaler = Standardize().fit(torch.randn(10, 64))
    with pytest.raises(ValueError, match=r"fitted on 64 features .* but X has 32 features"):
        scaler.transform(torch.randn(5, 32))
    message = r"fitted on 64 features .* but X has 64 features \(shape \(1, 8, 8\)\)"
    with pytest.raises(ValueError, match=message):
        scaler.transform(torch.randn(5, 1, 8, 8))


def test_preprocessor_bad_inputs() -> None:
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got ndarray — .*from_numpy"):
        Standardize().fit(np.zeros((3, 2)))
    with pytest.raises(TypeError, match=r"floating-point dtype, got torch.int64 — .*X.float\(\)"):
        Standardize().fit(torch.zeros(3, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"shape \(N, features...\), got shape \(5,\)"):
        Standardize().fit(torch.zeros(5))
    with pytest.raises(ValueError, match="at least one sample"):
        Standardize().fit(torch.zeros(0, 3))


# --- MinMaxScale ---------------------------------------------------------------------------------


def test_minmax_matches_sklearn_and_range() -> None:
    g = torch.Generator().manual_seed(2)
    A = torch.rand(40, 5, generator=g, dtype=torch.float64) * 7 - 3
    B = torch.rand(10, 5, generator=g, dtype=torch.float64) * 20 - 10
    ours = MinMaxScale().fit(A)
    theirs = MinMaxScaler(feature_range=(-1, 1)).fit(A.numpy())
    np.testing.assert_allclose(ours.transform(A).numpy(), theirs.transform(A.numpy()), atol=1e-12)
    np.testing.assert_allclose(ours.transform(B).numpy(), theirs.transform(B.numpy()), atol=1e-12)
    Z = ours.transform(A)
    assert (Z.amin(dim=0) == -1).all() and (Z.amax(dim=0) == 1).all()
    torch.testing.assert_close(ours.inverse_transform(ours.transform(B)), B)
    torch.testing.assert_close(MinMaxScale((0.0, 1.0)).fit_transform(A).amin(dim=0),
                               torch.zeros(5, dtype=A.dtype))


def test_minmax_constant_feature_maps_to_middle() -> None:
    X = torch.tensor([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]])
    scaler = MinMaxScale()
    Z = scaler.fit_transform(X)
    torch.testing.assert_close(Z, torch.tensor([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]))
    torch.testing.assert_close(scaler.inverse_transform(Z), X)


def test_minmax_bad_range() -> None:
    message = r"feature_range must be \(lo, hi\) with lo < hi, got \(1, -1\)"
    with pytest.raises(ValueError, match=message):
        MinMaxScale((1, -1))


# --- loader --------------------------------------------------------------------------------------


def _orders(batches: TensorLoader, epochs: int) -> list[list[int]]:
    return [torch.cat([yb for _, yb in batches]).tolist() for _ in range(epochs)]


def test_loader_is_reproducible_and_covers_every_sample() -> None:
    X, y = torch.arange(100.0).reshape(50, 2), torch.arange(50)
    first = _orders(loader(X, y, batch_size=8, seed=3), 3)
    again = _orders(loader(X, y, batch_size=8, seed=3), 3)
    assert first == again
    assert first[0] != first[1]  # a new order every epoch
    assert first != _orders(loader(X, y, batch_size=8, seed=4), 3)
    assert all(sorted(order) == list(range(50)) for order in first)


def test_loader_batches_keep_pairs_and_sizes() -> None:
    X, y = torch.arange(50.0).reshape(25, 2), torch.arange(25)
    batches = loader(X, y, batch_size=10, shuffle=False)
    assert len(batches) == 3
    sizes = [len(yb) for _, yb in batches]
    assert sizes == [10, 10, 5]
    for Xb, yb in loader(X, y, batch_size=4, seed=0):
        torch.testing.assert_close(Xb[:, 0], 2.0 * yb)
    assert torch.cat([yb for _, yb in batches]).tolist() == list(range(25))


def test_loader_bad_arguments() -> None:
    message = r"same number of samples, got X of shape \(5, 2\) and y of shape \(4,\)"
    with pytest.raises(ValueError, match=message):
        loader(torch.zeros(5, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        loader(torch.zeros(5, 2), torch.zeros(5), batch_size=0)
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got list — .*as_tensor\(X\)"):
        loader([1, 2], torch.zeros(2))
    with pytest.raises(TypeError, match="batch_size must be a positive int, got float 2.0"):
        loader(torch.zeros(5, 2), torch.zeros(5), batch_size=2.0)

"""Tests of dlcourse._validate: wrong type -> TypeError, wrong value -> ValueError, clear text."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from dlcourse._validate import (
    check_callable,
    check_choice,
    check_generator,
    check_int,
    check_interval,
    check_module,
    check_positive_float,
    check_real,
    check_tensor,
)

# --- check_int ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [(3, 3), (0, 0), (np.int64(7), 7), (-2, -2)])
def test_check_int_returns_a_plain_int(value, expected):
    out = check_int("n", value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [2.0, "3", True, None, [1]])
def test_check_int_wrong_type_is_a_type_error(value):
    with pytest.raises(TypeError, match=rf"n must be an int, got {type(value).__name__} "):
        check_int("n", value)


@pytest.mark.parametrize("minimum, value, message", [
    (0, -1, "n must be a non-negative int, got -1"),
    (1, 0, "n must be a positive int, got 0"),
    (3, 2, "n must be an int >= 3, got 2"),
])
def test_check_int_below_min_is_a_value_error(minimum, value, message):
    with pytest.raises(ValueError, match=message):
        check_int("n", value, min=minimum)
    assert check_int("n", minimum, min=minimum) == minimum  # the bound itself is allowed


# --- check_real and check_positive_float ----------------------------------------------------------


def test_check_real_bounds_open_and_closed():
    assert check_real("p", 0, min=0, max=1, max_open=True) == 0.0
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1"):
        check_real("p", 1, min=0, max=1, max_open=True)
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\), got 0"):
        check_real("p", 0, min=0, max=1, min_open=True, max_open=True)
    with pytest.raises(ValueError, match=r"std must be >= 0.0, got -0.5"):
        check_real("std", -0.5, min=0.0)
    with pytest.raises(ValueError, match=r"x must be <= 2, got 3"):
        check_real("x", 3, max=2)


def test_check_real_finite_and_types():
    with pytest.raises(ValueError, match="mean must be finite, got nan"):
        check_real("mean", math.nan)
    assert check_real("val", math.inf, finite=False) == math.inf
    with pytest.raises(ValueError, match="must be >= 0"):  # nan is never inside a range
        check_real("val", math.nan, min=0, finite=False)
    assert type(check_real("x", np.float32(0.5))) is float
    for bad in ("0.1", True, None, torch.tensor(1.0)):
        with pytest.raises(TypeError, match="x must be a real number, got"):
            check_real("x", bad)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan])
def test_check_positive_float_values(bad):
    with pytest.raises(ValueError, match="lr must be positive, got"):
        check_positive_float("lr", bad)


def test_check_positive_float_types_and_result():
    assert check_positive_float("lr", 1) == 1.0
    with pytest.raises(TypeError, match="lr must be a positive number, got str"):
        check_positive_float("lr", "0.1")


# --- choices, callables, intervals ----------------------------------------------------------------


def test_check_choice():
    assert check_choice("kind", "b", ("a", "b")) == "b"
    with pytest.raises(ValueError, match=r"kind='c': use one of 'a', 'b'"):
        check_choice("kind", "c", ("a", "b"))
    with pytest.raises(TypeError, match=r"kind must be one of 'a', 'b', got int 3"):
        check_choice("kind", 3, ("a", "b"))


def test_check_callable():
    assert check_callable("norm", nn.BatchNorm1d, "a callable") is nn.BatchNorm1d
    with pytest.raises(TypeError, match="norm must be a callable width -> module, got str 'batch'"):
        check_callable("norm", "batch", "a callable width -> module")


def test_check_interval():
    assert check_interval("range", [-1, 1]) == (-1.0, 1.0)
    with pytest.raises(ValueError, match=r"range must be \(lo, hi\) with lo < hi, got \(1, 1\)"):
        check_interval("range", (1, 1))
    with pytest.raises(ValueError, match="finite lo and hi"):
        check_interval("range", (0, math.inf))
    for bad in ("ab", (1, 2, 3), ("0", 1), 5):
        with pytest.raises(TypeError, match=r"range must be a pair \(lo, hi\) of numbers"):
            check_interval("range", bad)


# --- torch objects -------------------------------------------------------------------------------


def test_check_tensor_hints_the_conversion():
    t = torch.zeros(2)
    assert check_tensor("X", t) is t
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got ndarray — .*numpy\(X\)"):
        check_tensor("X", np.zeros(2))
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor, got list — .*as_tensor\(X\)"):
        check_tensor("X", [1.0])
    assert check_tensor("X", torch.zeros(2, dtype=torch.int64)).dtype == torch.int64
    with pytest.raises(TypeError, match=r"X must have a floating-point dtype, got torch.int64"):
        check_tensor("X", torch.zeros(2, dtype=torch.int64), floating=True)


def test_check_module_and_generator():
    layer = nn.Linear(2, 2)
    assert check_module("model", layer) is layer
    with pytest.raises(TypeError, match="model must be an nn.Module .*got function"):
        check_module("model", lambda x: x)
    gen = torch.Generator()
    assert check_generator("generator", gen) is gen and check_generator("generator", None) is None
    with pytest.raises(TypeError, match=r"generator must be a torch.Generator or None, got int"):
        check_generator("generator", 0)


def test_long_values_are_shortened_in_messages():
    with pytest.raises(TypeError) as info:
        check_int("n", "x" * 500)
    assert len(str(info.value)) < 150 and "..." in str(info.value)


def test_importing_the_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, dlcourse._validate; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

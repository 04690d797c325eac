r"""Lab 2 — Backpropagation by hand: public tests, and helpers its hidden tests import from here.

Questions (the signatures students implement; every gradient is computed by hand, no autograd):

* q1 ``lecture_gradients(x, y, z) -> (df/dx, df/dy, df/dz)`` for :math:`f = (x + y) z`;
* q2 ``sigmoid_neuron_gradients(w, x, b) -> (dw, dx, db)`` for :math:`\sigma(w \cdot x + b)`;
* q3 ``mul_backward(a, b, upstream)``, ``max_backward(a, b, upstream)`` (input gradients) and
  ``relu_backward(x, upstream)``, elementwise on tensors;
* q4 ``two_layer_gradients(X, y, W1, b1, W2, b2) -> {"W1": ..., "b1": ..., "W2": ..., "b2": ...}``
  of the mean squared error of a ReLU net.

Every answer is compared with PyTorch's autograd (:func:`reference`); a known mistake (a missing
upstream factor, the multiply that does not swap, the ReLU mask left out) is named before the
generic mismatch. See the book: Computational graphs and backpropagation.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from dlcourse.grading import Lab, expect, tensor
from dlcourse.grading.expect import Failure

__all__ = [
    "LAB",
    "check_q1",
    "check_q2",
    "check_q3",
    "check_q4",
    "expect_by_hand",
    "expect_gradients",
    "gate_hints",
    "neuron_hints",
    "q1_hints",
    "reference",
    "torch_sigmoid",
    "two_layer_case",
    "two_layer_hints",
]

LAB = Lab("lab02_backprop", title="Backpropagation by hand")

_AUTOGRAD = re.compile(r"\.backward\(|autograd|requires_grad|\.grad\b")


def expect_by_hand(student: Any, name: str) -> None:
    """Fail when ``name`` lets PyTorch's autograd do the work the question asks for."""
    found = _AUTOGRAD.search(student.source(name))
    if found:
        raise Failure(
            f"{name} uses autograd (`{found.group(0)}`): this question asks for the gradients by "
            "hand, from the chain rule (local gradient × upstream gradient); autograd is what the "
            "checks compare your answer with"
        )


def reference(fn: Callable[..., Any], *values: Any) -> list[np.ndarray]:
    """The gradients of ``fn(*values).sum()`` with respect to each value, by PyTorch (float64)."""
    import torch

    xs = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [np.zeros(x.shape) if x.grad is None else x.grad.numpy() for x in xs]


def expect_gradients(got: Any, want: Any, what: str, hints: dict[str, Any] | None = None) -> None:
    """Fail unless ``got`` equals ``want`` (to 1e-8); name the first known mistake it matches."""
    want_arr = np.asarray(want, dtype=np.float64)
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Failure(f"{what} should be numbers, got {type(got).__name__}") from None
    if got_arr.shape != want_arr.shape:
        raise Failure(
            f"{what} should have shape {want_arr.shape} (the shape of the input it "
            f"belongs to), but has shape {got_arr.shape}"
        )
    if np.allclose(got_arr, want_arr, rtol=1e-8, atol=1e-10):
        return
    for hint, value in (hints or {}).items():
        if np.allclose(got_arr, np.asarray(value, dtype=np.float64), rtol=1e-8, atol=1e-10):
            raise Failure(f"{what} is wrong: {hint}")
    raise Failure(
        f"{what} is {np.round(got_arr, 4).tolist()}; autograd gives "
        f"{np.round(want_arr, 4).tolist()}"
    )


def _as_pair(got: Any, name: str, size: int) -> list:
    expect(
        isinstance(got, list) and len(got) == size,
        f"{name} should return a tuple of {size} gradients, one per input; it returned {got!r}",
    )
    return got


# ---------------------------------------------------------------- q1: (x + y) z


def q1_hints(x: float, y: float, z: float) -> dict[str, dict[str, float]]:
    """Per gradient: the value a known mistake gives -> what to say."""
    return {
        "df/dx": {
            "you returned the local gradient dq/dx = 1 only; multiply it by the upstream "
            "gradient df/dq = z": 1.0
        },
        "df/dz": {"df/dz is the other input of the multiply, q = x + y, not z itself": z},
    }


def check_q1(student: Any, x: float, y: float, z: float) -> None:
    """Compare ``lecture_gradients(x, y, z)`` with autograd, gradient by gradient."""
    got = _as_pair(student.lecture_gradients(x, y, z), "lecture_gradients", 3)
    want = reference(lambda a, b, c: (a + b) * c, x, y, z)
    hints = q1_hints(x, y, z)
    for name, g, w in zip(("df/dx", "df/dy", "df/dz"), got, want):
        expect_gradients(g, w, f"{name} at x={x}, y={y}, z={z}", hints.get(name))


@LAB.test("q1")
def lecture_numbers(student):
    """The lecture's gradients: x + y = 3, z = -4 give -4, -4, 3."""
    check_q1(student, -2.0, 5.0, -4.0)


@LAB.test("q1")
def lecture_other_point(student):
    """Another point of f = (x + y) z."""
    check_q1(student, 1.5, 0.5, 2.0)


# ---------------------------------------------------------------- q2: sigmoid neuron


def neuron_hints(w: np.ndarray, x: np.ndarray, b: float) -> dict[str, dict[str, Any]]:
    """Per returned gradient: a known mistake's value -> what to say."""
    s = 1 / (1 + np.exp(-(w @ x + b)))
    return {
        "dw": {
            "the sigmoid's local gradient σ(z)(1 - σ(z)) is missing (dz/dw_i = x_i is only "
            "the last factor)": x,
            "the sigmoid's local gradient is σ(z)(1 - σ(z)), not σ(z)": s * x,
        },
        "dx": {
            "the multiply w_i·x_i swaps: dz/dx_i = w_i, not x_i": s * (1 - s) * x,
            "the sigmoid's local gradient σ(z)(1 - σ(z)) is missing": w,
        },
        "db": {"the bias adds: its gradient is the upstream gradient σ(z)(1 - σ(z)) times 1": 0.0},
    }


def check_q2(student: Any, w: list, x: list, b: float) -> None:
    """Compare ``sigmoid_neuron_gradients(w, x, b)`` with autograd."""
    got = _as_pair(
        student.sigmoid_neuron_gradients(tensor(w, "float64"), tensor(x, "float64"), b),
        "sigmoid_neuron_gradients",
        3,
    )
    want = reference(lambda w_, x_, b_: torch_sigmoid(w_ @ x_ + b_), w, x, b)
    hints = neuron_hints(np.asarray(w, float), np.asarray(x, float), b)
    for name, g, ref in zip(("dw", "dx", "db"), got, want):
        expect_gradients(g, ref, f"{name} for w={w}, x={x}, b={b}", hints[name])


def torch_sigmoid(z: Any) -> Any:
    """``torch.sigmoid``, imported when first needed."""
    import torch

    return torch.sigmoid(z)


@LAB.test("q2")
def neuron_gradients(student):
    """A two-input neuron: w = (2, -3), x = (-1, -2), b = -3."""
    check_q2(student, [2.0, -3.0], [-1.0, -2.0], -3.0)


@LAB.test("q2")
def neuron_by_hand(student):
    """The gradients come from the chain rule, not from autograd."""
    expect_by_hand(student, "sigmoid_neuron_gradients")


# ---------------------------------------------------------------- q3: gate backward functions


def gate_hints(a: np.ndarray, b: np.ndarray, up: np.ndarray) -> dict[str, dict[str, Any]]:
    """Known wrong input gradients of the three gates -> what to say."""
    return {
        "mul a": {
            "multiply swaps: the gradient of a is upstream × b, not upstream × a": up * a,
            "the upstream gradient is missing: multiply the local gradient b by it": b,
        },
        "max a": {
            "max routes the upstream gradient to the *larger* input, not the smaller": up * (a < b),
            "max routes: the smaller input gets 0, not the upstream gradient too": up,
        },
        "relu": {
            "relu passes the upstream gradient only where x > 0 (elsewhere 0)": up,
            "relu's local gradient is 1 where x > 0 and 0 elsewhere: multiply it by the "
            "upstream gradient": (a > 0).astype(float),
        },
    }


def check_q3(student: Any, a: list, b: list, up: list) -> None:
    """Compare the three backward functions with autograd on the same inputs."""
    import torch

    A, B, U = (np.asarray(v, dtype=np.float64) for v in (a, b, up))
    hints = gate_hints(A, B, U)
    args = [tensor(a, "float64"), tensor(b, "float64"), tensor(up, "float64")]
    for name, fn in (("mul", lambda p, q: p * q), ("max", torch.maximum)):
        got = _as_pair(student.call(f"{name}_backward", *args), f"{name}_backward", 2)
        want = reference(lambda p, q, f=fn: f(p, q) * torch.as_tensor(U), a, b)
        expect_gradients(
            got[0], want[0], f"{name}_backward's gradient of a", hints.get(f"{name} a")
        )
        expect_gradients(got[1], want[1], f"{name}_backward's gradient of b")
    got = student.relu_backward(args[0], args[2])
    want = reference(lambda p: torch.relu(p) * torch.as_tensor(U), a)
    expect_gradients(got, want[0], "relu_backward's gradient of x", hints["relu"])


@LAB.test("q3")
def gates_backward(student):
    """Multiply swaps, max routes, relu masks, each times the upstream gradient."""
    check_q3(student, [3.0, -1.0, 0.5, -2.0], [-1.0, 2.0, 4.0, -3.0], [2.0, -1.5, 1.0, 3.0])


# ---------------------------------------------------------------- q4: a two-layer net


def two_layer_case(n: int, d: int, h: int, c: int, seed: int) -> list[np.ndarray]:
    """``X, y, W1, b1, W2, b2`` drawn from a seeded NumPy generator (float64)."""
    rng = np.random.default_rng(seed)
    shapes = [(n, d), (n, c), (h, d), (h,), (c, h), (c,)]
    return [rng.standard_normal(shape) for shape in shapes]


def _two_layer_loss(X, y, W1, b1, W2, b2):
    out = (X @ W1.T + b1).clamp(min=0) @ W2.T + b2
    return ((out - y) ** 2).mean()


def two_layer_hints(case: list[np.ndarray]) -> dict[str, dict[str, Any]]:
    """Known wrong gradients, per parameter: a mistake's value -> what to say.

    The mean's 1/(N·C) left out (any parameter), the ReLU mask left out (``W1``, ``b1``), one
    row's gradient for a bias (``b1``, ``b2``).
    """
    X, y, W1, b1, W2, b2 = case
    pre = X @ W1.T + b1
    dout = 2 * ((np.maximum(pre, 0) @ W2.T + b2) - y) / y.size
    unmasked, dpre = dout @ W2, (dout @ W2) * (pre > 0)
    mean = (
        "the loss is a mean over all N·C outputs: the gradient of the output carries a "
        "factor 2/(N·C), not 2"
    )
    mask = (
        "the ReLU's mask is missing: the gradient flows back only where the pre-activation is > 0"
    )
    row = "a bias is used by every row of the batch, so its gradient sums the gradients of all rows"
    W2_, b2_ = dout.T @ np.maximum(pre, 0), dout.sum(0)
    return {
        "W2": {mean: W2_ * y.size},
        "b2": {mean: b2_ * y.size, row: dout[0]},
        "W1": {mask: unmasked.T @ X, mean: dpre.T @ X * y.size},
        "b1": {mask: unmasked.sum(0), mean: dpre.sum(0) * y.size, row: dpre[0]},
    }


def check_q4(student: Any, case: list[np.ndarray]) -> None:
    """Compare ``two_layer_gradients`` with autograd on one case."""
    got = student.two_layer_gradients(*[tensor(v, "float64") for v in case])
    expect(
        isinstance(got, dict) and set(got) == {"W1", "b1", "W2", "b2"},
        "two_layer_gradients should return a dict with the keys 'W1', 'b1', 'W2', 'b2'; it "
        f"returned {type(got).__name__} {sorted(got) if isinstance(got, dict) else ''}",
    )
    want = dict(zip(["W1", "b1", "W2", "b2"], reference(_two_layer_loss, *case)[2:]))
    hints = two_layer_hints(case)
    for name in ("W2", "b2", "W1", "b1"):  # the order backprop computes them in
        expect_gradients(got[name], want[name], f"the gradient of {name}", hints.get(name))


@LAB.test("q4")
def two_layer_small(student):
    """A batch of 5, 3 inputs, 4 hidden ReLU units, 2 outputs."""
    check_q4(student, two_layer_case(5, 3, 4, 2, seed=0))


@LAB.test("q4")
def two_layer_by_hand(student):
    """The gradients come from the chain rule, not from autograd."""
    expect_by_hand(student, "two_layer_gradients")

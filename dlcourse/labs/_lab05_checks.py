"""Lab 5's checks: NumPy references, the known mistakes beside them, and the comparisons.

Shared by the public tests (:mod:`dlcourse.labs.lab05_batchnorm`) and the hidden tests of
``solutions/lab05_batchnorm.ipynb``. Each check computes the right answer and the answers of the
plausible mistakes (biased vs unbiased variance, epsilon outside the root, statistics per pixel,
running statistics updated in eval mode, the momentum convention reversed, ...); when a student's
result matches a mistake, the message names it. :func:`forward_stand_in` is the library's answer
to q1, used while later questions are graded. See the book: Batch normalization.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlcourse.grading import expect, tensor
from dlcourse.grading.expect import Failure, fmt
from dlcourse.grading.owncode import find_library_use

__all__ = [
    "BACKWARD_MISTAKES",
    "FORWARD_MISTAKES",
    "FUSE_MISTAKES",
    "STEP_MISTAKES",
    "backward_ref",
    "data",
    "expect_matches",
    "expect_own_code",
    "forward_ref",
    "forward_stand_in",
    "fuse_ref",
    "step_ref",
    "t64",
]

#: What an answer may not call: the layers it is asked to write.
LIBRARIES = ("torch.nn", "dlcourse.nn")


def data(*shape: int, seed: int = 0, scale: float = 3.0, shift: float = 2.0) -> np.ndarray:
    """Float64 test data of ``shape`` with features of different scales (seeded)."""
    rng = np.random.default_rng(seed)
    spread = rng.uniform(0.5, 2.0, size=(1, shape[1]) + (1,) * (len(shape) - 2))
    return rng.standard_normal(shape) * scale * spread + shift


def _axes(x: np.ndarray) -> tuple[int, ...]:
    return (0, *range(2, x.ndim))


def _col(v: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.asarray(v).reshape((1, -1) + (1,) * (x.ndim - 2))


def forward_ref(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5, mistake: str = ""
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, mean, biased var) of training-mode batch norm, or of ``mistake``'s version."""
    axes = (0,) if mistake == "per pixel" else _axes(x)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=1 if mistake == "unbiased" else 0, keepdims=True)
    std = np.sqrt(var) + eps if mistake == "eps outside" else np.sqrt(var + eps)
    g, b = (beta, gamma) if mistake == "gamma beta swapped" else (gamma, beta)
    y = (x - mean) / std * _col(g, x) + _col(b, x)
    return y, mean.reshape(-1), var.reshape(-1)


FORWARD_MISTAKES = {
    "unbiased": "the variance divides by N - 1; batch norm normalizes with the biased batch "
    "variance, (1/N) Σ (x - μ)² (torch.var(..., unbiased=False))",
    "eps outside": "ε is added to the standard deviation; it belongs under the square root, "
    "(x - μ) / √(σ² + ε)",
    "per pixel": "the statistics are per pixel (averaged over the batch only); for an (N, C, H, W) "
    "input they are per channel, averaged over the batch and every position (H, W)",
    "gamma beta swapped": "γ and β are swapped: γ scales the normalized value, β shifts it",
}


def backward_ref(
    dy: np.ndarray, x: np.ndarray, gamma: np.ndarray, eps: float = 1e-5, mistake: str = ""
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dgamma, dbeta) of training-mode batch norm on (N, D), or ``mistake``'s version."""
    m = x.shape[0]
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dgamma, dbeta = (dy * x_hat).sum(axis=0), dy.sum(axis=0)
    if mistake == "direct path only":
        dx = gamma * inv_std * dy
    elif mistake == "no variance path":
        dx = gamma * inv_std / m * (m * dy - dbeta)
    else:
        dx = gamma * inv_std / m * (m * dy - dbeta - x_hat * dgamma)
    if mistake == "dgamma dbeta swapped":
        dgamma, dbeta = dbeta, dgamma
    return dx, dgamma, dbeta


BACKWARD_MISTAKES = {
    "direct path only": "this is only the direct path, γ/√(σ²+ε)·dy; the mean and the variance "
    "depend on every example too, which adds −Σdy/m − x̂·Σ(dy·x̂)/m",
    "no variance path": "the path through the mean is there, the one through the variance is "
    "missing: the term −x̂·Σ(dy·x̂)/m",
    "dgamma dbeta swapped": "dγ and dβ are swapped: dγ = Σ dy·x̂, dβ = Σ dy",
}


def step_ref(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
    mistake: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, new running mean, new running var) of one batch-norm step, or ``mistake``'s."""
    if training or mistake == "batch statistics in eval":
        y, mean, var = forward_ref(x, gamma, beta, eps)
    else:
        y = (x - _col(running_mean, x)) / np.sqrt(_col(running_var, x) + eps) * _col(
            gamma, x
        ) + _col(beta, x)
    if not training and mistake not in ("updated in eval", "batch statistics in eval"):
        return y, running_mean, running_var
    m = x.size // x.shape[1]
    _, mean, var = forward_ref(x, gamma, beta, eps)
    unbiased = var if mistake == "biased running var" else var * m / (m - 1)
    a = 1 - momentum if mistake == "momentum reversed" else momentum
    return y, (1 - a) * running_mean + a * mean, (1 - a) * running_var + a * unbiased


STEP_MISTAKES = {
    "updated in eval": "in eval mode the running statistics changed; they must stay as they are "
    "(only training batches update them)",
    "batch statistics in eval": "in eval mode the output was normalized with the batch's own "
    "statistics; at test time use the running mean and variance",
    "biased running var": "the running variance averages the biased batch variance; PyTorch "
    "averages the unbiased one, m/(m-1)·σ²_B",
    "momentum reversed": "the momentum is used the other way round: the new batch gets the weight "
    "momentum (0.1), the old value 1 - momentum (PyTorch's convention, not "
    "Keras's)",
}


def fuse_ref(
    weight: np.ndarray,
    bias: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float = 1e-5,
    mistake: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """(W', b') of a Linear followed by an eval-mode BN folded into one, or ``mistake``'s."""
    s = gamma / (running_var + eps if mistake == "variance not std" else np.sqrt(running_var + eps))
    mean = 0.0 if mistake == "mean not subtracted" else running_mean
    b = 0.0 if mistake == "layer bias dropped" else bias
    new_bias = b - mean + beta if mistake == "bias not scaled" else s * (b - mean) + beta
    return weight * s[:, None], new_bias


FUSE_MISTAKES = {
    "variance not std": "the scale divides γ by the running variance; it divides by the standard "
    "deviation, s = γ / √(σ² + ε)",
    "mean not subtracted": "the running mean is not subtracted: b' = s·(b − μ) + β",
    "bias not scaled": "the bias is shifted but not scaled: b' = s·(b − μ) + β, with the same s as "
    "the weight",
    "layer bias dropped": "the Linear layer's own bias is lost: b' = s·(b − μ) + β",
}


def _as_list(got: Any, name: str, n: int) -> list[np.ndarray]:
    """The ``n`` arrays a student function returned (a tuple of tensors)."""
    expect(
        isinstance(got, list) and len(got) == n,
        f"{name} should return a tuple of {n} tensors; it returned {type(got).__name__}",
    )
    for i, item in enumerate(got):
        expect(
            isinstance(item, np.ndarray),
            f"{name}'s result {i + 1} should be a tensor, it is a {type(item).__name__}",
        )
    return [np.asarray(item, dtype=np.float64) for item in got]


def expect_matches(
    got: Any,
    name: str,
    what: tuple[str, ...],
    reference: Callable[[str], tuple],
    mistakes: dict[str, str],
    context: str,
) -> None:
    """Compare a student's tuple with ``reference("")``; name a mistake whose result it matches.

    Args:
        got: what the student function returned (plain data).
        name: the function's name, for the message.
        what: a name for each returned tensor (``("y", "mean", "var")``).
        reference: ``reference(mistake)`` gives the expected tuple ("" for the right answer).
        mistakes: mistake -> explanation, tried in order.
        context: the call, in words (``"on a (16, 3) batch"``).
    """
    want = [np.asarray(w, dtype=np.float64).reshape(-1) for w in reference("")]
    arrays = [a.reshape(-1) for a in _as_list(got, name, len(want))]
    if all(_same(g, w) for g, w in zip(arrays, want)):
        return
    for mistake, explanation in mistakes.items():
        wrong = [np.asarray(w, dtype=np.float64).reshape(-1) for w in reference(mistake)]
        if all(_same(g, w) for g, w in zip(arrays, wrong)):
            raise Failure(f"{name} {context}: {explanation}")
    for label, g, w in zip(what, arrays, want):
        expect(
            g.size == w.size,
            f"{name} {context}: {label} should have {w.size} values, it has {g.size}",
        )
    label, g, w = next((lbl, g, w) for lbl, g, w in zip(what, arrays, want) if not _same(g, w))
    diff = np.abs(g - w)
    raise Failure(
        f"{name} {context}: {label} is off, by up to {fmt(float(diff.max()))} "
        f"(expected e.g. {fmt(float(w[diff.argmax()]))}, got "
        f"{fmt(float(g[diff.argmax()]))})"
    )


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    """Equal sizes and values equal to float64 rounding (relative 1e-6)."""
    return got.size == want.size and bool(np.allclose(got, want, rtol=1e-6, atol=1e-8))


def expect_own_code(student: Any, name: str, trusted: Any = ()) -> None:
    """Fail when an answer calls PyTorch's (or the course's) batch norm instead of its own code."""
    for call in find_library_use(student, name, modules=LIBRARIES, trusted=trusted):
        raise Failure(
            f"{name} uses `{call.module}` (line {call.line}, `{call.code}`): the point "
            "of this question is to write the formula yourself with tensor operations "
            "(mean, var, sqrt); compare with torch.nn.BatchNorm1d afterwards"
        )


def t64(values: Any) -> dict:
    """A float64 tensor spec of ``values``."""
    return tensor(values, "float64")


def forward_stand_in(x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> tuple:
    """The library's answer to q1, ``(y, mean, biased var)``, used while later questions run."""
    from dlcourse.nn.batchnorm import BatchNormFunction

    y, mean, var = BatchNormFunction.apply(x, gamma, beta, eps)
    return y, mean, var

"""Lab 1, q4: the lecture's 100-layer experiment with the draws the question fixes; its mistakes.

:func:`reference_stds` computes what a right ``layer_stds`` returns, so tests compare a student's
numbers exactly (to float32 rounding); when they differ, :func:`expect_reference_stds` recomputes
the experiment with each known mistake (:data:`Q4_MISTAKES`) and names the one that matches. See the
book: Weight initialization.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from dlcourse.grading import expect
from dlcourse.grading.expect import Failure, fmt

__all__ = ["Q4_MISTAKES", "expect_reference_stds", "layer_stds_of", "reference_stds"]

Q4_MISTAKES = {
    "reused": "one weight matrix is reused for every layer: draw a fresh one for each layer",
    "pre": "these are the stds before the activation: record x after x = f(a @ x)",
    "no_activation": "the activation is not applied: x = f(a @ x) after every layer",
    "input_first": "the first std is that of the input x: record one std after each layer",
    "input_only": "every std is that of the input x: record the std of x after each layer",
    "population": "use x.std(), PyTorch's default (dividing by width - 1), not the population std",
    "float64": "the draws are float64: work in float32, PyTorch's default (no dtype= in randn)",
}


def reference_stds(
    weight_std: float,
    activation: str = "none",
    depth: int = 100,
    width: int = 512,
    seed: int = 0,
    mistake: str | None = None,
) -> list[float]:
    """The stds q4's draw order gives, or those of a known ``mistake`` (a key of ``Q4_MISTAKES``).

    The question fixes the draws: ``g = torch.Generator().manual_seed(seed)``, then
    ``x = torch.randn(width, generator=g)``, then per layer ``a = torch.randn(width, width,
    generator=g) * weight_std`` and ``x = f(a @ x)``, recording ``x.std().item()``. Computed once
    per set of arguments in a process: the grader compares every submission with the same ones.
    """
    return list(_reference_stds(weight_std, activation, depth, width, seed, mistake))


@functools.lru_cache(maxsize=64)
def _reference_stds(
    weight_std: float, activation: str, depth: int, width: int, seed: int, mistake: str | None
) -> tuple[float, ...]:
    import torch

    f = {"none": lambda t: t, "tanh": torch.tanh, "relu": torch.relu}[activation]
    f = (lambda t: t) if mistake == "no_activation" else f
    dtype = torch.float64 if mistake == "float64" else torch.float32
    g = torch.Generator().manual_seed(seed)
    x0 = x = torch.randn(width, generator=g, dtype=dtype)
    stds = [x.std().item()] if mistake == "input_first" else []
    a = None
    while len(stds) < depth:
        if a is None or mistake != "reused":
            a = torch.randn(width, width, generator=g, dtype=dtype) * weight_std
        pre = a @ x
        x = f(pre)
        seen = pre if mistake == "pre" else x0 if mistake == "input_only" else x
        stds.append(seen.std(correction=0 if mistake == "population" else 1).item())
    return tuple(stds)


def layer_stds_of(student: Any, weight_std: float, activation: str, **kwargs: Any) -> list[float]:
    """Run the student's experiment and check the result's form: ``depth`` plain numbers."""
    stds = student.layer_stds(weight_std, activation, **kwargs)
    depth = kwargs.get("depth", 100)
    if isinstance(stds, np.ndarray):
        stds = stds.tolist()
    n = len(stds) if hasattr(stds, "__len__") else "?"
    expect(
        isinstance(stds, list) and len(stds) == depth,
        f"layer_stds(depth={depth}) should return a list of {depth} numbers, the std of x after "
        f"each layer; got {type(stds).__name__} of length {n}",
    )
    expect(
        all(isinstance(s, (int, float)) for s in stds),
        "layer_stds should return plain numbers: use .item() on 0-d tensors",
    )
    return [float(s) for s in stds]


def _same(got: list[float], want: list[float]) -> bool:
    return bool(np.allclose(got, want, rtol=2e-4, atol=0.0, equal_nan=True))


def expect_reference_stds(
    student: Any, weight_std: float, activation: str, depth: int, width: int, seed: int
) -> None:
    """Compare the student's stds with the question's draws, naming a recognized mistake."""
    args: dict[str, Any] = dict(depth=depth, width=width, seed=seed)
    got = layer_stds_of(student, weight_std, activation, **args)
    want = reference_stds(weight_std, activation, **args)
    if _same(got, want):
        return
    call = (
        f"layer_stds({fmt(weight_std)}, {activation!r}, depth={depth}, width={width}, seed={seed})"
    )
    for mistake, hint in Q4_MISTAKES.items():
        if _same(got, reference_stds(weight_std, activation, mistake=mistake, **args)):
            raise Failure(f"{call}: {hint}")
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if not _same([a], [b])), 0)
    raise Failure(
        f"{call}: the std after layer {i + 1} is {fmt(got[i])}; the question's draws give "
        f"{fmt(want[i])}. Seed one torch.Generator with `seed`, draw x = torch.randn(width) and "
        "then each layer's torch.randn(width, width) from it, in that order, scale by weight_std, "
        "and apply the activation"
    )

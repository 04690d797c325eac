"""Lab 6 — Regularization: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement):

* q1 ``inverted_dropout(x, p, training=True, generator=None)``: PyTorch's form, ``p`` the *drop*
  probability, scaled by ``1 / (1 - p)`` while training, the identity otherwise;
* q2 ``classic_dropout(x, keep_prob, training=True, generator=None)``: the lectures' form, no
  scaling while training, multiplied by ``keep_prob`` at test time;
* q3 ``l2_penalty(params, weight_decay)``: ``weight_decay / 2`` times the sum of squared *weights*
  of a ``{name: tensor}`` dict such as ``dict(model.named_parameters())``, biases left out;
* q4 ``early_stopping(valid_losses, snapshots, patience)``: the epochs a patience lets run and the
  weights to restore, those of the best epoch.

The checks do not fix how a mask is drawn: any ``Bernoulli`` mask from the given generator
passes. They look at what a mask leaves (zeros and scaled copies of the input), at the share it
drops, at eval mode and at reproducibility. Messages name the likely mistake (``p`` read as the
keep probability, a scale by ``p`` instead of ``1 - p``, biases in the penalty, the last epoch's
weights restored), never the code. See the book: Regularization.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dlcourse.grading import Lab, expect, expect_array, tensor
from dlcourse.grading.expect import Failure, fmt
from dlcourse.labs._lab06_checks import (
    dropout_sample,
    expect_drop_share,
    expect_eval,
    expect_kept_values,
    expect_reproducible,
)

__all__ = [
    "LAB",
    "PARAMS",
    "dropout_sample",
    "expect_drop_share",
    "expect_eval",
    "expect_kept_values",
    "expect_penalty",
    "expect_reproducible",
    "expect_stopping",
    "params_spec",
    "reference_penalty",
    "reference_stopping",
    "snapshots_spec",
]

LAB = Lab("lab06_regularization", title="Regularization")

# ---------------------------------------------------------------- q3: the L2 penalty

PARAMS = {"0.weight": (8, 5), "0.bias": (8,), "2.weight": (3, 8), "2.bias": (3,)}


def params_spec(shapes: dict[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    """Seeded values for named parameters (a ``named_parameters`` dict), as plain arrays."""
    rng = np.random.default_rng(seed)
    return {
        name: rng.normal(0.0, 1.0, size=shape).astype(np.float32) for name, shape in shapes.items()
    }


def reference_penalty(values: dict[str, np.ndarray], weight_decay: float) -> dict[str, float]:
    """The right penalty and what common mistakes give instead."""
    weights = [v for k, v in values.items() if not k.endswith("bias")]
    sq_w = sum(float((v.astype(np.float64) ** 2).sum()) for v in weights)
    sq_all = sum(float((v.astype(np.float64) ** 2).sum()) for v in values.values())
    abs_w = sum(float(np.abs(v.astype(np.float64)).sum()) for v in weights)
    return {
        "right": 0.5 * weight_decay * sq_w,
        "biases included": 0.5 * weight_decay * sq_all,
        "no 1/2": weight_decay * sq_w,
        "L1": weight_decay * abs_w,
        "L1 halved": 0.5 * weight_decay * abs_w,
        "no weight_decay": 0.5 * sq_w,
    }


PENALTY_HINTS = {
    "biases included": "the biases are penalized too: a penalty covers the weights only (names "
    "ending in 'weight'), not the biases",
    "no 1/2": "it is twice the expected value: the L2 penalty is λ/2 · Σ w², whose gradient is λ·w",
    "L1": "that is λ · Σ |w|, the L1 penalty: L2 sums the squares",
    "L1 halved": "that is λ/2 · Σ |w|, half the L1 penalty: L2 sums the squares",
    "no weight_decay": "weight_decay is not applied",
}


def expect_penalty(
    student: Any, shapes: dict[str, tuple[int, ...]], weight_decay: float, seed: int
) -> None:
    """``l2_penalty`` on seeded parameters equals λ/2 Σ w² over the weights, with a hint if not."""
    values = params_spec(shapes, seed)
    got = student.l2_penalty({k: tensor(v) for k, v in values.items()}, weight_decay)
    if isinstance(got, np.ndarray) and got.size == 1:
        got = float(got.reshape(()))
    expect(isinstance(got, (int, float)), f"l2_penalty should return a scalar, got {got!r}")
    ref = reference_penalty(values, weight_decay)
    if math.isclose(got, ref["right"], rel_tol=1e-4, abs_tol=1e-7):
        return
    hint = next(
        (
            PENALTY_HINTS[k]
            for k, v in ref.items()
            if k in PENALTY_HINTS and math.isclose(got, v, rel_tol=1e-4)
        ),
        "",
    )
    raise Failure(
        f"l2_penalty(params, weight_decay={weight_decay}) with parameters {sorted(shapes)} is "
        f"{fmt(got)}; expected {fmt(ref['right'])}" + (f" — {hint}" if hint else "")
    )


# ---------------------------------------------------------------- q4: early stopping


def reference_stopping(losses: list[float], patience: int) -> tuple[int, int]:
    """(epochs run, best epoch), 1-based: stop after ``patience`` epochs without a new minimum."""
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(losses, start=1):
        if loss < best:
            best, best_epoch, wait = loss, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(losses), best_epoch


def snapshots_spec(n: int) -> list[dict]:
    """One weight snapshot per epoch; snapshot ``e`` (1-based) holds the value ``e`` everywhere."""
    return [tensor(np.full((2, 3), float(e), dtype=np.float32)) for e in range(1, n + 1)]


def expect_stopping(student: Any, losses: list[float], patience: int) -> None:
    """Epochs run and restored snapshot agree with :func:`reference_stopping`."""
    got = student.early_stopping(losses, snapshots_spec(len(losses)), patience)
    expect(
        isinstance(got, list) and len(got) == 2,
        f"early_stopping should return (epochs_run, restored_weights); it returned {got!r}",
    )
    epochs_run, restored = got
    want_run, best = reference_stopping(losses, patience)
    curve = ", ".join(fmt(v, 3) for v in losses)
    expect(
        epochs_run == want_run,
        f"with validation losses [{curve}] and patience {patience}, training should stop after "
        f"epoch {want_run}, but early_stopping says {epochs_run!r}: stop once {patience} epochs "
        "in a row have not improved on the best loss so far (a tie is no improvement)",
    )
    restored = expect_array(restored, "the restored weights", (2, 3))
    epoch = float(restored.flat[0])
    hint = ""
    if epoch == want_run:
        hint = " — those are the last epoch's weights; early stopping restores the best epoch's"
    elif epoch in (best - 1, best + 1):
        hint = " — one epoch off: epochs count from 1, list indices from 0"
    expect(
        bool(np.all(restored == best)),
        f"with validation losses [{curve}] and patience {patience}, the weights to restore are "
        f"those of epoch {best} (the lowest validation loss), but early_stopping returned the "
        f"snapshot of epoch {fmt(epoch)}{hint}",
    )


# ---------------------------------------------------------------- the public tests


@LAB.test("q1")
def inverted_scales_kept_units(student):
    expect_kept_values(student, "inverted_dropout", 0.25)


@LAB.test("q1")
def inverted_drops_share_p(student):
    expect_drop_share(student, "inverted_dropout", 0.2)


@LAB.test("q1")
def inverted_identity_in_eval(student):
    expect_eval(student, "inverted_dropout", 0.4)


@LAB.test("q1")
def inverted_reproducible(student):
    expect_reproducible(student, "inverted_dropout", 0.5)


@LAB.test("q2")
def classic_keeps_values_unscaled(student):
    expect_kept_values(student, "classic_dropout", 0.75)


@LAB.test("q2")
def classic_keeps_share_keep_prob(student):
    expect_drop_share(student, "classic_dropout", 0.8)


@LAB.test("q2")
def classic_scales_in_eval(student):
    expect_eval(student, "classic_dropout", 0.6)


@LAB.test("q2")
def classic_reproducible(student):
    expect_reproducible(student, "classic_dropout", 0.5)


@LAB.test("q3")
def penalty_of_a_small_mlp(student):
    expect_penalty(student, PARAMS, 0.1, seed=0)


@LAB.test("q3")
def penalty_scales_with_weight_decay(student):
    expect_penalty(student, PARAMS, 0.003, seed=1)


@LAB.test("q4")
def stops_after_patience(student):
    expect_stopping(student, [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9, 0.65], patience=3)


@LAB.test("q4")
def runs_to_the_end_without_a_plateau(student):
    expect_stopping(student, [0.9, 0.8, 0.85, 0.7, 0.6, 0.62, 0.5], patience=2)

"""Lab 5 — Batch normalization: public tests, and the helpers its hidden tests import from here.

Questions (the signatures students implement; tensors in and out):

* q1 ``batch_norm_forward(x, gamma, beta, eps=1e-5) -> (y, mean, var)``: training mode, per
  feature for (N, D), per channel for (N, C, H, W), with the biased batch variance;
* q2 ``batch_norm_backward(dy, x, gamma, eps=1e-5) -> (dx, dgamma, dbeta)`` for (N, D);
* q3 ``batch_norm_step(x, gamma, beta, running_mean, running_var, training, momentum=0.1,
  eps=1e-5) -> (y, running_mean, running_var)``: one step of a layer, train or eval;
* q4 ``fuse_linear_bn(weight, bias, running_mean, running_var, gamma, beta, eps=1e-5) ->
  (weight, bias)``: fold an eval-mode batch norm into the Linear layer before it.

Messages name the mistake when an answer matches a known one
(``dlcourse.labs._lab05_checks``). See the book: Batch normalization.
"""

from __future__ import annotations

import numpy as np

from dlcourse.grading import Lab
from dlcourse.labs._lab05_checks import (
    BACKWARD_MISTAKES,
    FORWARD_MISTAKES,
    FUSE_MISTAKES,
    STEP_MISTAKES,
    backward_ref,
    data,
    expect_matches,
    expect_own_code,
    forward_ref,
    fuse_ref,
    step_ref,
    t64,
)

__all__ = ["LAB", "check_backward", "check_forward", "check_fuse", "check_step"]

LAB = Lab("lab05_batchnorm", title="Batch normalization")
LAB.share("q1", batch_norm_forward="dlcourse.labs._lab05_checks:forward_stand_in")


def check_forward(student, x: np.ndarray, seed: int = 0, eps: float = 1e-5) -> None:
    """q1 on ``x`` with random gamma, beta: compare (y, mean, var) with the formula."""
    rng = np.random.default_rng(seed)
    c = x.shape[1]
    gamma, beta = np.asarray(rng.uniform(0.5, 2, c)), np.asarray(rng.standard_normal(c))
    got = student.batch_norm_forward(t64(x), t64(gamma), t64(beta), eps=eps)
    expect_matches(
        got,
        "batch_norm_forward",
        ("y", "mean", "var"),
        lambda m: forward_ref(x, gamma, beta, eps, m),
        FORWARD_MISTAKES,
        f"on a batch of shape {x.shape}",
    )


def check_backward(student, n: int, d: int, seed: int = 0) -> None:
    """q2 on an (n, d) batch: compare (dx, dgamma, dbeta) with the compact formula."""
    rng = np.random.default_rng(seed + 100)
    x, dy = data(n, d, seed=seed), rng.standard_normal((n, d))
    gamma = np.asarray(rng.uniform(0.5, 2, d))
    got = student.batch_norm_backward(t64(dy), t64(x), t64(gamma))
    expect_matches(
        got,
        "batch_norm_backward",
        ("dx", "dgamma", "dbeta"),
        lambda m: backward_ref(dy, x, gamma, 1e-5, m),
        BACKWARD_MISTAKES,
        f"on a batch of shape {(n, d)}",
    )


def check_step(
    student, x: np.ndarray, training: bool, momentum: float = 0.1, seed: int = 0
) -> None:
    """q3 in training or eval mode: compare (y, running mean, running var)."""
    rng = np.random.default_rng(seed + 200)
    c = x.shape[1]
    gamma, beta = np.asarray(rng.uniform(0.5, 2, c)), np.asarray(rng.standard_normal(c))
    r_mean, r_var = np.asarray(rng.standard_normal(c)), np.asarray(rng.uniform(0.5, 3, c))
    got = student.batch_norm_step(
        t64(x), t64(gamma), t64(beta), t64(r_mean), t64(r_var), training, momentum=momentum
    )
    mode = "training" if training else "eval"
    expect_matches(
        got,
        "batch_norm_step",
        ("y", "running_mean", "running_var"),
        lambda m: step_ref(x, gamma, beta, r_mean, r_var, training, momentum, 1e-5, m),
        STEP_MISTAKES,
        f"in {mode} mode on a batch of shape {x.shape} (momentum={momentum})",
    )


def check_fuse(student, n_in: int, n_out: int, seed: int = 0) -> None:
    """q4 on a random Linear(n_in, n_out) and eval-mode statistics: compare (W', b')."""
    rng = np.random.default_rng(seed + 300)
    weight, bias = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    mean, var = rng.standard_normal(n_out), np.asarray(rng.uniform(0.2, 4, n_out))
    gamma, beta = np.asarray(rng.uniform(0.5, 2, n_out)), rng.standard_normal(n_out)
    got = student.fuse_linear_bn(t64(weight), t64(bias), t64(mean), t64(var), t64(gamma), t64(beta))
    expect_matches(
        got,
        "fuse_linear_bn",
        ("weight", "bias"),
        lambda m: fuse_ref(weight, bias, mean, var, gamma, beta, 1e-5, m),
        FUSE_MISTAKES,
        f"for a Linear({n_in}, {n_out})",
    )


# ---------------------------------------------------------------- q1: forward


@LAB.test("q1")
def forward_per_feature(student):
    """Training mode on an (N, D) batch: y, the batch mean and the biased batch variance."""
    check_forward(student, data(16, 3, seed=1), seed=1)


@LAB.test("q1")
def forward_per_channel(student):
    """On an (N, C, H, W) batch the statistics are per channel."""
    check_forward(student, data(4, 3, 5, 5, seed=2), seed=2)


@LAB.test("q1")
def forward_is_own_code(student):
    """The answer computes batch norm itself."""
    expect_own_code(student, "batch_norm_forward", trusted=LAB.stand_ins)


# ---------------------------------------------------------------- q2: backward


@LAB.test("q2")
def backward_small_batch(student):
    """dx, dgamma, dbeta of a batch of 8 with 4 features."""
    check_backward(student, 8, 4, seed=3)


@LAB.test("q2")
def backward_is_own_code(student):
    """The answer computes the gradients itself."""
    expect_own_code(student, "batch_norm_backward", trusted=LAB.stand_ins)


# ---------------------------------------------------------------- q3: train and eval


@LAB.test("q3")
def step_in_training_mode(student):
    """Training mode: batch statistics, and the running averages updated with momentum."""
    check_step(student, data(10, 3, seed=4), training=True, seed=4)


@LAB.test("q3")
def step_in_eval_mode(student):
    """Eval mode: running statistics, left unchanged."""
    check_step(student, data(6, 3, seed=5), training=False, seed=5)


# ---------------------------------------------------------------- q4: folding


@LAB.test("q4")
def fuse_linear(student):
    """The folded weight and bias of a Linear(5, 3) followed by batch norm."""
    check_fuse(student, 5, 3, seed=6)


@LAB.test("q4")
def fuse_is_own_code(student):
    """The answer folds the layers itself."""
    expect_own_code(student, "fuse_linear_bn", trusted=LAB.stand_ins)

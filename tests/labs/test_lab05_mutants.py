"""Lab 5's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong (the eval-mode pitfalls among them: running statistics updated in eval, batch statistics used
in eval, the biased variance averaged, the momentum convention reversed). All are graded together
through ``dlcourse grade``; each must lose exactly its question, with a message that names the
mistake (the phrase in the table). ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab05_batchnorm"
QUESTIONS = ["q1", "q2", "q3", "q4"]

X_HAT = "x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)"
DX = "dx = gamma * inv_std / m * (m * dy - dbeta - x_hat * dgamma)"
EVAL_RETURN = "return gamma.view(shape) * x_hat + beta.view(shape), running_mean, running_var"
EVAL_BLOCK = (
    "    if not training:\n"
    "        x_hat = (x - running_mean.view(shape)) / torch.sqrt(running_var.view(shape) + eps)\n"
    f"        {EVAL_RETURN}\n"
)
EVAL_UPDATES = (
    "y_eval = gamma.view(shape) * x_hat + beta.view(shape)\n"
    "        _, mean, var = batch_norm_forward(x, gamma, beta, eps)\n"
    "        m = x.numel() // x.shape[1]\n"
    "        running_mean = (1 - momentum) * running_mean + momentum * mean\n"
    "        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)\n"
    "        return y_eval, running_mean, running_var"
)
FUSED_BIAS = "s * (bias - running_mean) + beta"

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "unbiased batch variance": (
        "q1",
        [("unbiased=False", "unbiased=True")],
        "biased batch variance",
    ),
    "epsilon outside the square root": (
        "q1",
        [("torch.sqrt(var.view(shape) + eps)", "(torch.sqrt(var.view(shape)) + eps)")],
        "under the square root",
    ),
    "statistics per pixel": (
        "q1",
        [
            ("dims = [0] + list(range(2, x.dim()))", "dims = [0]"),
            (X_HAT, "x_hat = (x - mean) / torch.sqrt(var + eps)"),
        ],
        "per channel",
    ),
    "gamma and beta swapped": (
        "q1",
        [
            (
                "y = gamma.view(shape) * x_hat + beta.view(shape)",
                "y = beta.view(shape) * x_hat + gamma.view(shape)",
            )
        ],
        "swapped",
    ),
    "PyTorch's batch_norm": (
        "q1",
        [
            (
                "    ### BEGIN SOLUTION\n",
                "    ### BEGIN SOLUTION\n    import torch.nn.functional as F\n"
                "    y = F.batch_norm(x, None, None, gamma, beta, True, 0.0, eps)\n",
            )
        ],
        "uses `torch.nn",
    ),
    "backward: direct path only": (
        "q2",
        [(DX, "dx = gamma * inv_std * dy")],
        "only the direct path",
    ),
    "backward: no path through the variance": (
        "q2",
        [(DX, "dx = gamma * inv_std / m * (m * dy - dbeta)")],
        "through the variance",
    ),
    "dgamma and dbeta swapped": (
        "q2",
        [("return dx, dgamma, dbeta", "return dx, dbeta, dgamma")],
        "swapped",
    ),
    "running statistics updated in eval mode": (
        "q3",
        [(EVAL_RETURN, EVAL_UPDATES)],
        "in eval mode the running statistics changed",
    ),
    "training flag ignored (batch statistics in eval)": (
        "q3",
        [(EVAL_BLOCK, "")],
        "normalized with the batch's own statistics",
    ),
    "biased variance in the running average": (
        "q3",
        [("unbiased = var * m / (m - 1)", "unbiased = var")],
        "averages the biased",
    ),
    "momentum convention reversed (Keras's)": (
        "q3",
        [
            (
                "(1 - momentum) * running_mean + momentum * mean",
                "momentum * running_mean + (1 - momentum) * mean",
            ),
            (
                "(1 - momentum) * running_var + momentum * unbiased",
                "momentum * running_var + (1 - momentum) * unbiased",
            ),
        ],
        "other way round",
    ),
    "fuse: divided by the variance": (
        "q4",
        [("torch.sqrt(running_var + eps)", "(running_var + eps)")],
        "standard deviation",
    ),
    "fuse: running mean not subtracted": (
        "q4",
        [(FUSED_BIAS, "s * bias + beta")],
        "running mean is not subtracted",
    ),
    "fuse: bias not scaled": (
        "q4",
        [(FUSED_BIAS, "bias - running_mean + beta")],
        "shifted but not scaled",
    ),
}


(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

"""Lab 2's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get a
gradient wrong. All are graded together through ``dlcourse grade``; each must lose exactly its
question, and the grader's message must name the mistake (the phrase in the table).
``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab02_backprop"
QUESTIONS = ["q1", "q2", "q3", "q4"]

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "local gradient without the upstream": (
        "q1",
        [("df_dx = df_dq * 1.0", "df_dx = 1.0")],
        "multiply it by the upstream",
    ),
    "df/dz taken as z": ("q1", [("df_dz = q", "df_dz = z")], "the other input of the multiply"),
    "sigmoid's local gradient missing": (
        "q2",
        [("ds_dz = s * (1 - s)", "ds_dz = 1.0")],
        "local gradient σ(z)(1 - σ(z)) is missing",
    ),
    "sigmoid's local gradient taken as sigma": (
        "q2",
        [("ds_dz = s * (1 - s)", "ds_dz = s")],
        "not σ(z)",
    ),
    "dx without the swap": ("q2", [("dx = ds_dz * w", "dx = ds_dz * x")], "swaps"),
    "bias gradient zero": ("q2", [("db = ds_dz ", "db = 0.0 ")], "the bias adds"),
    "autograd in the neuron": (
        "q2",
        [
            (
                "    s = torch.sigmoid(w @ x + b)\n",
                "    w = w.clone().requires_grad_(True)\n    s = torch.sigmoid(w @ x + b)\n",
            )
        ],
        "by hand",
    ),
    "multiply without the swap": (
        "q3",
        [("return upstream * b, upstream * a", "return upstream * a, upstream * b")],
        "multiply swaps",
    ),
    "max routed to the smaller": ("q3", [("a_wins = (a > b)", "a_wins = (a < b)")], "*larger*"),
    "relu passes everything": (
        "q3",
        [("return upstream * (x > 0).to(upstream.dtype)", "return upstream")],
        "only where x > 0",
    ),
    "ReLU mask forgotten": (
        "q4",
        [("d_pre = (d_y_hat @ W2) * (pre > 0)", "d_pre = d_y_hat @ W2")],
        "ReLU's mask",
    ),
    "the mean's 1/(N C) forgotten": (
        "q4",
        [("d_y_hat = 2 * (y_hat - y) / y.numel()", "d_y_hat = 2 * (y_hat - y)")],
        "a mean over all N·C outputs",
    ),
    "bias gradient of one row": (
        "q4",
        [("db2 = d_y_hat.sum(dim=0)", "db2 = d_y_hat[0]")],
        "its gradient sums",
    ),
    "W2 gradient transposed": (
        "q4",
        [("dW2 = d_y_hat.T @ H", "dW2 = H.T @ d_y_hat")],
        "should have shape",
    ),
}

(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

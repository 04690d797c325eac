"""Lab 4's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong. All are graded together through ``dlcourse grade`` (a module-scoped fixture); each must lose
exactly its question, and the grader's message must name the mistake in terms the student can act
on (the phrase in the table). ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab04_preprocessing"
QUESTIONS = ["q1", "q2", "q3", "q4"]

Q1_STD = "std = X_train.std(dim=0, correction=0)"
Q1_RETURN = "return tuple((X - mean) / (std + eps) for X in (X_train, X_valid, X_test))"
Q3_COV = "cov = Xc.T @ Xc / (len(X_train) - 1)"
Q4_Z = "Z = (X - mean) @ components.T / torch.sqrt(variances + eps)"

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "unbiased std (torch.std's default)": (
        "q1",
        [(Q1_STD, "std = X_train.std(dim=0)")],
        "unbiased",
    ),
    "each split standardized with its own statistics": (
        "q1",
        [
            (
                Q1_RETURN,
                "return tuple((X - X.mean(dim=0)) / (X.std(dim=0, correction=0) + eps)\n"
                "                 for X in (X_train, X_valid, X_test))",
            )
        ],
        "its own statistics",
    ),
    "statistics of all splits combined": (
        "q1",
        [
            (
                "mean = X_train.mean(dim=0)",
                "X_all = torch.cat([X_train, X_valid, X_test])\n    mean = X_all.mean(dim=0)",
            ),
            (Q1_STD, "std = X_all.std(dim=0, correction=0)"),
        ],
        "all splits combined",
    ),
    "eps missing": ("q1", [("/ (std + eps)", "/ std")], "eps is missing"),
    "eps hard-coded": ("q1", [("/ (std + eps)", "/ (std + 1e-8)")], "not the eps passed in"),
    "one mean and std for all features": (
        "q1",
        [
            ("mean = X_train.mean(dim=0)", "mean = X_train.mean()"),
            (Q1_STD, "std = X_train.std(correction=0)"),
        ],
        "one per feature",
    ),
    "the mean image instead of per-channel statistics": (
        "q2",
        [("dims = (0, 2, 3)", "dims = 0")],
        "the mean image",
    ),
    "per-image statistics": ("q2", [("dims = (0, 2, 3)", "dims = (2, 3)")], "every image"),
    "unbiased per-channel std": (
        "q2",
        [("images.std(dim=dims, correction=0)", "images.std(dim=dims)")],
        "unbiased",
    ),
    "biased covariance (divides by N)": (
        "q3",
        [(Q3_COV, "cov = Xc.T @ Xc / len(X_train)")],
        "divide by N - 1",
    ),
    "smallest eigenvalues (eigh's ascending order)": (
        "q3",
        [("order = torch.argsort(values, descending=True)[:k]", "order = torch.arange(k)")],
        "ascending order",
    ),
    "eigenvectors as columns": (
        "q3",
        [
            (
                "return mean, vectors[:, order].T, values[order]",
                "return mean, vectors[:, order], values[order]",
            )
        ],
        "as columns",
    ),
    "no centring before the covariance": (
        "q3",
        [("cov = Xc.T @ Xc", "cov = X_train.T @ X_train")],
        "without subtracting the mean",
    ),
    "whitening without eps": (
        "q4",
        [(Q4_Z, "Z = (X - mean) @ components.T / torch.sqrt(variances)")],
        "eps is missing",
    ),
    "divided by the variances": (
        "q4",
        [(Q4_Z, "Z = (X - mean) @ components.T / (variances + eps)")],
        "square roots",
    ),
    "ZCA not rotated back": (
        "q4",
        [("return Z @ components if zca else Z", "return Z")],
        "rotate the whitened components back",
    ),
    "mean not subtracted": (
        "q4",
        [(Q4_Z, "Z = X @ components.T / torch.sqrt(variances + eps)")],
        "mean was not subtracted",
    ),
}


(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

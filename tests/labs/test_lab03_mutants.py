"""Lab 3's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong. All are graded together through ``dlcourse grade``; each must lose exactly its question,
and the grader's message must name the mistake (the phrase in the table). ``pytest -s`` prints
the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab03_activations"
QUESTIONS = ["q1", "q2", "q3", "q4"]
SLOPE_CHECK = (
    "    if not 0.0 <= negative_slope < 1.0:\n"
    '        raise ValueError(f"negative_slope must be in [0, 1), got {negative_slope}")\n'
    "    return torch.where(x > 0, x, negative_slope * x)"
)

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "sigmoid with exp(x)": (
        "q1",
        [("return 1.0 / (1.0 + torch.exp(-x))", "return 1.0 / (1.0 + torch.exp(x))")],
        "sign of the exponent",
    ),
    "sigmoid' as s(1 + s)": (
        "q1",
        [("return s * (1.0 - s)", "return s * (1.0 + s)")],
        "σ(x)(1 + σ(x))",
    ),
    "tanh' without the square": (
        "q1",
        [("return 1.0 - t * t", "return 1.0 - t")],
        "square is missing",
    ),
    "leaky slope on the wrong side": (
        "q2",
        [
            (
                "return torch.where(x > 0, x, negative_slope * x)",
                "return torch.where(x > 0, negative_slope * x, x)",
            )
        ],
        "wrong side",
    ),
    "leaky derivative is ReLU's": (
        "q2",
        [("torch.full_like(x, negative_slope))", "torch.zeros_like(x))")],
        "that is ReLU's",
    ),
    "slope not validated": (
        "q2",
        [(SLOPE_CHECK, "    return torch.where(x > 0, x, negative_slope * x)")],
        "should raise ValueError",
    ),
    "ELU without the -1": (
        "q3",
        [
            (
                "alpha * (torch.exp(torch.clamp(x, max=0.0)) - 1.0)",
                "alpha * torch.exp(torch.clamp(x, max=0.0))",
            )
        ],
        "the −1 is missing",
    ),
    "ELU derivative without alpha": (
        "q3",
        [("torch.ones_like(x), alpha * torch.exp(", "torch.ones_like(x), torch.exp(")],
        "alpha is missing",
    ),
    "dead on some example, not all": (
        "q4",
        [("(z <= 0).all(dim=0)", "(z <= 0).any(dim=0)")],
        "inactive on *every* example",
    ),
    "one minibatch only": (
        "q4",
        [("h, counts = X, []", "h, counts = X[:32], []")],
        "first 32 examples",
    ),
    "no ReLU between layers": (
        "q4",
        [("h = torch.relu(z)", "h = z")],
        "apply the ReLU between layers",
    ),
    "strictly negative only": ("q4", [("(z <= 0).all(dim=0)", "(z < 0).all(dim=0)")], "use <= 0"),
}

(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

"""Lab 9's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong; each must lose exactly its question, and the grader's message must name the mistake (the
phrase in the table). ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab09_schedules"
QUESTIONS = ["q1", "q2", "q3", "q4"]

WARMUP = (
    "        return low + (max_lr - low) * f, max_momentum + (base_momentum - max_momentum) * f"
)
FINAL = "    return low + (floor - low) * f, max_momentum"
COOLDOWN = "        if cooling > 0:\n            cooling -= 1\n            bad = 0\n"

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "milestone counted one step late": (
        "q1",
        [("if t >= m", "if t > m")],
        "at t = 50 (a milestone)",
    ),
    "gamma once for any number of milestones": (
        "q1",
        [("return lr0 * gamma**reached", "return lr0 * gamma ** min(reached, 1)")],
        "gamma ** 2",
    ),
    "exponential with base e": (
        "q2",
        [("return lr0 * 10 ** (-t / r)", "return lr0 * math.exp(-t / r)")],
        "base 10, not e",
    ),
    "power without c": (
        "q2",
        [("return lr0 * (1 + t / r) ** (-c)", "return lr0 * (1 + t / r) ** -1")],
        "(1 + t/r)^(-c)",
    ),
    "1cycle one step ahead in the warm-up": (
        "q3",
        [("        f = t / n\n", "        f = (t + 1) / n\n")],
        "rate of step t + 1",
    ),
    "1cycle without the final phase": (
        "q3",
        [(FINAL, "    return low, max_momentum")],
        "final phase",
    ),
    "1cycle momentum moving with the rate": (
        "q3",
        [
            (
                WARMUP,
                "        return low + (max_lr - low) * f, "
                "base_momentum + (max_momentum - base_momentum) * f",
            )
        ],
        "moves against the rate",
    ),
    "1cycle with default arguments": (
        "q3",
        [("    low = max_lr / div_factor\n", "    low = max_lr / 25.0\n")],
        "not their defaults",
    ),
    "plateau cut one evaluation early": (
        "q4",
        [("if bad > patience:", "if bad >= patience:")],
        "exceeds patience",
    ),
    "plateau without min_lr": (
        "q4",
        [("lr = max(lr * factor, min_lr)", "lr = lr * factor")],
        "max(lr · factor, min_lr)",
    ),
    "plateau without cooldown": ("q4", [(COOLDOWN, "")], "cooldown"),
    "plateau without threshold": (
        "q4",
        [("if loss < best * (1 - threshold):", "if loss < best:")],
        "threshold",
    ),
}


(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

"""Lab 6's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong. All are graded together through ``dlcourse grade`` (a module-scoped fixture); each must lose
exactly its question, and the grader's message must name the mistake in terms the student can act
on (the phrase in the table). ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab06_regularization"
QUESTIONS = ["q1", "q2", "q3", "q4"]

INV_EVAL = "    if not training or p == 0:\n"
INV_MASK = "keep = torch.rand(x.shape, generator=generator) < 1 - p"
INV_SCALE = "return x * keep.to(x.dtype) / (1 - p)"
CLS_EVAL = "    if not training:\n        return x * keep_prob\n"
CLS_TRAIN = "    return x * keep.to(x.dtype)\n    ### END SOLUTION"
L2_LOOP = '        if name.endswith("weight"):\n            total = total + value.pow(2).sum()\n'
RESTORE = "return epochs_run, snapshots[best_index]"

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "inverted dropout active in eval": (
        "q1",
        [(INV_EVAL, "    if p == 0:\n")],
        "dropout is still active with training=False",
    ),
    "inverted: divided by p, not 1 - p": (
        "q1",
        [(INV_SCALE, "return x * keep.to(x.dtype) / p")],
        "divided by p",
    ),
    "inverted: p read as the keep probability": (
        "q1",
        [(INV_MASK, "keep = torch.rand(x.shape, generator=generator) < p")],
        "swap the drop and keep probabilities",
    ),
    "inverted: kept units not scaled": (
        "q1",
        [(INV_SCALE, "return x * keep.to(x.dtype)")],
        "not scaled",
    ),
    "inverted: global RNG instead of the generator": (
        "q1",
        [(INV_MASK, "keep = torch.rand(x.shape) < 1 - p")],
        "not reproducible",
    ),
    "classic: scaled while training (inverted)": (
        "q2",
        [(CLS_TRAIN, "    return x * keep.to(x.dtype) / keep_prob\n    ### END SOLUTION")],
        "that is inverted dropout",
    ),
    "classic: no test-time scaling": (
        "q2",
        [("        return x * keep_prob\n", "        return x\n")],
        "test-time scaling is missing",
    ),
    "classic: test scaled by 1 - keep_prob": (
        "q2",
        [("        return x * keep_prob\n", "        return x * (1 - keep_prob)\n")],
        "you used 1 - keep_prob",
    ),
    "classic dropout active in eval": ("q2", [(CLS_EVAL, "")], "dropout is still active"),
    "penalty on biases": (
        "q3",
        [(L2_LOOP, "        total = total + value.pow(2).sum()\n")],
        "biases are penalized too",
    ),
    "penalty without the 1/2": (
        "q3",
        [("return 0.5 * weight_decay * total", "return weight_decay * total")],
        "twice the expected value",
    ),
    "L1 instead of L2": (
        "q3",
        [("value.pow(2).sum()", "value.abs().sum()")],
        "the L1 penalty",
    ),
    "restores the last epoch's weights": (
        "q4",
        [(RESTORE, "return epochs_run, snapshots[epochs_run - 1]")],
        "those are the last epoch's weights",
    ),
    "restores the epoch after the best": (
        "q4",
        [(RESTORE, "return epochs_run, snapshots[min(best_index + 1, len(snapshots) - 1)]")],
        "one epoch off",
    ),
    "a tie counts as an improvement": (
        "q4",
        [("if loss < best:", "if loss <= best:")],
        "a tie is no improvement",
    ),
    "patience off by one": (
        "q4",
        [("if wait >= patience:", "if wait > patience:")],
        "in a row have not improved",
    ),
}

(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

"""Lab 7's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong. All are graded together through ``dlcourse grade`` (a module-scoped fixture); each must lose
exactly its question, and the grader's message must name the mistake in terms the student can act
on (the phrase in the table). ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab07_augmentation"
QUESTIONS = ["q1", "q2", "q3", "q4"]

DRAW = "    u = torch.rand(images.shape[0], generator=generator)\n"
THETA = (
    "    theta = torch.stack([torch.stack([cos, -sin, zero], -1),\n"
    "                         torch.stack([sin, cos, zero], -1)], -2)  # (N, 2, 3)\n"
)

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "hflip reverses the height": (
        "q1",
        [("return images.flip(-1)", "return images.flip(-2)")],
        "reversed the height",
    ),
    "vflip reverses the width": (
        "q1",
        [("return images.flip(-2)", "return images.flip(-1)")],
        "reversed the width",
    ),
    "hflip reverses the batch order": (
        "q1",
        [("return images.flip(-1)", "return images.flip(0)")],
        "reversed the batch",
    ),
    "hflip reverses the channels": (
        "q1",
        [("return images.flip(-1)", "return images.flip(1)")],
        "reversed the channels",
    ),
    "one draw for the whole batch": (
        "q2",
        [(DRAW, "    u = torch.rand(1, generator=generator).expand(images.shape[0])\n")],
        "one random number per image",
    ),
    "flips with probability 1 - p": (
        "q2",
        [("flip = (u < p)", "flip = (u >= p)")],
        "probability p",
    ),
    "global RNG instead of the generator": (
        "q2",
        [(DRAW, "    u = torch.rand(images.shape[0])\n")],
        "not reproducible",
    ),
    "rotates clockwise": (
        "q3",
        [
            (
                THETA,
                "    theta = torch.stack([torch.stack([cos, sin, zero], -1),\n"
                "                         torch.stack([-sin, cos, zero], -1)], -2)\n",
            )
        ],
        "clockwise",
    ),
    "degrees used as radians": ("q3", [(" * math.pi / 180", "")], "radians"),
    "no clipping after the shift": (
        "q4",
        [("return shifted.clamp(0.0, 1.0)", "return shifted")],
        "must stay in [0, 1]",
    ),
    "shifts in reverse channel order": (
        "q4",
        [("images + shift[:, :, None, None]", "images + shift.flip(-1)[:, :, None, None]")],
        "reverse channel order",
    ),
    "one row of shifts for every image": (
        "q4",
        [("images + shift[:, :, None, None]", "images + shift[:1, :, None, None]")],
        "each image its own row",
    ),
}


(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

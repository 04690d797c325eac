"""The tests of every lab's mutant table: one batch graded, each mutant losing its question.

A lab's ``test_labNN_mutants.py`` holds only its table of plausible wrong answers and calls
:func:`mutant_suite`, which returns the mutants, the module-scoped ``graded`` fixture (the solution,
the blank lab and every mutant graded through ``dlcourse grade`` in one sandboxed batch, see
:mod:`dlcourse.authoring.mutants`) and the three tests, for the module to bind to its own names so
that pytest collects them there. ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest

from dlcourse.authoring.mutants import Mutant, grade_mutants, mutant_table, mutant_verdict

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
Table = dict[str, tuple[str, list[tuple[str, str]], str]]


def mutant_suite(lab: str, table: Table, questions: list[str], points: float = 10):
    """``(MUTANTS, graded, test_enough..., test_solution..., test_each...)`` for one lab."""
    mutants = {name: Mutant(q, tuple(edits), phrase) for name, (q, edits, phrase) in table.items()}

    @pytest.fixture(scope="module")
    def graded(tmp_path_factory):
        results = grade_mutants(lab, mutants, tmp_path_factory.mktemp("mutants"))
        print("\n" + mutant_table(results, mutants))
        return results

    def test_enough_mutants_for_every_question():
        assert len(mutants) >= 8
        assert {m.question for m in mutants.values()} == set(questions)

    def test_solution_scores_full_marks_and_the_untouched_lab_zero(graded):
        assert graded["solution"]["total"] == graded["solution"]["max_total"] == points
        assert graded["untouched"]["total"] == 0
        statuses = {r["status"] for r in graded["untouched"]["questions"].values()}
        assert statuses == {"not_implemented"}

    @pytest.mark.parametrize("name", list(mutants))
    def test_each_mutant_loses_exactly_its_question(graded, name):
        verdict = mutant_verdict(graded, name, mutants[name])
        assert verdict is None, verdict

    return (
        mutants,
        graded,
        test_enough_mutants_for_every_question,
        test_solution_scores_full_marks_and_the_untouched_lab_zero,
        test_each_mutant_loses_exactly_its_question,
    )

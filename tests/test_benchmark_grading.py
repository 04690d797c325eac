"""The grading benchmark's inputs: its class of submissions, and the lab in nbgrader's format.

The benchmark itself (``benchmarks/grading.py``) needs nbgrader's venv from PyPI and minutes; these
tests keep what it compares honest: every kind of submission scores what its kind says, through the
real grader, and the nbgrader notebook holds the same answers and tests, worth the same points.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _nbgrader  # noqa: E402
import grading  # noqa: E402

from dlcourse.authoring.source import load_source  # noqa: E402
from dlcourse.grading.batch import grade_folder  # noqa: E402

LAB = "lab02_backprop"
SOURCE = ROOT / "solutions" / f"{LAB}.ipynb"

pytestmark = pytest.mark.slow


def test_each_kind_of_submission_scores_as_its_kind_says(tmp_path):
    klass = grading.make_class(SOURCE, len(grading.MIX))
    grading.write_submissions(tmp_path / "submitted", LAB, klass)
    results = {r.student: r for r in grade_folder(SOURCE, tmp_path / "submitted", tmp_path / "out")}
    for i, kind in enumerate(grading.MIX):
        result = results[f"student{i:03d}"]
        statuses = sorted(q.status for q in result.questions.values())
        if kind == "correct":
            assert result.total == result.max_total
        elif kind == "blank":
            assert set(statuses) == {"not_implemented"}
        else:  # one broken answer: that question is lost, the others pass
            assert statuses.count("passed") == len(statuses) - 1, (kind, statuses)
    cpu = grading.own_cpu_seconds(SOURCE, tmp_path / "submitted", klass)
    assert 0 < cpu < 5


def test_the_nbgrader_notebook_has_the_same_answers_tests_and_points():
    nb = _nbgrader.source_notebook(SOURCE)
    meta = [c.metadata.get("nbgrader") for c in nb.cells if c.cell_type == "code"]
    solutions = [m["grade_id"] for m in meta if m and m["solution"]]
    tests = {m["grade_id"]: m["points"] for m in meta if m and m["grade"]}
    source = load_source(SOURCE)
    assert solutions == [c.grade_id for c in source.cells if c.role == "solution"]
    assert tests == {f"tests-{q.id}": q.points for q in source.questions}
    graded = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert graded and all("assert _result.status == 'passed'" in code for code in graded)
    assert not any(c.metadata.get("dlcourse", {}).get("role") == "demo" for c in nb.cells)

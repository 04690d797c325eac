"""Gradescope: the single-submission run as Gradescope starts it, and the autograder zip."""

from __future__ import annotations

import json
import shlex
import shutil
import zipfile
from pathlib import Path

import pytest

from dlcourse.cli import main as cli
from dlcourse.grading.gradescope import results_json
from dlcourse.grading.runner import SubmissionResult

pytestmark = pytest.mark.slow

LAB = "lab01_initialization"
SOURCE = Path("solutions") / f"{LAB}.ipynb"


def _run(tmp_path: Path, notebook: Path, name: str, *options: str) -> dict:
    """Lay out /autograder as Gradescope does, under tmp_path, and run the grader on it."""
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(notebook, submission / name)
    results = tmp_path / "results" / "results.json"
    args = ["gradescope", "run", LAB, "--submission", str(submission), "--results", str(results)]
    assert cli([*args, *options]) == 0
    return json.loads(results.read_text())


def test_the_solution_scores_full_marks_in_gradescopes_format(tmp_path):
    data = _run(tmp_path, SOURCE, "Lab01 (1).ipynb", "--visibility", "after_due_date")
    assert data["score"] == 10
    assert data["visibility"] == "after_due_date" and data["execution_time"] > 0
    assert [t["name"] for t in data["tests"]] == ["q1", "q2", "q3", "q4"]
    assert [t["number"] for t in data["tests"]] == ["1", "2", "3", "4"]
    assert {t["status"] for t in data["tests"]} == {"passed"}
    assert sum(t["max_score"] for t in data["tests"]) == 10
    assert "renamed" in data["output"]  # the notebook was taken under another name, with a note


def test_the_blank_lab_scores_nothing_and_says_why(tmp_path):
    data = _run(tmp_path, Path("labs") / f"{LAB}.ipynb", f"{LAB}.ipynb")
    assert data["score"] == 0
    assert all(t["status"] == "failed" for t in data["tests"])
    assert all("not implemented" in t["output"].lower() for t in data["tests"]), data["tests"]


def test_an_empty_submission_folder_is_a_missing_notebook(tmp_path):
    (tmp_path / "submission").mkdir()
    results = tmp_path / "results.json"
    args = ["--submission", str(tmp_path / "submission"), "--results", str(results)]
    assert cli(["gradescope", "run", LAB, *args]) == 0
    data = json.loads(results.read_text())
    assert data["score"] == 0 and len(data["tests"]) == 4


def test_the_autograder_zip_holds_setup_run_and_the_source(tmp_path):
    out = tmp_path / "autograder.zip"
    assert cli(["gradescope", "zip", LAB, "--out", str(out)]) == 0
    zf = zipfile.ZipFile(out)
    assert sorted(zf.namelist()) == sorted(["setup.sh", "run_autograder", f"{LAB}.ipynb"])
    for name in ("setup.sh", "run_autograder"):
        assert zf.getinfo(name).external_attr >> 16 & 0o111, f"{name} is not executable"
    assert "bubblewrap" in zf.read("setup.sh").decode()
    assert "torch==2.13.0" in zf.read("setup.sh").decode()
    command = zf.read("run_autograder").decode().strip().splitlines()[-1]
    assert shlex.split(command)[1:4] == ["gradescope", "run", f"/autograder/source/{LAB}.ipynb"]


def test_visibility_is_one_of_gradescopes():
    result = SubmissionResult("s", LAB, {})
    with pytest.raises(ValueError, match="visibility must be one of"):
        results_json(result, 1.0, "students")

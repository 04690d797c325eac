"""The instructor's side of grading: folder layouts, errors that say what to do, feedback, console.

Discovery, answer matching, the feedback page and the summary are checked without grading; one
batch at the end (marked slow) mixes the layouts in a zip and grades it with ``dlcourse grade``.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from dlcourse.authoring.source import SourceError, load_source
from dlcourse.cli import main as cli
from dlcourse.grading.answers import adopt_answers
from dlcourse.grading.console import progress_bar, summary
from dlcourse.grading.feedback_html import feedback_html
from dlcourse.grading.judge import QuestionResult
from dlcourse.grading.runner import SubmissionResult
from dlcourse.grading.status import SubmissionInvalid
from dlcourse.grading.submissions import check_notebook, open_submissions

LAB = "lab01_initialization"
ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "solutions" / f"{LAB}.ipynb"
STUDENT_LAB = ROOT / "labs" / f"{LAB}.ipynb"


def _solution():
    return nbformat.read(SOURCE, as_version=4)


def _put(path: Path, nb=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb if nb is not None else _solution(), path)
    return path


def _pasted():
    """The answers copied into a fresh notebook: no metadata, no ids, a markdown cell between."""
    nb = nbformat.v4.new_notebook()
    for cell in _solution().cells:
        if cell.metadata.get("dlcourse", {}).get("role") == "solution":
            nb.cells.append(nbformat.v4.new_markdown_cell("my answer:"))
            nb.cells.append(nbformat.v4.new_code_cell(cell.source))
    return nb


def _found(path: Path) -> tuple[dict, list[str]]:
    with open_submissions(path, LAB) as found:
        return {s.student: s for s in found.submissions}, found.warnings


# --- layouts ---------------------------------------------------------------------------------


def test_hidden_folders_are_skipped_and_any_student_name_is_fine(tmp_path):
    for folder in ("Jane Doe", ".ipynb_checkpoints", "__MACOSX", ".git"):
        _put(tmp_path / folder / f"{LAB}.ipynb")
    _put(tmp_path / "bob" / ".ipynb_checkpoints" / f"{LAB}-checkpoint.ipynb")
    subs, warnings = _found(tmp_path)
    assert list(subs) == ["Jane Doe", "bob"]
    assert subs["Jane Doe"].path == tmp_path / "Jane Doe" / f"{LAB}.ipynb"
    assert subs["bob"].path == tmp_path / "bob" / f"{LAB}.ipynb"  # a checkpoint is not taken
    assert not subs["bob"].path.exists() and subs["bob"].invalid is None
    assert len(warnings) == 3 and all("hidden or system" in w for w in warnings)
    assert any("'__MACOSX'" in w for w in warnings)


def test_one_renamed_notebook_is_taken_with_a_note(tmp_path):
    _put(tmp_path / "jane" / "Lab01 (1).ipynb")
    subs, _ = _found(tmp_path)
    assert subs["jane"].path.name == "Lab01 (1).ipynb"
    assert "'Lab01 (1).ipynb'" in subs["jane"].notes[0] and "renamed" in subs["jane"].notes[0]


def test_of_several_notebooks_the_one_like_the_lab_or_invalid(tmp_path):
    _put(tmp_path / "jane" / "scratch.ipynb", nbformat.v4.new_notebook())
    _put(tmp_path / "jane" / "Lab01 (1).ipynb")
    _put(tmp_path / "bob" / "a.ipynb", nbformat.v4.new_notebook())
    _put(tmp_path / "bob" / "b.ipynb", nbformat.v4.new_notebook())
    subs, _ = _found(tmp_path)
    assert subs["jane"].path.name == "Lab01 (1).ipynb" and subs["jane"].invalid is None
    assert subs["bob"].invalid is not None
    assert "'a.ipynb'" in subs["bob"].invalid and "'b.ipynb'" in subs["bob"].invalid
    assert f"named {LAB}.ipynb" in subs["bob"].invalid


def test_flat_folder_and_nbgrader_submitted(tmp_path):
    _put(tmp_path / "flat" / "jane.ipynb")
    _put(tmp_path / "flat" / "bob.ipynb")
    subs, warnings = _found(tmp_path / "flat")
    assert {s: v.path.name for s, v in subs.items()} == {"bob": "bob.ipynb", "jane": "jane.ipynb"}
    assert warnings == []
    _put(tmp_path / "one" / f"{LAB}.ipynb")  # one student's folder passed by mistake
    subs, warnings = _found(tmp_path / "one")
    assert list(subs) == [LAB] and "pass the folder above it" in warnings[0]
    course = tmp_path / "course"
    _put(course / "submitted" / "jane" / f"{LAB}.ipynb")
    _put(course / "submitted" / "bob" / LAB / f"{LAB}.ipynb")  # nbgrader's STUDENT/LAB/ folder
    (course / "source").mkdir()
    subs, _ = _found(course)
    assert list(subs) == ["bob", "jane"] and all(s.path.exists() for s in subs.values())
    assert subs["bob"].notes == []


def test_zips_of_either_layout(tmp_path):
    folder = tmp_path / "export"
    _put(folder / "Jane Doe" / f"{LAB}.ipynb")
    _put(folder / "bob.ipynb")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*.ipynb"):
            zf.write(path, Path("export") / path.relative_to(folder))
        zf.writestr("__MACOSX/._bob.ipynb", "")
    with open_submissions(archive, LAB) as found:
        subs = {s.student: s for s in found.submissions}
        assert list(subs) == ["Jane Doe", "bob"] and all(s.path.exists() for s in subs.values())
    assert not subs["bob"].path.exists()  # the unpacked copy is gone after the block


def test_a_zip_that_escapes_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.ipynb", "{}")
    with pytest.raises(ValueError, match="outside the archive"):
        _found(archive)
    assert not (tmp_path.parent / "outside.ipynb").exists()


def test_an_empty_folder_names_the_accepted_layouts(tmp_path):
    with pytest.raises(FileNotFoundError, match="accepted layouts: .*submitted/STUDENT/.*zip"):
        _found(tmp_path)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{ this is not json", "not valid JSON"),
        ("[1, 2]", "is a JSON list"),
        ('{"metadata": {}}', "has no cells"),
        ('{"cells": [], "metadata": {}, "nbformat": 3, "nbformat_minor": 0}', "nbformat 3"),
    ],
)
def test_malformed_notebooks_are_invalid_with_a_fix(tmp_path, text, says):
    path = tmp_path / f"{LAB}.ipynb"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SubmissionInvalid, match=says) as info:
        check_notebook(path)
    assert info.value.status == "invalid" and "re-download it from Jupyter" in info.value.message
    check_notebook(_put(tmp_path / "good.ipynb"))  # a notebook passes
    check_notebook(tmp_path / "absent.ipynb")  # a missing one is graded as missing


# --- pasted answers ----------------------------------------------------------------------------


def test_pasted_answers_are_matched_by_the_functions_they_define():
    source = load_source(SOURCE)
    nb = _pasted()
    notes = adopt_answers(source, nb)
    ids = [c.metadata.get("dlcourse", {}).get("grade_id") for c in nb.cells]
    assert [i for i in ids if i] == [c.grade_id for c in source.cells if c.role == "solution"]
    assert len(notes) == 4 and "calculate_fans" in notes[0] and "lost its metadata" in notes[0]


def test_a_notebook_with_its_metadata_is_left_alone():
    source = load_source(SOURCE)
    nb = _solution()
    before = nbformat.writes(nb)
    assert adopt_answers(source, nb) == [] and nbformat.writes(nb) == before


# --- instructor errors ---------------------------------------------------------------------


def test_from_another_directory_the_error_says_what_to_pass(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(["grade", LAB, "--submissions", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "--solutions DIR" in err and LAB in err
    assert "labs known here" in err


def test_a_student_notebook_as_the_source_is_named_as_such(tmp_path, capsys):
    with pytest.raises(SourceError, match="looks like a student notebook .* from solutions/"):
        load_source(STUDENT_LAB)
    assert cli(["grade", str(STUDENT_LAB), "--submissions", str(tmp_path)]) == 2
    assert "looks like a student notebook" in capsys.readouterr().err


# --- feedback page and console -----------------------------------------------------------------


def _result(student: str, statuses: dict[str, str]) -> SubmissionResult:
    questions = {
        q: QuestionResult(q, s, 2.0 if s == "passed" else 0.0, 2.0, f"<{q} says {s}>", [])
        for q, s in statuses.items()
    }
    return SubmissionResult(student, LAB, questions, ["a note"])


def test_feedback_page_shows_code_statuses_and_escaped_messages():
    page = feedback_html(
        _result("Jane <Doe>", {"q1": "passed", "q2": "failed"}), {"q2": "x = 1 < 2"}
    )
    assert "Jane &lt;Doe&gt;" in page and "<Doe>" not in page
    assert "x = 1 &lt; 2" in page and "&lt;q2 says failed&gt;" in page
    assert "Score: 2 / 4" in page and "a note" in page
    assert "q1 says passed" not in page  # a passed question needs no message


def test_summary_counts_statuses_per_question():
    results = [
        _result("a", {"q1": "passed", "q2": "failed"}),
        _result("b", {"q1": "passed", "q2": "passed"}),
        _result("c", {"q1": "missing", "q2": "missing"}),
    ]
    lines = summary(results, 3.0)
    header = lines[0].split()
    assert header == ["question", "passed", "failed", "missing"]
    assert lines[1].split() == ["q1", "2", "0", "1"] and lines[2].split() == ["q2", "1", "1", "1"]
    assert "mean score 2.00 / 4 over 3 submissions in 3.0 s" in lines[3]
    assert lines[4] == "no notebook found (1): c"
    assert progress_bar(3, 12, width=8) == "[##......]  3/12"


# --- one batch mixing the layouts ------------------------------------------------------------


@pytest.mark.slow
def test_a_mixed_zip_is_graded_end_to_end(tmp_path, capsys):
    folder = tmp_path / "download"
    _put(folder / "Jane Doe" / f"{LAB}.ipynb")
    printing = _solution()
    cell = next(c for c in printing.cells if c.metadata.get("dlcourse", {}).get("grade_id"))
    cell.source += "\nprint('hello from renamed')"
    _put(folder / "renamed" / "Lab01 (1).ipynb", printing)
    _put(folder / "pasted.ipynb", _pasted())
    _put(folder / "two" / "a.ipynb", nbformat.v4.new_notebook())
    _put(folder / "two" / "b.ipynb", nbformat.v4.new_notebook())
    _put(folder / ".ipynb_checkpoints" / f"{LAB}.ipynb")
    (folder / "listed").mkdir()
    (folder / "listed" / f"{LAB}.ipynb").write_text("[]", encoding="utf-8")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in folder.rglob("*.ipynb"):
            zf.write(path, path.relative_to(folder))
    out = tmp_path / "autograded"
    code = cli(["grade", str(SOURCE), "--submissions", str(archive), "--out", str(out),
                "--jobs", "2"])
    console = capsys.readouterr().out
    assert code == 0
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob(f"*/{LAB}.json")}
    assert sorted(results) == ["Jane Doe", "listed", "pasted", "renamed", "two"]
    for student in ("Jane Doe", "pasted", "renamed"):
        assert results[student]["total"] == results[student]["max_total"] == 10, student
    for student in ("two", "listed"):
        assert {r["status"] for r in results[student]["questions"].values()} == {"invalid"}
    assert "is a JSON list" in results["listed"]["questions"]["q1"]["message"]
    assert any("functions it defines" in n for n in results["pasted"]["notes"])
    assert any("renamed" in n for n in results["renamed"]["notes"])
    assert "hello from renamed" in (out / "renamed" / f"{LAB}_output.txt").read_text()
    page = (tmp_path / "feedback" / "Jane Doe" / f"{LAB}.html").read_text()
    assert "def calculate_fans" in page and "hidden_test" not in page and "BEGIN HIDDEN" not in page
    with open(out / f"{LAB}_gradebook.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["student", "total", "max_total"] + [
        f"q{i}_{k}" for i in range(1, 5) for k in ("points", "status")
    ]
    lines = console.splitlines()
    assert lines[0] == f"grading 5 submissions of {LAB} with 2 jobs"
    assert "warning: skipped '.ipynb_checkpoints'" in console and "] 5/5" in console
    assert any(line.split() == ["q1", "3", "2"] for line in lines)  # 3 passed, 2 invalid
    assert "invalid submission (2): listed, two" in console and "mean score 6.00 / 10" in console
    (tmp_path / "feedback" / "Jane Doe" / f"{LAB}.html").unlink()
    assert cli(["feedback", str(SOURCE), "--submissions", str(archive), "--out", str(out)]) == 0
    assert (tmp_path / "feedback" / "Jane Doe" / f"{LAB}.html").read_text() == page
    assert "wrote 5 feedback pages" in capsys.readouterr().out


def test_feedback_without_results_says_to_grade_first(tmp_path, capsys):
    args = ["feedback", str(SOURCE), "--submissions", str(tmp_path), "--out", str(tmp_path)]
    assert cli(args) == 2
    assert "run `dlcourse grade" in capsys.readouterr().err

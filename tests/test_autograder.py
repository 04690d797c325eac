"""End-to-end grading of lab 1: a folder of crafted submissions through ``dlcourse grade``.

One batch holds the solution, the untouched lab, one wrong answer per question, and submissions
that hang, crash, flood their output, lose a cell or are not notebooks at all. Every submission must
get a status for every question, and the batch must finish.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from dlcourse.authoring.source import load_source
from dlcourse.cli import main as cli

pytestmark = pytest.mark.slow

LAB = "lab01_initialization"
SOURCE = Path("solutions") / f"{LAB}.ipynb"
STUDENT_LAB = Path("labs") / f"{LAB}.ipynb"
QUESTIONS = ["q1", "q2", "q3", "q4"]

# (grade_id, text in the solution, replacement): each makes exactly one answer wrong.
WRONG = {
    "q1": ("q1-fans", "return fan_in, fan_out", "return fan_out, fan_in"),
    "q2": (
        "q2-xavier",
        "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "std = gain * math.sqrt(1.0 / fan_in)",
    ),
    "q3": (
        "q3-kaiming",
        'fan = fan_in if mode == "fan_in" else fan_out\n'
        "    with torch.no_grad():\n        return tensor.normal_",
        'fan = fan_out if mode == "fan_in" else fan_in\n'
        "    with torch.no_grad():\n        return tensor.normal_",
    ),
    "q4": ("q4-layer-stds", "x = f(a @ x)", "x = f(a @ x) if activation == 'none' else a @ x"),
}


def _edit(nb, grade_id: str, old: str, new: str):
    cell = next(c for c in nb.cells if c.metadata.get("dlcourse", {}).get("grade_id") == grade_id)
    assert old in cell.source, f"the solution changed: {old!r} not in {grade_id}"
    cell.source = cell.source.replace(old, new, 1)
    return nb


def _write(root: Path, student: str, nb) -> None:
    (root / student).mkdir(parents=True)
    nbformat.write(nb, root / student / f"{LAB}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    solution = lambda: nbformat.read(SOURCE, as_version=4)  # noqa: E731
    _write(root, "solution", solution())
    _write(root, "untouched", nbformat.read(STUDENT_LAB, as_version=4))
    for q, (gid, old, new) in WRONG.items():
        _write(root, f"wrong_{q}", _edit(solution(), gid, old, new))
    _write(
        root,
        "hangs_q1",
        _edit(
            solution(),
            "q1-fans",
            "receptive_field = 1\n",
            "receptive_field = 1\n    while True:\n        pass\n",
        ),
    )
    _write(
        root,
        "crashes_q3",
        _edit(
            solution(),
            "q3-kaiming",
            "fan_in, fan_out = calculate_fans(tensor)\n"
            '    fan = fan_in if mode == "fan_in" else fan_out\n'
            "    with torch.no_grad():\n        return tensor.normal_",
            "import os\n    os._exit(3)\n    fan_in, fan_out = calculate_fans(tensor)\n"
            '    fan = fan_in if mode == "fan_in" else fan_out\n'
            "    with torch.no_grad():\n        return tensor.normal_",
        ),
    )
    _write(
        root,
        "floods_q4",
        _edit(
            solution(), "q4-layer-stds", "stds = []\n", "stds = []\n    print('x' * 10_000_000)\n"
        ),
    )
    _write(
        root,
        "cell_error_q2",
        _edit(
            solution(), "q2-xavier", "def xavier_normal_(", "undefined_name\n\ndef xavier_normal_("
        ),
    )
    nb = solution()
    nb.cells = [
        c for c in nb.cells if c.metadata.get("dlcourse", {}).get("grade_id") != "q2-xavier"
    ]
    _write(root, "deleted_q2", nb)
    nb = solution()
    for cell in nb.cells:  # edits outside the answer cells are not what gets graded
        if cell.metadata.get("dlcourse", {}).get("role") == "tests":
            cell.source = "raise SystemExit('tests replaced by the student')"
    nb.cells.append(nbformat.v4.new_code_cell("calculate_fans = None"))
    _write(root, "edits_tests", nb)
    nb = _edit(
        solution(),
        "q2-xavier",
        "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
        "std = gain * xavier_std(fan_in, fan_out)",
    )
    answer = next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("dlcourse", {}).get("grade_id") == "q2-xavier"
    )
    nb.cells.insert(
        answer,
        nbformat.v4.new_code_cell(
            "def xavier_std(fan_in, fan_out):\n    return math.sqrt(2.0 / (fan_in + fan_out))"
        ),
    )
    _write(root, "helper_in_added_cell", nb)
    (root / "garbage").mkdir()
    (root / "garbage" / f"{LAB}.ipynb").write_text("{ this is not json", encoding="utf-8")
    (root / "no_notebook").mkdir()
    out = tmp_path_factory.mktemp("autograded")
    code = cli(
        [
            "grade",
            LAB,
            "--submissions",
            str(root),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--time-limit",
            "20",
            "--output-bytes",
            "1000000",
            "--gradescope",
        ]
    )
    assert code == 0
    results = {p.parent.name: json.loads(p.read_text()) for p in out.glob(f"*/{LAB}.json")}
    return out, results


def statuses(result: dict) -> dict:
    return {q: r["status"] for q, r in result["questions"].items()}


def test_every_submission_gets_a_status_for_every_question(graded):
    _, results = graded
    assert len(results) == 15
    for student, result in results.items():
        assert list(result["questions"]) == QUESTIONS, student
        for r in result["questions"].values():
            assert r["status"] in {
                "passed",
                "failed",
                "error",
                "timeout",
                "not_implemented",
                "missing",
                "crashed",
                "invalid",
            }
            assert isinstance(r["message"], str) and r["max_points"] > 0


def test_solution_scores_full_marks(graded):
    _, results = graded
    source = load_source(SOURCE)
    assert (
        results["solution"]["total"] == results["solution"]["max_total"] == source.max_total == 10
    )
    assert set(statuses(results["solution"]).values()) == {"passed"}


def test_untouched_lab_scores_zero_all_not_implemented(graded):
    _, results = graded
    assert results["untouched"]["total"] == 0
    assert set(statuses(results["untouched"]).values()) == {"not_implemented"}
    assert (
        "Lab 1, q1: implement calculate_fans" in results["untouched"]["questions"]["q1"]["message"]
    )


@pytest.mark.parametrize("question", QUESTIONS)
def test_one_wrong_answer_loses_exactly_that_question(graded, question):
    _, results = graded
    result = results[f"wrong_{question}"]
    assert statuses(result) == {q: ("failed" if q == question else "passed") for q in QUESTIONS}
    lost = result["questions"][question]["max_points"]
    assert result["total"] == result["max_total"] - lost


def test_wrong_answers_get_teaching_feedback(graded):
    _, results = graded
    assert "fan_in and fan_out are swapped" in results["wrong_q1"]["questions"]["q1"]["message"]
    assert "LeCun" in results["wrong_q2"]["questions"]["q2"]["message"]
    assert "did you use fan_out?" in results["wrong_q3"]["questions"]["q3"]["message"]


def test_a_hanging_answer_times_out_and_the_rest_is_graded(graded):
    _, results = graded
    assert statuses(results["hangs_q1"]) == {
        "q1": "timeout",
        "q2": "passed",
        "q3": "passed",
        "q4": "passed",
    }
    assert "20 s" in results["hangs_q1"]["questions"]["q1"]["message"]


def test_a_crash_is_reported_and_the_next_questions_still_run(graded):
    _, results = graded
    assert statuses(results["crashes_q3"]) == {
        "q1": "passed",
        "q2": "passed",
        "q3": "crashed",
        "q4": "passed",
    }
    assert "exited with code 3" in results["crashes_q3"]["questions"]["q3"]["message"]


def test_flooding_output_is_stopped(graded):
    _, results = graded
    assert statuses(results["floods_q4"]) == {
        "q1": "passed",
        "q2": "passed",
        "q3": "passed",
        "q4": "error",
    }
    assert (
        "more output than the grader allows" in results["floods_q4"]["questions"]["q4"]["message"]
    )


def test_a_cell_that_raises_is_an_error_of_its_question(graded):
    _, results = graded
    assert statuses(results["cell_error_q2"]) == {
        "q1": "passed",
        "q2": "error",
        "q3": "passed",
        "q4": "passed",
    }
    assert "NameError" in results["cell_error_q2"]["questions"]["q2"]["message"]


def test_deleted_cell_is_missing(graded):
    _, results = graded
    assert statuses(results["deleted_q2"]) == {
        "q1": "passed",
        "q2": "missing",
        "q3": "passed",
        "q4": "passed",
    }


def test_tests_and_added_cells_come_from_the_instructor(graded):
    _, results = graded
    assert set(statuses(results["edits_tests"]).values()) == {"passed"}


def test_a_helper_in_an_added_cell_is_named_as_the_cause(graded):
    _, results = graded
    result = results["helper_in_added_cell"]
    assert statuses(result) == {"q1": "passed", "q2": "error", "q3": "passed", "q4": "passed"}
    message = result["questions"]["q2"]["message"]
    assert "NameError: name 'xavier_std' is not defined" in message
    assert message.endswith(
        "`xavier_std` is defined outside the answer cells, which is all the grader runs: "
        "move it into the answer cell of q2"
    )


def test_unreadable_and_absent_notebooks(graded):
    _, results = graded
    assert set(statuses(results["garbage"]).values()) == {"invalid"}
    assert "could not be read" in results["garbage"]["questions"]["q1"]["message"]
    assert set(statuses(results["no_notebook"]).values()) == {"missing"}


def test_gradebook_columns_and_rows(graded):
    out, results = graded
    with open(out / f"{LAB}_gradebook.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = ["student", "total", "max_total"] + [
        f"{q}_{k}" for q in QUESTIONS for k in ("points", "status")
    ]
    assert list(rows[0]) == header
    assert [r["student"] for r in rows] == sorted(results)
    wrong = next(r for r in rows if r["student"] == "wrong_q3")
    assert (wrong["total"], wrong["q3_points"], wrong["q3_status"], wrong["q4_status"]) == (
        "7",
        "0",
        "failed",
        "passed",
    )


def test_feedback_and_gradescope_files(graded):
    out, _ = graded
    feedback = (out / "wrong_q3" / f"{LAB}_feedback.md").read_text()
    assert "**Score: 7 / 10**" in feedback and "did you use fan_out?" in feedback
    assert "hidden_test" not in feedback and "BEGIN" not in feedback
    gradescope = json.loads((out / "wrong_q3" / "results.json").read_text())
    assert gradescope["score"] == 7 and [t["name"] for t in gradescope["tests"]] == QUESTIONS


def test_cli_reports_bad_input_clearly(tmp_path, capsys):
    assert cli(["grade", LAB, "--submissions", str(tmp_path / "nowhere")]) == 2
    assert "no submissions folder" in capsys.readouterr().err
    assert cli(["grade", "lab99_nothing", "--submissions", str(tmp_path)]) == 2
    assert "no instructor notebook" in capsys.readouterr().err

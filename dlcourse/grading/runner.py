"""Grading one submitted notebook against the instructor's source.

The program that runs is built from the instructor's source, never from the submission: its cells
in the source's order, with each solution cell (matched by ``grade_id``) taken from the student.
Cells a student added are not run, nor are ``demo`` cells; test cells are not run in the child at
all. The tests, public and hidden, run in the grader and see the student's code only through plain
data. A ``NameError`` for a name that only a cell the grader does not run defines is explained as
such (:mod:`dlcourse.grading.scope`).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from dlcourse.authoring.source import LabSource, QuestionSpec
from dlcourse.grading import protocol, scope, status
from dlcourse.grading.answers import adopt_answers
from dlcourse.grading.judge import QuestionResult, problem_result, run_question
from dlcourse.grading.registry import TestCase, collecting_hidden, get_lab
from dlcourse.grading.session import Limits, RemoteStudent, Session
from dlcourse.grading.status import (
    StudentCrashed,
    StudentMissing,
    StudentProblem,
    StudentRaised,
    StudentTimeout,
)

__all__ = [
    "OUTPUT_CHARS",
    "Plan",
    "ProgramCell",
    "SubmissionResult",
    "build_program",
    "grade_submission",
    "lab_imports",
    "load_plan",
    "names_outside_program",
]


OUTPUT_CHARS = 20_000  # of a student's printed output kept beside the results


@dataclass(frozen=True)
class ProgramCell:
    """One cell the grader runs: its code, its label in messages, its question (answer cells)."""

    code: str
    label: str
    question: str | None  # set for the student's solution cells


@dataclass
class SubmissionResult:
    """Everything the grader found for one student's notebook."""

    student: str
    lab: str
    questions: dict[str, QuestionResult]
    notes: list[str] = field(default_factory=list)
    output: str = ""  # the end of what the student's code printed (not in LAB.json)

    @property
    def total(self) -> float:
        """The points scored."""
        return float(sum(r.points for r in self.questions.values()))

    @property
    def max_total(self) -> float:
        """The points there were to score."""
        return float(sum(r.max_points for r in self.questions.values()))

    def to_dict(self) -> dict:
        """The result as written to ``LAB.json``."""
        return {
            "student": self.student,
            "lab": self.lab,
            "total": self.total,
            "max_total": self.max_total,
            "questions": {q: r.to_dict() for q, r in self.questions.items()},
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Plan:
    """What the grader runs for each question: its tests and the stand-ins for other answers."""

    tests: dict[str, list[TestCase]]
    stand_ins: dict[str, dict[str, str]]


def load_plan(source: LabSource) -> Plan:
    """Public tests from :mod:`dlcourse.labs` plus the source's hidden tests, per question."""
    lab = get_lab(source.name)
    with collecting_hidden() as hidden:
        exec(
            compile(source.hidden_code(), f"<hidden tests of {source.name}>", "exec"),
            {"__name__": "hidden_tests"},
        )
    tests = {}
    for q in source.questions:
        tests[q.id] = lab.tests_for(q.id) + [t for t in hidden if t.question == q.id]
        if not tests[q.id]:
            raise ValueError(f"{source.name}: question {q.id} has no tests")
    return Plan(tests, {q.id: lab.stand_ins_for(q.id) for q in source.questions})


def _read_submission(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise StudentMissing(f"no notebook was submitted (expected {path.name})") from None
    except (
        json.JSONDecodeError,
        nbformat.reader.NotJSONError,
        UnicodeDecodeError,
        OSError,
        KeyError,
    ) as exc:
        raise StudentRaised(
            f"the submitted notebook could not be read ({type(exc).__name__}): "
            "re-download it from Jupyter"
        ) from None


def build_program(
    source: LabSource, submission: nbformat.NotebookNode
) -> tuple[list[ProgramCell], dict[str, str]]:
    """The cells to run, and for each question whose solution cell is absent, why it is missing."""
    answers = {}
    for cell in submission.cells:
        grade_id = cell.get("metadata", {}).get("dlcourse", {}).get("grade_id")
        if cell.get("cell_type") == "code" and grade_id and grade_id not in answers:
            answers[grade_id] = cell.get("source", "")
    program: list[ProgramCell] = []
    missing: dict[str, str] = {}
    for cell in source.cells:
        if cell.cell_type != "code" or cell.role in ("tests", "demo"):
            continue
        if cell.role == "solution":
            if cell.grade_id not in answers:
                missing.setdefault(
                    str(cell.question),
                    f"the answer cell '{cell.grade_id}' is missing from the notebook "
                    "(was it deleted?)",
                )
                continue
            program.append(
                ProgramCell(answers[cell.grade_id], f"your cell for {cell.question}", cell.question)
            )
        else:
            program.append(ProgramCell(cell.source, f"lab cell {cell.index}", None))
    return program, missing


def names_outside_program(
    submission: nbformat.NotebookNode, program: list[ProgramCell]
) -> set[str]:
    """Names that only cells the grader does not run define (cells the student added, ...)."""
    ran = set().union(*(scope.defined_names(cell.code) for cell in program))
    cells = [c.get("source", "") for c in submission.cells if c.get("cell_type") == "code"]
    return set().union(*(scope.defined_names(src) for src in cells)) - ran


def lab_imports(program: list[ProgramCell]) -> tuple[str, ...]:
    """The modules the lab's own cells import (a warm child finds them imported already)."""
    names: set[str] = set()
    for cell in program:
        if cell.question is not None:
            continue  # never import on a student's word
        try:
            tree = ast.parse(protocol.strip_magics(cell.code))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
    return tuple(sorted(names))


class _Runner:
    """Runs a program in a session, restarting it after a timeout or a crash."""

    def __init__(self, program: list[ProgramCell], limits: Limits, notes: list[str]):
        self.program, self.limits, self.notes = program, limits, notes
        self.session = Session(limits, preload=lab_imports(program))
        self.good: list[ProgramCell] = []  # cells that ran, replayed after a restart
        self.cell_problems: dict[str, StudentProblem] = {}

    def run_cells(self) -> None:
        self.session.start()
        for cell in self.program:
            self._exec(cell)

    def _exec(self, cell: ProgramCell) -> None:
        try:
            reply = self.session.exec_cell(cell.code, cell.label, self.limits.cell_seconds)
        except (StudentTimeout, StudentCrashed) as exc:
            self._record(cell, type(exc)(f"{cell.label}: {exc.message}"))
            self.restart()
            return
        if reply["status"] == "ok":
            self.good.append(cell)
        else:
            self._record(
                cell, status.problem(reply["status"], f"{cell.label} raised {reply['message']}")
            )
            self.good.append(cell)  # definitions before the error stand, as in a notebook

    def _record(self, cell: ProgramCell, problem: StudentProblem) -> None:
        if cell.question is not None:
            self.cell_problems.setdefault(cell.question, problem)
        else:
            self.notes.append(f"{problem.message} (not graded; later answers may be affected)")

    def restart(self) -> None:
        self.session.start()
        for cell in self.good:
            self.session.exec_cell(cell.code, cell.label, self.limits.cell_seconds)


def grade_submission(
    source: LabSource,
    path: str | Path,
    student: str,
    limits: Limits = Limits(),
    plan: Plan | None = None,
) -> SubmissionResult:
    """Grade the notebook at ``path`` for ``student``; never raises for anything the student did."""
    plan = plan if plan is not None else load_plan(source)
    seconds = limits.question_seconds or source.time_limit
    result = SubmissionResult(student, source.name, {})
    try:
        submission = _read_submission(Path(path))
        result.notes += adopt_answers(source, submission)
        program, missing = build_program(source, submission)
    except StudentProblem as exc:
        result.questions = {q.id: problem_result(q.id, exc, q.points) for q in source.questions}
        return result
    outside = names_outside_program(submission, program)
    runner = _Runner(program, limits, result.notes)
    try:
        runner.run_cells()
        for q in source.questions:
            if q.id in missing:
                problem = StudentMissing(missing[q.id])
                result.questions[q.id] = problem_result(q.id, problem, q.points)
                continue
            res = _grade_question(runner, plan, q, seconds)
            res.message = scope.explain_name_error(res.message, outside, q.id)
            result.questions[q.id] = res
    except StudentProblem as exc:  # the child could not even be brought back
        for q in source.questions:
            result.questions.setdefault(q.id, problem_result(q.id, exc, q.points))
    finally:
        result.output = runner.session.output_tail(OUTPUT_CHARS)
        runner.session.close()
    return result


def _grade_question(runner: _Runner, plan: Plan, q: QuestionSpec, seconds: float) -> QuestionResult:
    """Run one question's tests in the runner's child; restart the child if it did not survive."""
    student = RemoteStudent(runner.session, seconds)
    res = run_question(q.id, plan.tests[q.id], student, q.points, plan.stand_ins[q.id])
    res = _prefer_cell_problem(res, runner.cell_problems.get(q.id))
    if res.status in ("timeout", "crashed") or not runner.session.alive:
        runner.restart()
    return res


def _prefer_cell_problem(res: QuestionResult, problem: StudentProblem | None) -> QuestionResult:
    """When the answer's cell itself failed, say so rather than "not defined"."""
    if problem is None or res.status == "passed":
        return res
    if res.status == "missing" or problem.status in ("timeout", "crashed"):
        return problem_result(res.question, problem, res.max_points)
    return res

"""Running a question's tests against a student and turning outcomes into a status and a message.

The statuses and what each means are in :mod:`dlcourse.grading.status`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dlcourse.grading.expect import Failure
from dlcourse.grading.registry import TestCase
from dlcourse.grading.status import StudentProblem
from dlcourse.grading.student import Student

__all__ = ["Outcome", "QuestionResult", "problem_result", "run_question", "run_test"]


@dataclass(frozen=True)
class Outcome:
    """The result of one test (``description``: the first line of its docstring, or ``""``)."""

    test: str
    status: str
    message: str
    hidden: bool = False
    description: str = ""


@dataclass
class QuestionResult:
    """The result of one question: its status, points, message and the tests that ran."""

    question: str
    status: str
    points: float
    max_points: float
    message: str
    outcomes: list[Outcome]
    n_tests: int = 0  # how many tests the question has (``outcomes`` stop at the first failure)
    warnings: list[str] = field(default_factory=list)  # for the student, beside the verdict

    def to_dict(self) -> dict:
        """The result as written to ``LAB.json`` (see :mod:`dlcourse.grading.report`)."""
        return {
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "message": self.message,
            "tests": [
                {"name": o.test, "status": o.status, "message": o.message, "hidden": o.hidden}
                for o in self.outcomes
            ],
        }


def run_test(test: TestCase, student: Student) -> Outcome:
    """Run one test; a wrong answer, a student error and a broken judge are told apart."""
    try:
        test.func(student)
    except Failure as exc:
        return _outcome(test, "failed", str(exc))
    except StudentProblem as exc:
        return _outcome(test, exc.status, exc.message)
    except AssertionError as exc:
        return _outcome(test, "failed", str(exc) or "the answer is not what this check expects")
    except Exception as exc:  # the answer had a form the test could not judge
        msg = (
            f"the answer could not be checked ({type(exc).__name__}: {exc}); "
            "check what your code returns"
        )
        return _outcome(test, "failed", msg)
    return _outcome(test, "passed", "")


def _outcome(test: TestCase, status: str, message: str) -> Outcome:
    return Outcome(test.name, status, message, test.hidden, test.description)


def run_question(
    question: str,
    tests: Sequence[TestCase],
    student: Student,
    max_points: float = 0.0,
    stand_ins: Mapping[str, str] | None = None,
) -> QuestionResult:
    """Run ``tests`` in order, stopping at the first one that does not pass.

    Points are all or nothing: a question is worth ``max_points`` when every test passes.
    ``stand_ins`` (name → ``"module:attribute"``) replace the student's answers to *other*
    questions while these tests run (see :meth:`~dlcourse.grading.registry.Lab.share`).
    """
    if not tests:
        raise ValueError(f"question {question!r} has no tests")
    outcomes: list[Outcome] = []
    try:
        with student.isolated(stand_ins or {}):
            for test in tests:
                outcomes.append(run_test(test, student))
                if outcomes[-1].status != "passed":
                    break
    except StudentProblem as exc:  # the process died while stand-ins were put in or taken out
        outcomes.append(Outcome("(isolation)", exc.status, exc.message))
    last = outcomes[-1]
    if last.status != "passed":
        return QuestionResult(
            question, last.status, 0.0, max_points, last.message, outcomes, len(tests)
        )
    message = f"all {len(outcomes)} tests passed"
    points = float(max_points)
    return QuestionResult(question, "passed", points, max_points, message, outcomes, len(tests))


def problem_result(question: str, problem: StudentProblem, max_points: float) -> QuestionResult:
    """A question that could not be tested at all (cell missing, crashed before the tests, ...)."""
    return QuestionResult(question, problem.status, 0.0, max_points, problem.message, [])

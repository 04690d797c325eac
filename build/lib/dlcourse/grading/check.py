"""``check``: immediate, in-notebook feedback on a lab question.

In a lab notebook::

    from dlcourse.grading import check, open_lab
    open_lab("lab01_initialization")
    ...
    check("q2")                     # tests the functions of q2 defined in this notebook
    check("q2", xavier_normal_)     # or name the objects explicitly

``check`` runs the question's public tests (in the instructor's notebook, the hidden ones too) on
the student's functions in this process, through the same plain-data path the autograder uses, and
prints what passed or what went wrong in teaching terms. It never raises for a wrong answer.
"""

from __future__ import annotations

import inspect
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from dlcourse.grading import registry, scope, status
from dlcourse.grading.judge import QuestionResult, run_question
from dlcourse.grading.registry import Lab, get_lab
from dlcourse.grading.student import LocalStudent

__all__ = ["check", "current_lab", "open_lab", "report", "run_check"]


def _caller_globals(depth: int = 2) -> dict:
    """The global variables of the code ``depth`` frames up (the notebook that called us)."""
    frame = inspect.currentframe()
    for _ in range(depth):
        frame = frame.f_back if frame is not None else None
    return frame.f_globals if frame is not None else {}


def open_lab(name: str) -> None:
    """Select the lab whose questions :func:`check` tests (the first cell of every lab does it).

    The :class:`~dlcourse.grading.registry.Lab` is remembered in the caller's namespace, where
    :func:`check` and :func:`~dlcourse.grading.hidden_test` find it; its hidden tests start empty.

    Args:
        name: the lab, e.g. ``"lab01_initialization"``.
    """
    lab = get_lab(name)
    lab.hidden_tests.clear()
    _caller_globals()[registry.LAB_KEY] = lab
    questions = ", ".join(lab.questions)
    print(
        f"Lab {lab.number} — {lab.title}: questions {questions}. Run check(...) after each answer."
    )


def current_lab(namespace: Mapping[str, Any] | None = None) -> Lab:
    """The lab :func:`open_lab` opened in ``namespace`` (by default the caller's globals)."""
    return registry.opened_lab(namespace if namespace is not None else _caller_globals())


def check(question: str, *objects: Any) -> None:
    """Run the tests of ``question`` on this notebook's code and print the verdict.

    Args:
        question: the question id, e.g. ``"q2"``.
        *objects: the functions to test; by default they are looked up by name among the
            caller's global variables (the notebook's namespace).
    """
    result, n_hidden = run_check(question, *objects, namespace=_caller_globals())
    print(report(result, n_hidden=n_hidden))


def run_check(
    question: str, *objects: Any, namespace: dict | None = None, lab: Lab | None = None
) -> tuple[QuestionResult, int]:
    """What :func:`check` computes, returned instead of printed: the result, the hidden-test count.

    Args:
        question: the question id.
        *objects: the functions to test (by default looked up by name in ``namespace``).
        namespace: the notebook's global variables (default: the caller's).
        lab: the lab (default: the one :func:`open_lab` opened in ``namespace``).
    """
    namespace = namespace if namespace is not None else _caller_globals()
    lab = lab if lab is not None else registry.opened_lab(namespace)
    if question not in lab.questions:
        raise ValueError(
            f"{lab.name} has no question {question!r}; its questions are {', '.join(lab.questions)}"
        )
    explicit = {}
    for obj in objects:
        name = getattr(obj, "__name__", None)
        if name is None:
            raise TypeError(f"check({question!r}, ...) takes functions; got a {type(obj).__name__}")
        explicit[name] = obj
    student = LocalStudent(ChainMap(explicit, namespace), namespace)
    hidden = lab.hidden_tests_for(question)
    tests = lab.tests_for(question) + hidden
    result = run_question(question, tests, student, stand_ins=lab.stand_ins_for(question))
    history = namespace.get("_ih")
    if isinstance(history, list):  # in a kernel: would the grader find every name the answer uses?
        outside = scope.outside_answer_cells(history, student.called, lab.stand_ins)
        result.warnings += [scope.outside_message(name, question) + "." for name in outside]
    return result, len(hidden)


def report(result: QuestionResult, n_hidden: int = 0) -> str:
    """The text ``check`` prints for ``result`` (the wording is in :mod:`dlcourse.grading.status`).

    A failing check is named by its place and description ("check 2 of 4 (...)"), never by the
    name of the test function; warnings follow the verdict, one per line.
    """
    ran = len(result.outcomes)
    verdict = status.wording(
        result.status,
        q=result.question,
        where=_where(result),
        message=result.message,
        ran=ran,
        extra=f" ({ran - n_hidden} public, {n_hidden} hidden)" if n_hidden else "",
        note="" if n_hidden else " The autograder runs more (hidden) tests.",
    )
    return "\n".join([verdict] + [f"Warning: {w}" for w in result.warnings])


def _where(result: QuestionResult) -> str:
    if not result.outcomes:
        return "a check"
    last = result.outcomes[-1]
    where = f"check {len(result.outcomes)} of {max(result.n_tests, len(result.outcomes))}"
    return where + (f" ({last.description})" if last.description else "")

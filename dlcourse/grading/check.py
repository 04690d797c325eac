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
from typing import Any

from dlcourse.grading import registry, status
from dlcourse.grading.judge import QuestionResult, run_question
from dlcourse.grading.registry import Lab, get_lab
from dlcourse.grading.student import LocalStudent

__all__ = ["check", "current_lab", "open_lab", "report", "run_check"]

_current: Lab | None = None


def open_lab(name: str) -> None:
    """Select the lab whose questions :func:`check` tests (the first cell of every lab does it)."""
    global _current
    _current = get_lab(name)
    registry._notebook_hidden.clear()
    questions = ", ".join(_current.questions)
    print(f"Lab {_current.number} — {_current.title}: questions {questions}. Run check(...) after each answer.")


def current_lab() -> Lab:
    """The lab selected by :func:`open_lab`."""
    if _current is None:
        raise RuntimeError(
            "no lab is open: run the lab's first code cell, which calls open_lab('labNN_topic')"
        )
    return _current


def check(question: str, *objects: Any) -> None:
    """Run the tests of ``question`` on this notebook's code and print the verdict.

    Args:
        question: the question id, e.g. ``"q2"``.
        *objects: the functions to test; by default they are looked up by name among the
            caller's global variables (the notebook's namespace).
    """
    frame = inspect.currentframe()
    caller_globals = frame.f_back.f_globals if frame is not None and frame.f_back else {}
    result, n_hidden = run_check(question, *objects, namespace=caller_globals)
    print(report(result, n_hidden=n_hidden))


def run_check(
    question: str, *objects: Any, namespace: dict | None = None
) -> tuple[QuestionResult, int]:
    """What :func:`check` computes, returned instead of printed: the result and the hidden-test count."""
    lab = current_lab()
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
    namespace = namespace if namespace is not None else {}
    student = LocalStudent(ChainMap(explicit, namespace), namespace)
    hidden = [t for t in registry._notebook_hidden if t.question == question]
    tests = lab.tests_for(question) + hidden
    return run_question(question, tests, student, stand_ins=lab.stand_ins_for(question)), len(hidden)


def report(result: QuestionResult, n_hidden: int = 0) -> str:
    """The text ``check`` prints for ``result`` (the wording is in :mod:`dlcourse.grading.status`)."""
    ran = len(result.outcomes)
    last = result.outcomes[-1] if result.outcomes else None
    return status.wording(
        result.status,
        q=result.question,
        where=f"check {last.test!r}" if last else "a check",
        message=result.message,
        ran=ran,
        extra=f" ({ran - n_hidden} public, {n_hidden} hidden)" if n_hidden else "",
        note="" if n_hidden else " The autograder runs more (hidden) tests.",
    )

"""The grading statuses: one table that the grader, ``check``, the reports and the README read.

Every question ends in exactly one status. A row of :data:`STATUSES` says, for one status, which
exception carries it out of student code (``None`` where nothing is raised), the label the reports
print, the sentence ``check`` prints (a ``str.format`` template, see :func:`wording`) and
whether it counts as an attempt (the student wrote code that ran). Adding a status is adding one
row.

See the book: the labs (README, "For instructors").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "NotImplementedByStudent",
    "STATUSES",
    "Status",
    "StudentCrashed",
    "StudentMissing",
    "StudentProblem",
    "StudentRaised",
    "StudentTimeout",
    "SubmissionInvalid",
    "get",
    "names",
    "problem",
    "wording",
]


class StudentProblem(Exception):
    """The student's code could not produce an answer; ``status`` is the grading status."""

    status = "error"

    def __init__(self, message: str):
        """A problem whose explanation for the student is ``message``."""
        super().__init__(message)
        self.message = message


class NotImplementedByStudent(StudentProblem):
    """The student's function or cell still raises ``NotImplementedError``."""

    status = "not_implemented"


class StudentRaised(StudentProblem):
    """The student's code raised (or returned something that is not plain data)."""

    status = "error"


class StudentMissing(StudentProblem):
    """The function or the answer cell is not there."""

    status = "missing"


class StudentTimeout(StudentProblem):
    """The student's code ran past its time limit and was stopped."""

    status = "timeout"


class StudentCrashed(StudentProblem):
    """The process running the student's code died."""

    status = "crashed"


class SubmissionInvalid(StudentProblem):
    """No notebook could be graded: several, none clearly the lab, or a file that is no notebook."""

    status = "invalid"


@dataclass(frozen=True)
class Status:
    """One grading status.

    Attributes:
        name: the status as written in results (``"failed"``).
        exception: the :class:`StudentProblem` subclass that carries it, or ``None``.
        label: what the reports print (feedback file, Gradescope).
        attempted: whether the status counts as an attempt at the question.
        meaning: when a question gets it (the README's table repeats it).
        wording: what ``check`` prints; fields ``{q}``, ``{where}``, ``{message}``, ``{ran}``,
            ``{extra}`` and ``{note}`` (see :func:`wording`).
    """

    name: str
    exception: type[StudentProblem] | None
    label: str
    attempted: bool
    meaning: str
    wording: str


_TODO = "Replace the `raise NotImplementedError(...)` line with your code."

#: In the order the autograder reports them; one row per status.
# fmt: off
STATUSES: tuple[Status, ...] = (
    Status("passed", None, "passed", True, "every public and hidden test passed",
           "{q}: passed all {ran} checks{extra}.{note}"),
    Status("failed", None, "failed", True, "an answer is wrong",
           "{q}: {where} failed: {message}"),
    Status("error", StudentRaised, "your code raised an error", True, "the student's code raised",
           "{q}: your code raised an error in {where}: {message}"),
    Status("not_implemented", NotImplementedByStudent, "not implemented", False,
           "the code still raises `NotImplementedError`",
           "{q}: not implemented yet — {message}. " + _TODO),
    Status("missing", StudentMissing, "missing", False,
           "the function or the answer cell is not there", "{q}: {message}."),
    Status("timeout", StudentTimeout, "timed out", True,
           "the code ran past the time limit and was stopped", "{q}: {where} timed out: {message}"),
    Status("crashed", StudentCrashed, "crashed", True, "the process running the code died",
           "{q}: {where} crashed: {message}"),
    Status("invalid", SubmissionInvalid, "invalid submission", False,
           "not one readable notebook (several, none clearly the lab; or not a notebook)",
           "{q}: {message}."),
)
# fmt: on

_BY_NAME = {s.name: s for s in STATUSES}


def names() -> tuple[str, ...]:
    """The status names, in report order."""
    return tuple(_BY_NAME)


def get(name: str) -> Status:
    """The row of status ``name``.

    Raises:
        ValueError: ``name`` is not a status.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown grading status {name!r}; the statuses are {', '.join(_BY_NAME)}"
        ) from None


def problem(name: str, message: str) -> StudentProblem:
    """The exception that carries status ``name`` with ``message`` (``error`` for unknown names)."""
    row = _BY_NAME.get(name)
    cls = row.exception if row is not None and row.exception is not None else StudentRaised
    return cls(message)


def wording(name: str, **fields: object) -> str:
    """The sentence ``check`` prints for status ``name``, filled with ``fields``."""
    defaults: dict[str, object] = {
        "q": "",
        "where": "a check",
        "message": "",
        "ran": 0,
        "extra": "",
        "note": "",
    }
    return get(name).wording.format(**{**defaults, **fields})

"""Labs and their tests.

A lab's *public* tests live in ``dlcourse/labs/<lab>.py`` and are registered with
``@LAB.test("q1")``: students run them with ``check("q1")``. *Hidden* tests live only in the
instructor's source notebook (``solutions/<lab>.ipynb``) between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``; they are registered with ``@hidden_test("q1")`` when that code runs,
either in the instructor's notebook or in the grader. A test is a function of one argument, a
:class:`~dlcourse.grading.student.Student`, that raises on a wrong answer.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["Lab", "TestCase", "collecting_hidden", "get_lab", "hidden_test"]

_LAB_NAME = re.compile(r"^lab\d\d_[a-z0-9_]+$")


@dataclass(frozen=True)
class TestCase:
    """One test of one question."""

    question: str
    name: str
    func: Callable
    hidden: bool = False


@dataclass
class Lab:
    """A lab: its name (``labNN_topic``), number, and public tests per question."""

    name: str
    number: int
    title: str = ""
    tests: list[TestCase] = field(default_factory=list)
    stand_ins: dict[str, tuple[str, str]] = field(default_factory=dict)

    def share(self, question: str, **names: str) -> None:
        """Declare names that ``question`` defines and later questions may call.

        While another question is tested, each such name is replaced by its stand-in from the
        library (``"module:attribute"``), so one wrong answer loses exactly that question::

            LAB.share("q1", calculate_fans="dlcourse.init:calculate_fan_in_and_fan_out")
        """
        for name, ref in names.items():
            if ":" not in ref:
                raise ValueError(f"stand-in for {name} must look like 'module:attribute'; got {ref!r}")
            self.stand_ins[name] = (question, ref)

    def stand_ins_for(self, question: str) -> dict[str, str]:
        """Names of other questions to replace by library stand-ins while ``question`` is tested."""
        return {name: ref for name, (q, ref) in self.stand_ins.items() if q != question}

    def test(self, question: str) -> Callable[[Callable], Callable]:
        """Decorator registering a public test of ``question``."""

        def register(func: Callable) -> Callable:
            self.tests.append(TestCase(question, func.__name__, func, hidden=False))
            return func

        return register

    @property
    def questions(self) -> list[str]:
        """Question ids that have public tests, in registration order."""
        return list(dict.fromkeys(t.question for t in self.tests))

    def tests_for(self, question: str) -> list[TestCase]:
        return [t for t in self.tests if t.question == question]


def get_lab(name: str) -> Lab:
    """The lab called ``name`` (``labNN_topic``), imported from :mod:`dlcourse.labs`."""
    if not isinstance(name, str) or not _LAB_NAME.match(name):
        raise ValueError(f"lab names look like 'lab01_initialization'; got {name!r}")
    try:
        module = importlib.import_module(f"dlcourse.labs.{name}")
    except ModuleNotFoundError:
        raise ValueError(
            f"there is no lab {name!r}: the labs are in dlcourse/labs/ "
            "(e.g. 'lab01_initialization')"
        ) from None
    return module.LAB


_collector: contextvars.ContextVar[list[TestCase] | None] = contextvars.ContextVar(
    "dlcourse_hidden_tests", default=None
)
_notebook_hidden: list[TestCase] = []


def hidden_test(question: str) -> Callable[[Callable], Callable]:
    """Decorator registering a hidden test of ``question`` (instructor's source only)."""

    def register(func: Callable) -> Callable:
        target = _collector.get()
        if target is None:
            target = _notebook_hidden
        # Re-running a cell replaces the test instead of adding a second copy.
        target[:] = [t for t in target if (t.question, t.name) != (question, func.__name__)]
        target.append(TestCase(question, func.__name__, func, hidden=True))
        return func

    return register


@contextlib.contextmanager
def collecting_hidden() -> Iterator[list[TestCase]]:
    """Collect the hidden tests registered inside the ``with`` block into a fresh list."""
    found: list[TestCase] = []
    token = _collector.set(found)
    try:
        yield found
    finally:
        _collector.reset(token)

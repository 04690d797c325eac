"""Labs and their tests.

A lab's *public* tests live in ``dlcourse/labs/<lab>.py`` and are registered with
``@LAB.test("q1")``: students run them with ``check("q1")``. *Hidden* tests live only in the
instructor's source notebook (``solutions/<lab>.ipynb``) between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS``; they are registered with ``@hidden_test("q1")`` when that code runs,
either in the instructor's notebook (into the open lab's ``Lab.hidden_tests``) or in the
grader (collected by :func:`collecting_hidden`). A test is a function of one argument, a
:class:`~dlcourse.grading.student.Student`, that raises on a wrong answer.

The lab a notebook works on is remembered in the notebook's own namespace (:data:`LAB_KEY`, set by
:func:`~dlcourse.grading.check.open_lab`), not in this module: see :func:`opened_lab`.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LAB_KEY",
    "Lab",
    "TestCase",
    "collecting_hidden",
    "get_lab",
    "hidden_test",
    "opened_lab",
]

_LAB_NAME = re.compile(r"^lab\d\d_[a-z0-9_]+$")

#: The name under which a notebook's namespace holds its open :class:`Lab`.
LAB_KEY = "__dlcourse_lab__"


@dataclass(frozen=True)
class TestCase:
    """One test of one question.

    ``description`` (the first line of the test's docstring) is what a student sees of it, never
    its name.
    """

    question: str
    name: str
    func: Callable
    hidden: bool = False
    description: str = ""


def _test_case(question: str, func: Callable, hidden: bool) -> TestCase:
    return TestCase(question, func.__name__, func, hidden, _description(func))


def _description(func: Callable) -> str:
    """The first docstring line as a phrase: "Fans count the kernel." -> "fans count the kernel"."""
    doc = inspect.getdoc(func) or ""
    line = doc.splitlines()[0].strip().rstrip(".") if doc else ""
    if len(line) > 1 and not line[1].isupper():  # keep acronyms: "ReLU ..."
        line = line[0].lower() + line[1:]
    return line


@dataclass
class Lab:
    """A lab: the one home of its name, number and title, and of its tests.

    It holds its public tests per question and, while a notebook works on it, the hidden tests
    that notebook registered (``hidden_tests``).

    The number comes from the name (``lab01_...`` is lab 1); ``number=`` may repeat it, never
    contradict it. The instructor's source notebook reads number and title from here.

    Raises:
        ValueError: the name does not look like ``labNN_topic``, or ``number`` contradicts it.
    """

    name: str
    title: str = ""
    number: int = 0  # 0: take it from the name
    tests: list[TestCase] = field(default_factory=list, repr=False)
    stand_ins: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    hidden_tests: list[TestCase] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        """Check the name and take the number from it."""
        if not isinstance(self.name, str) or not _LAB_NAME.match(self.name):
            raise ValueError(
                f"Lab(name=...): lab names look like 'lab01_initialization'; got {self.name!r}"
            )
        derived = int(self.name[3:5])
        if self.number not in (0, derived):
            raise ValueError(
                f"Lab({self.name!r}, number={self.number!r}): the number comes from the name "
                f"(lab{self.name[3:5]} is lab {derived}); drop number= or rename the lab"
            )
        self.number = derived

    def share(self, question: str, **names: str | Callable) -> None:
        """Declare names that ``question`` defines and later questions may call.

        While another question is tested, each such name is replaced by its stand-in from the
        library, given as the function itself or as ``"module:attribute"``, so one wrong answer
        loses exactly that question::

            LAB.share("q1", calculate_fans=dlcourse.init.calculate_fan_in_and_fan_out)
            LAB.share("q1", calculate_fans="dlcourse.init:calculate_fan_in_and_fan_out")

        Raises:
            TypeError: a stand-in is neither a string nor a function.
            ValueError: a string is not ``"module:attribute"``, or a function is not reachable as
                an attribute of its module (a lambda, a nested function).
        """
        for name, target in names.items():
            self.stand_ins[name] = (question, _reference(name, target))

    def stand_ins_for(self, question: str) -> dict[str, str]:
        """Names of other questions to replace by library stand-ins while ``question`` is tested."""
        return {name: ref for name, (q, ref) in self.stand_ins.items() if q != question}

    def test(self, question: str) -> Callable[[Callable], Callable]:
        """Decorator registering a public test of ``question``."""

        def register(func: Callable) -> Callable:
            self.tests.append(_test_case(question, func, hidden=False))
            return func

        return register

    @property
    def questions(self) -> list[str]:
        """Question ids that have public tests, in registration order."""
        return list(dict.fromkeys(t.question for t in self.tests))

    def tests_for(self, question: str) -> list[TestCase]:
        """The public tests of ``question``, in registration order."""
        return [t for t in self.tests if t.question == question]

    def hidden_tests_for(self, question: str) -> list[TestCase]:
        """The hidden tests of ``question`` registered in the notebook working on this lab."""
        return [t for t in self.hidden_tests if t.question == question]


def _reference(name: str, target: str | Callable) -> str:
    """The ``"module:attribute"`` the grader's child resolves to reach ``target``."""
    if isinstance(target, str):
        if ":" not in target:
            raise ValueError(
                f"stand-in for {name} must look like 'module:attribute'; got {target!r}"
            )
        return target
    if not callable(target):
        raise TypeError(
            f"stand-in for {name} must be a function or a 'module:attribute' string; "
            f"got a {type(target).__name__}"
        )
    module, attr = getattr(target, "__module__", None), getattr(target, "__qualname__", "")
    owner = sys.modules.get(module or "")
    if owner is None or getattr(owner, attr, None) is not target:
        raise ValueError(
            f"stand-in for {name}: {attr or target!r} is not an attribute of its module "
            f"{module!r}, so the grader cannot import it; pass a module-level function"
        )
    return f"{module}:{attr}"


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


def opened_lab(namespace: Mapping[str, Any]) -> Lab:
    """The lab that ``open_lab`` opened in ``namespace`` (a notebook's global variables).

    Raises:
        RuntimeError: no lab was opened there.
    """
    lab = namespace.get(LAB_KEY)
    if not isinstance(lab, Lab):
        raise RuntimeError(
            "no lab is open: run the lab's setup cell, which calls open_lab('labNN_topic')"
        )
    return lab


def hidden_test(question: str) -> Callable[[Callable], Callable]:
    """Decorator registering a hidden test of ``question`` (instructor's source only).

    In the grader the test goes to the list of :func:`collecting_hidden`; in a notebook, to the
    ``hidden_tests`` of the lab opened in the namespace where the decorator is used.
    """
    frame = inspect.currentframe()
    caller = frame.f_back.f_globals if frame is not None and frame.f_back is not None else {}

    def register(func: Callable) -> Callable:
        target = _collector.get()
        if target is None:
            target = opened_lab(caller).hidden_tests
        # Re-running a cell replaces the test instead of adding a second copy.
        target[:] = [t for t in target if (t.question, t.name) != (question, func.__name__)]
        target.append(_test_case(question, func, hidden=True))
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

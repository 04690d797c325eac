"""Calling a student's functions: in this process (``check``) or in a child process (``grade``).

Tests never touch student objects directly. They call ``student.name(*args)`` on a
:class:`Student`, which runs the function where the student's code lives and hands back plain data
(see :mod:`dlcourse.grading.wire`). What went wrong on the student's side arrives as one of the
:class:`StudentProblem` exceptions of :mod:`dlcourse.grading.status`, each a grading status.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import traceback
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from dlcourse.grading.status import (
    NotImplementedByStudent,
    StudentCrashed,
    StudentMissing,
    StudentProblem,
    StudentRaised,
    StudentTimeout,
)
from dlcourse.grading.wire import CallInfo, NotPlainData, materialize, to_plain

__all__ = [
    "LocalStudent",
    "NotImplementedByStudent",
    "Student",
    "StudentCrashed",
    "StudentMissing",
    "StudentProblem",
    "StudentRaised",
    "StudentTimeout",
    "describe_exception",
    "invoke",
    "resolve",
    "swap_names",
]


def _student_frames(tb) -> str:
    """Where in the student's own code an exception was raised, as " (line N of ...)" or ""."""
    import os

    library = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = [
        f
        for f in traceback.extract_tb(tb)
        if "site-packages" not in f.filename and not f.filename.startswith((library, "<frozen"))
    ]
    if not frames:
        return ""
    last = frames[-1]
    where = last.filename[1:-1] if last.filename.startswith("<") else "your cell"
    return f" (line {last.lineno} of {where}: `{(last.line or '').strip()}`)"


def describe_exception(exc: BaseException) -> str:
    """``raised TypeError: ... (line 3 of your cell for q2: `...`)``, or the output limit."""
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return (
            "printed or wrote more output than the grader allows; "
            "print less (e.g. not inside loops)"
        )
    return f"raised {type(exc).__name__}: {exc}{_student_frames(exc.__traceback__)}"


def invoke(fn: Any, name: str, args: list, kwargs: dict) -> CallInfo:
    """Call ``fn`` with materialized ``args``/``kwargs`` and convert what comes back to plain data.

    Raises:
        NotImplementedByStudent: the function still raises ``NotImplementedError``.
        StudentRaised: it raised anything else, or returned something that is not plain data.
    """
    if not callable(fn):
        raise StudentRaised(f"{name} is a {type(fn).__name__}, not a function")
    real_args = [materialize(a) for a in args]
    real_kwargs = {k: materialize(v) for k, v in kwargs.items()}
    try:
        result = fn(*real_args, **real_kwargs)
    except NotImplementedError as exc:
        raise NotImplementedByStudent(
            f"{name} still raises NotImplementedError({str(exc)!r})"
        ) from None
    except Exception as exc:  # the student's bug, reported in teaching terms
        raise StudentRaised(f"{name} {describe_exception(exc)}") from None
    try:
        value = to_plain(result)
        after = [to_plain(a) if _is_tensor(a) else None for a in real_args]
    except NotPlainData as exc:
        raise StudentRaised(f"{name} {exc}") from None
    returned = next((i for i, a in enumerate(real_args) if a is result and _is_tensor(a)), None)
    return CallInfo(value=value, args_after=after, returned_arg=returned)


def _is_tensor(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch") and hasattr(obj, "detach")


def resolve(ref: str) -> Any:
    """The object named by ``"module:attribute"``."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def swap_names(namespace: MutableMapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Replace ``names`` in ``namespace`` by their stand-ins; returns what to put back."""
    saved = {name: namespace.get(name, _ABSENT) for name in names}
    for name, ref in names.items():
        namespace[name] = resolve(ref)
    return saved


def restore_names(namespace: MutableMapping[str, Any], saved: Mapping[str, Any]) -> None:
    for name, value in saved.items():
        if value is _ABSENT:
            namespace.pop(name, None)
        else:
            namespace[name] = value


_ABSENT = object()


class Student:
    """A handle on a student's code: ``student.f(*args)`` calls the student's ``f``.

    Arguments must be plain data or specs (:func:`~dlcourse.grading.wire.empty`,
    :func:`~dlcourse.grading.wire.seeded`, :func:`~dlcourse.grading.wire.tensor`); results come
    back as plain data.
    """

    def call_info(self, name: str, *args: Any, **kwargs: Any) -> CallInfo:
        """Call the student's ``name``; what came back, as plain data (see :class:`CallInfo`)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's ``name`` and return its value as plain data."""
        return self.call_info(name, *args, **kwargs).value

    def source(self, name: str) -> str:
        """The source code of the student's ``name`` (for checks such as "no torch.nn.init")."""
        raise NotImplementedError  # pragma: no cover - abstract

    @contextlib.contextmanager
    def isolated(self, names: Mapping[str, str]) -> Iterator[None]:
        """Within the block, the student's ``names`` are replaced by library stand-ins."""
        raise NotImplementedError  # pragma: no cover - abstract
        yield

    def __getattr__(self, name: str):
        """``student.f`` calls the student's ``f``."""
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)


class LocalStudent(Student):
    """Student code that lives in this process, e.g. the notebook a student is running.

    ``called`` records the answer functions the tests called, by name. When the namespace holds
    IPython's input history (``_ih``), a name that is missing is told apart from a name whose cell
    was run but raised before defining it.
    """

    def __init__(
        self, namespace: Mapping[str, Any], globals_: MutableMapping[str, Any] | None = None
    ):
        """Student code looked up in ``namespace``; stand-ins go into ``globals_``."""
        self._namespace = namespace
        self._globals = globals_ if globals_ is not None else {}
        self.called: dict[str, Any] = {}

    def call_info(self, name: str, *args: Any, **kwargs: Any) -> CallInfo:
        """Call the student's ``name`` in this process."""
        if name not in self._namespace:
            raise StudentMissing(self._missing_message(name))
        self.called.setdefault(name, self._namespace[name])
        return invoke(self._namespace[name], name, list(args), dict(kwargs))

    def _missing_message(self, name: str) -> str:
        from dlcourse.grading.scope import defining_cell

        history = self._namespace.get("_ih")
        cell = defining_cell(history, name) if isinstance(history, list) else None
        if cell is None:
            return f"{name} is not defined: run the cell that defines it first"
        return (
            f"{name} is not defined although you ran the cell that defines it (In [{cell}]): "
            "that cell raised an error (see its output) before defining it; fix the error and run "
            "the cell again"
        )

    def source(self, name: str) -> str:
        """The source code of the student's ``name`` (``""`` when there is none)."""
        import inspect

        try:
            return inspect.getsource(self._namespace[name])
        except (KeyError, TypeError, OSError):
            return ""

    @contextlib.contextmanager
    def isolated(self, names: Mapping[str, str]) -> Iterator[None]:
        """Within the block, ``names`` are replaced by library stand-ins in ``globals_``."""
        saved = swap_names(self._globals, names)
        try:
            yield
        finally:
            restore_names(self._globals, saved)

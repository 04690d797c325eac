"""The grader <-> child protocol: operations, the requests the grader sends, the child's answers.

One JSON line per request and per reply (encoded by :mod:`dlcourse.grading.wire`):

* ``exec`` — run a notebook cell in the student namespace; replies
  ``{"status": "ok"|"error"|"not_implemented", "message": ...}``;
* ``call`` — call a student function; replies ``{"ok": {CallInfo fields}}`` or
  ``{"problem": {"status", "message"}}``;
* ``source`` — the source text of a student function; replies ``{"ok": text}``;
* ``swap`` — put library stand-ins (``{name: "module:attribute"}``) in place of other questions'
  answers; an empty mapping puts the student's answers back;
* ``exit`` — end the child.

The grader builds requests with the ``*_request`` functions and reads replies with
:func:`call_reply` and :func:`raise_problem`; the child answers with :func:`dispatch`.
"""

from __future__ import annotations

import inspect
import linecache
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dlcourse.grading import status
from dlcourse.grading.status import StudentMissing, StudentProblem
from dlcourse.grading.wire import CallInfo

__all__ = [
    "CALL",
    "EXEC",
    "EXIT",
    "HANDLERS",
    "SOURCE",
    "SWAP",
    "ChildState",
    "call_reply",
    "call_request",
    "dispatch",
    "exec_request",
    "exit_request",
    "raise_problem",
    "source_request",
    "strip_magics",
    "swap_request",
]

EXEC, CALL, SOURCE, SWAP, EXIT = "exec", "call", "source", "swap", "exit"


# ---------------------------------------------------------------- the grader's side


def exec_request(code: str, label: str) -> dict:
    """Run ``code`` (a notebook cell) in the child; ``label`` names it in tracebacks."""
    return {"op": EXEC, "code": code, "label": label}


def call_request(name: str, args: list, kwargs: dict) -> dict:
    """Call the student's ``name`` with plain-data ``args``/``kwargs`` (specs allowed)."""
    return {"op": CALL, "name": name, "args": args, "kwargs": kwargs}


def source_request(name: str) -> dict:
    """Ask for the source text of the student's ``name``."""
    return {"op": SOURCE, "name": name}


def swap_request(names: dict[str, str]) -> dict:
    """Put stand-ins in place of ``names`` (``{}``: put the student's answers back)."""
    return {"op": SWAP, "names": names}


def exit_request() -> dict:
    """End the child."""
    return {"op": EXIT}


def raise_problem(reply: dict) -> None:
    """Raise the :class:`~dlcourse.grading.status.StudentProblem` a reply carries, if any."""
    if "problem" in reply:
        problem = reply["problem"]
        raise status.problem(str(problem.get("status")), str(problem.get("message")))


def call_reply(reply: dict) -> CallInfo:
    """The :class:`~dlcourse.grading.wire.CallInfo` of a ``call`` reply, or the problem raised."""
    raise_problem(reply)
    ok = reply["ok"]
    after, returned = list(ok["args_after"]), ok["returned_arg"]
    if type(returned) is int and 0 <= returned < len(after) and after[returned] is None:
        value = ok["value"]  # the child sends a returned argument once, as the value
        after[returned] = value.copy() if hasattr(value, "copy") else value
    return CallInfo(ok["value"], after, returned)


def _problem(exc: StudentProblem) -> dict:
    return {"problem": {"status": exc.status, "message": exc.message}}


# ---------------------------------------------------------------- the child's side


def _display(*objects: Any, **_ignored: Any) -> None:
    """Stand-in for IPython's ``display`` outside a kernel."""
    for obj in objects:
        print(repr(obj))


@dataclass
class ChildState:
    """What the child keeps between requests: the student namespace and the swapped-out answers."""

    namespace: dict = field(default_factory=lambda: {"__name__": "__main__", "display": _display})
    saved: dict = field(default_factory=dict)


def strip_magics(code: str) -> str:
    """Drop IPython-only lines (``%magic``, ``!shell``), which mean nothing outside a kernel."""
    if code.lstrip().startswith("%%"):
        return ""
    lines = [
        "pass  # IPython magic removed" if ln.lstrip().startswith(("%", "!")) else ln
        for ln in code.splitlines()
    ]
    return "\n".join(lines)


def _exec(state: ChildState, request: dict) -> dict:
    from dlcourse.grading.student import describe_exception

    code, label = strip_magics(request["code"]), request["label"]
    # Registered with linecache so tracebacks and inspect.getsource can show the student's lines.
    linecache.cache[f"<{label}>"] = (len(code), None, code.splitlines(True), f"<{label}>")
    try:
        exec(compile(code, f"<{label}>", "exec"), state.namespace)
    except NotImplementedError as exc:
        return {
            "status": "not_implemented",
            "message": f"the cell raised NotImplementedError({str(exc)!r})",
        }
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: the cell failed
        return {"status": "error", "message": describe_exception(exc).removeprefix("raised ")}
    return {"status": "ok", "message": ""}


def _call(state: ChildState, request: dict) -> dict:
    from dlcourse.grading.student import invoke

    name = request["name"]
    try:
        if name not in state.namespace:
            raise StudentMissing(f"{name} is not defined in your notebook")
        info = invoke(
            state.namespace[name], name, request.get("args", []), request.get("kwargs", {})
        )
    except StudentProblem as exc:
        return _problem(exc)
    after = list(info.args_after)
    if info.returned_arg is not None:
        after[info.returned_arg] = None  # the same as the value: not sent twice
    return {"ok": {"value": info.value, "args_after": after, "returned_arg": info.returned_arg}}


def _source(state: ChildState, request: dict) -> dict:
    try:
        return {"ok": inspect.getsource(state.namespace[request["name"]])}
    except (KeyError, TypeError, OSError):
        return {"ok": ""}


def _swap(state: ChildState, request: dict) -> dict:
    from dlcourse.grading.student import restore_names, swap_names

    restore_names(state.namespace, state.saved)
    state.saved.clear()
    try:
        state.saved.update(swap_names(state.namespace, request.get("names", {})))
    except (ImportError, AttributeError) as exc:
        return {"problem": {"status": "error", "message": f"stand-in could not be loaded: {exc}"}}
    return {"ok": None}


#: The child's handler of each operation (``exit`` is handled by the loop in the sandbox).
HANDLERS: dict[str, Callable[[ChildState, dict], dict]] = {
    EXEC: _exec,
    CALL: _call,
    SOURCE: _source,
    SWAP: _swap,
}


def dispatch(state: ChildState, request: dict) -> dict:
    """The child's reply to one request."""
    handler = HANDLERS.get(request.get("op", ""))
    if handler is None:
        return {"problem": {"status": "error", "message": f"unknown request {request.get('op')!r}"}}
    return handler(state, request)

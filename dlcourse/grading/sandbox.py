"""The child process that runs a student's code for the autograder.

Started as ``python -I -m dlcourse.grading.sandbox REQ_FD RESP_FD`` by
:class:`dlcourse.grading.session.Session`. It reads one JSON request per line from ``REQ_FD`` and
answers one JSON line on ``RESP_FD`` (see :mod:`dlcourse.grading.wire`):

* ``{"op": "exec", "code": ..., "label": ...}`` runs a notebook cell in the student namespace;
* ``{"op": "call", "name": ..., "args": [...], "kwargs": {...}}`` calls a student function and
  returns plain data only (:class:`~dlcourse.grading.wire.CallInfo` fields);
* ``{"op": "source", "name": ...}`` returns the source text of a student function;
* ``{"op": "swap", "names": {name: "module:attribute"}}`` puts library stand-ins in place of
  other questions' answers (an empty mapping puts the student's answers back);
* ``{"op": "exit"}``.

Standard input is closed and standard output/error go to a capped log file, so nothing the student
prints can be mistaken for an answer. The grader enforces time limits by killing this process.
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys

__all__ = ["main", "strip_magics"]


def strip_magics(code: str) -> str:
    """Drop IPython-only lines (``%magic``, ``!shell``), which mean nothing outside a kernel."""
    if code.lstrip().startswith("%%"):
        return ""
    lines = ["pass  # IPython magic removed" if ln.lstrip().startswith(("%", "!")) else ln for ln in code.splitlines()]
    return "\n".join(lines)


def _exec_cell(namespace: dict, code: str, label: str) -> dict:
    code = strip_magics(code)
    # Registered with linecache so tracebacks and inspect.getsource can show the student's lines.
    linecache.cache[f"<{label}>"] = (len(code), None, code.splitlines(True), f"<{label}>")
    try:
        exec(compile(code, f"<{label}>", "exec"), namespace)
    except NotImplementedError as exc:
        return {"status": "not_implemented", "message": f"the cell raised NotImplementedError({str(exc)!r})"}
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: the cell failed
        from dlcourse.grading.student import describe_exception

        return {"status": "error", "message": describe_exception(exc).removeprefix("raised ")}
    return {"status": "ok", "message": ""}


def _call(namespace: dict, request: dict) -> dict:
    from dlcourse.grading.student import StudentProblem, invoke

    name = request["name"]
    if name not in namespace:
        return {"problem": {"status": "missing", "message": f"{name} is not defined in your notebook"}}
    try:
        info = invoke(namespace[name], name, request.get("args", []), request.get("kwargs", {}))
    except StudentProblem as exc:
        return {"problem": {"status": exc.status, "message": exc.message}}
    return {"ok": {"value": info.value, "args_after": info.args_after, "returned_arg": info.returned_arg}}


def _source(namespace: dict, request: dict) -> dict:
    try:
        return {"ok": inspect.getsource(namespace[request["name"]])}
    except (KeyError, TypeError, OSError):
        return {"ok": ""}


def _swap(namespace: dict, request: dict, saved: dict) -> dict:
    from dlcourse.grading.student import restore_names, swap_names

    restore_names(namespace, saved)
    saved.clear()
    try:
        saved.update(swap_names(namespace, request.get("names", {})))
    except (ImportError, AttributeError) as exc:
        return {"problem": {"status": "error", "message": f"stand-in could not be loaded: {exc}"}}
    return {"ok": None}


def _display(*objects, **_ignored) -> None:
    """Stand-in for IPython's ``display`` outside a kernel."""
    for obj in objects:
        print(repr(obj))


def _flush_output() -> None:
    """Flush what the student printed; past the output limit the flush fails, which is not fatal."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    req_fd, resp_fd = int(argv[0]), int(argv[1])
    from dlcourse.grading.wire import decode, encode

    requests = os.fdopen(req_fd, "r", encoding="utf-8")
    responses = os.fdopen(resp_fd, "w", encoding="utf-8")
    namespace: dict = {"__name__": "__main__", "display": _display}
    saved: dict = {}
    for line in requests:
        request = decode(line)
        op = request.get("op")
        if op == "exit":
            break
        if op == "exec":
            reply = _exec_cell(namespace, request["code"], request["label"])
        elif op == "call":
            reply = _call(namespace, request)
        elif op == "source":
            reply = _source(namespace, request)
        elif op == "swap":
            reply = _swap(namespace, request, saved)
        else:
            reply = {"problem": {"status": "error", "message": f"unknown request {op!r}"}}
        _flush_output()
        responses.write(encode(reply) + "\n")
        responses.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

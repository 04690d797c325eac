"""Which cell defines a name: what the grader runs versus what a student's notebook holds.

The autograder runs the lab's own cells and the student's answer cells, nothing else. A helper
that a student defines in a cell of their own is there when ``check`` runs in their notebook but
not in the grader, where the answer fails with a ``NameError``. These helpers find such names: in
a submitted notebook (cells the grader does not run) and in a live kernel, where IPython's input
history (``_ih``, one entry per executed cell) tells which cell defined a name.

See the book: the labs (README, "Writing a lab").
"""

from __future__ import annotations

import ast
import builtins
import dis
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from types import CodeType
from typing import Any

__all__ = [
    "defined_names",
    "defining_cell",
    "explain_name_error",
    "globals_used",
    "outside_answer_cells",
    "outside_message",
]

_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")
# When a cell cannot be parsed (it has a syntax error), its definitions are found line by line.
_DEF_LINE = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=[^=]", re.M)


def _targets(node: ast.AST) -> Iterable[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            yield sub.id


@functools.lru_cache(maxsize=1024)
def defined_names(source: str) -> frozenset[str]:
    """The names a cell binds at its top level (functions, classes, assignments, imports).

    Args:
        source: the cell's code.

    Returns:
        The names; for code with a syntax error, the ``def``/``class``/assignment lines found.
    """
    return frozenset(_bound(source))


def _bound(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {a or b for a, b in _DEF_LINE.findall(source)}
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            names.update(_targets(node))
    return names


def _codes(code: CodeType) -> Iterable[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def globals_used(fn: Any) -> set[str]:
    """The global names a function (and the functions nested in it) reads, builtins excluded."""
    code = getattr(fn, "__code__", None)
    if not isinstance(code, CodeType):
        return set()
    found = {
        str(ins.argval)
        for c in _codes(code)
        for ins in dis.get_instructions(c)
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")
    }
    return {n for n in found if not hasattr(builtins, n)}


def defining_cell(history: Sequence[str], name: str) -> int | None:
    """The index in ``history`` (IPython's ``_ih``) of the last cell that defines ``name``."""
    for index in range(len(history) - 1, -1, -1):
        if isinstance(history[index], str) and name in defined_names(history[index]):
            return index
    return None


def outside_message(name: str, question: str) -> str:
    """What to tell a student whose answer to ``question`` uses ``name`` from an unrun cell."""
    return (
        f"`{name}` is defined outside the answer cells, which is all the grader runs: "
        f"move it into the answer cell of {question}"
    )


def outside_answer_cells(
    history: Sequence[str], answers: Mapping[str, Any], also_graded: Iterable[str] = ()
) -> list[str]:
    """Global names the ``answers`` use that a cell the grader does not run defines.

    The grader runs the answer cells (those defining an answer or one of ``also_graded``, the
    answers of other questions) and the lab's setup cell (the one calling ``open_lab``).

    Args:
        history: the kernel's input history (``_ih``).
        answers: the answer functions by name.
        also_graded: names whose defining cells count as answer cells too.

    Returns:
        The names, sorted.
    """
    graded = {i for i, src in enumerate(history) if isinstance(src, str) and "open_lab(" in src}
    for name in [*answers, *also_graded]:
        cell = defining_cell(history, name)
        if cell is not None:
            graded.add(cell)
    outside = set()
    for fn in answers.values():
        for name in globals_used(fn) - set(answers):
            cell = defining_cell(history, name)
            if cell is not None and cell not in graded:
                outside.add(name)
    return sorted(outside)


def explain_name_error(message: str, outside: Iterable[str], question: str) -> str:
    """``message`` with the cause added when it is a ``NameError`` for a name in ``outside``."""
    found = _NAME_ERROR.search(message)
    if found is None or found.group(1) not in set(outside):
        return message
    return f"{message}. {outside_message(found.group(1), question)}"

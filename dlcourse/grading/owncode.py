"""Own-code checks: does an answer call a library instead of implementing the formula itself?

The check reads the answer's source as a syntax tree, so comments, docstrings and strings never
count, and it follows names to what they are bound to: ``import torch.nn.init as tni``,
``from torch.nn import init as I``, ``from torch.nn.init import xavier_normal_ as x``,
``f = torch.nn.init.xavier_normal_``, ``getattr(torch.nn.init, "xavier_normal_")``,
``importlib.import_module("torch.nn.init")`` and ``__import__("torch.nn.init")``.

A name that a function uses but does not bind itself (an import at the top of the answer's cell, a
helper defined beside it) is *free*. :func:`library_calls` asks a ``resolve`` callback what a free
name stands for; :func:`find_library_use` answers from the student's namespace, by comparing the
source of what the name holds with the source of the forbidden modules and their functions, and
follows the student's own helpers. See the book: Weight initialization (lab 1 writes the
initializers itself).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["FORBIDDEN", "LibraryCall", "find_library_use", "library_calls"]

FORBIDDEN = ("torch.nn.init", "dlcourse.init")

# Free names that mean the same module in every notebook of the course.
_CONVENTIONAL = {
    "torch": "torch",
    "nn": "torch.nn",
    "dlcourse": "dlcourse",
    "importlib": "importlib",
}
_IMPORTERS = ("importlib.import_module", "__import__")
_MAX_HELPERS = 8

Resolver = Callable[[str], "str | None"]


@dataclass(frozen=True)
class LibraryCall:
    """One use of a forbidden library in a function's source.

    Attributes:
        name: the qualified name it reaches, e.g. ``"torch.nn.init.xavier_normal_"``.
        module: the forbidden module it belongs to, e.g. ``"torch.nn.init"``.
        line: its line number in the source (1-based).
        code: that line of the source, stripped.
        function: the function whose source holds it (set by :func:`find_library_use`).
    """

    name: str
    module: str
    line: int
    code: str
    function: str = ""


class _Scope:
    """Names bound to qualified names ("torch.nn.init"), from one function's syntax tree."""

    def __init__(self, tree: ast.AST, resolve: Resolver | None):
        self.bound: dict[str, str] = {}
        self.local = _bound_names(tree)
        self.resolve = resolve
        self._free: dict[str, str | None] = {}
        for _ in range(5):  # aliases of aliases: a few passes reach the fixed point
            before = dict(self.bound)
            for node in ast.walk(tree):
                self._bind(node)
            if self.bound == before:
                break

    def _bind(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                self.bound[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                self.bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and node.value:
            value = self.qualify(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if value and isinstance(target, ast.Name):
                    self.bound[target.id] = value

    def name(self, identifier: str) -> str | None:
        if identifier in self.bound:
            return self.bound[identifier]
        if identifier in self.local:
            return None
        if hasattr(builtins, identifier):
            return identifier if identifier in _IMPORTERS else None
        if identifier not in self._free:
            found = self.resolve(identifier) if self.resolve else None
            self._free[identifier] = found or _CONVENTIONAL.get(identifier)
        return self._free[identifier]

    def qualify(self, node: ast.AST) -> str | None:
        """The qualified name an expression evaluates to, when it is a module or a member of one."""
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        if not isinstance(node, ast.Call) or not node.args:
            return None
        first = node.args[0]
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            base, attr = self.qualify(first), node.args[1]
            if base is None:
                return None
            return f"{base}.{_string(attr) or '<computed name>'}"
        func = self.qualify(node.func)
        module = _string(first)
        if func in _IMPORTERS and module:
            fromlist = len(node.args) >= 4 or any(k.arg == "fromlist" for k in node.keywords)
            if func == "__import__" and not fromlist:
                return module.split(".")[0]  # __import__("a.b") returns the package a
            return module
        return None


def _string(node: ast.AST) -> str | None:
    """The value of a string literal, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _bound_names(tree: ast.AST) -> set[str]:
    """Names a function binds itself: arguments, assignments, loop variables, defs, imports."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _owner(name: str, modules: tuple[str, ...]) -> str | None:
    return next((m for m in modules if name == m or name.startswith(m + ".")), None)


def library_calls(
    source: str, modules: Iterable[str] = FORBIDDEN, resolve: Resolver | None = None
) -> list[LibraryCall]:
    """Every use of ``modules`` (or of their members) in ``source``, in source order.

    A use is an expression that evaluates to such a module or member, however the name was
    reached; an import alone is not a use. Comments, docstrings and strings are ignored.

    Args:
        source: Python source code, e.g. one function (indented code is dedented first).
        modules: qualified module names that count; by default ``torch.nn.init`` and
            ``dlcourse.init``.
        resolve: called with each free name the code uses; returns the qualified name it stands
            for (``"torch.nn.init"``) or ``None``. Free names it does not know keep their
            conventional meaning (``torch``, ``nn`` for ``torch.nn``, ``dlcourse``, ``importlib``).

    Returns:
        The uses found, outermost expression only (``torch.nn.init.normal_``, not also
        ``torch.nn.init``); an empty list for clean code and for code that does not parse.

    Raises:
        TypeError: ``source`` is not a string.

    See the book: Weight initialization.
    """
    if not isinstance(source, str):
        raise TypeError(
            f"library_calls: source must be a str of Python code, got {type(source).__name__}"
        )
    modules = tuple(modules)
    source = textwrap.dedent(source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    scope, lines = _Scope(tree, resolve), source.splitlines()
    found: list[tuple[int, LibraryCall]] = []
    inside: set[int] = set()
    for node in ast.walk(tree):  # breadth first: an outer expression comes before its parts
        if id(node) in inside or not isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
            continue
        if not isinstance(node, ast.Call) and not isinstance(node.ctx, ast.Load):
            continue
        name = scope.qualify(node)
        module = _owner(name, modules) if name else None
        if name and module:
            inside.update(id(n) for n in ast.walk(node))
            code = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
            found.append((node.col_offset, LibraryCall(name, module, node.lineno, code)))
    return [call for _, call in sorted(found, key=lambda item: (item[1].line, item[0]))]


@functools.lru_cache(maxsize=8)
def _library_sources(modules: tuple[str, ...]) -> dict[str, str]:
    """Source text of each module in ``modules`` and of its public functions -> qualified name."""
    known: dict[str, str] = {}
    for name in modules:
        module = importlib.import_module(name)
        known.setdefault(inspect.getsource(module), name)
        for attr in getattr(module, "__all__", dir(module)):
            obj = getattr(module, attr, None)
            if inspect.isfunction(obj):
                with contextlib.suppress(OSError, TypeError):  # built in or generated
                    known.setdefault(inspect.getsource(obj), f"{name}.{attr}")
    return known


def find_library_use(
    student: Any, name: str, modules: Iterable[str] = FORBIDDEN, trusted: Iterable[str] = ()
) -> list[LibraryCall]:
    """Uses of ``modules`` in the student's function ``name`` and in the helpers it calls.

    A free name is looked up in the student's namespace (``student.source``): when it holds a
    forbidden module or one of its functions (``from torch.nn import init as I`` at the top of the
    cell), it resolves to that; when it holds the student's own function, that function is checked
    too (up to a few helpers).

    Args:
        student: a :class:`~dlcourse.grading.student.Student`.
        name: the function to check.
        modules: the forbidden modules (default :data:`FORBIDDEN`).
        trusted: names never looked up, e.g. other questions' answers, which the grader replaces
            by library stand-ins while it tests this question.

    Returns:
        The uses found, each with the ``function`` it sits in; empty when the code is the
        student's own.

    See the book: Weight initialization.
    """
    modules, skip = tuple(modules), set(trusted)
    known = _library_sources(modules)
    todo, seen, found = [name], {name}, []
    while todo and len(seen) <= _MAX_HELPERS:
        current = todo.pop(0)

        def resolve(free: str) -> str | None:
            if free in skip:
                return None
            text = student.source(free)
            if text in known:
                return known[text]
            if text.lstrip().startswith(("def ", "@")) and free not in seen:
                seen.add(free)
                todo.append(free)  # the student's own helper: check it as well
            return None

        source = student.source(current)
        if source in known:  # the name holds the library's function itself (f = init.normal_)
            module = _owner(known[source], modules) or ""
            code = source.lstrip().splitlines()[0].strip()
            found.append(LibraryCall(known[source], module, 1, code, current))
            continue
        for call in library_calls(source, modules, resolve):
            found.append(LibraryCall(call.name, call.module, call.line, call.code, current))
    return found

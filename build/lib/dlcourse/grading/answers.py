"""Finding a student's answer cells when their metadata is gone.

The grader finds each answer by its cell's ``grade_id`` (see :mod:`dlcourse.grading.runner`).
Answers pasted into a fresh notebook lose it; the instructor's source says which functions and
classes each answer cell defines, so a cell without a ``grade_id`` that defines them is taken as
that answer, with a note for the student.

See the book: the labs (README, "For instructors").
"""

from __future__ import annotations

import ast

import nbformat

from dlcourse.authoring.source import LabSource

__all__ = ["adopt_answers", "defined_functions"]


def defined_functions(code: str) -> frozenset[str]:
    """The functions and classes that ``code`` defines at its top level (none if it cannot parse).

    Args:
        code: a cell's source.

    Returns:
        Their names.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return frozenset()
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return frozenset(node.name for node in tree.body if isinstance(node, kinds))


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("dlcourse", {}).get("grade_id")


def adopt_answers(source: LabSource, submission: nbformat.NotebookNode) -> list[str]:
    """Give answer cells that lost their ``grade_id`` the one whose functions they define.

    Args:
        source: the lab's instructor source.
        submission: the student's notebook; matched cells get ``metadata.dlcourse.grade_id``.

    Returns:
        One note per cell matched this way.
    """
    present = {_grade_id(c) for c in submission.cells}
    free = [
        c for c in submission.cells if c.get("cell_type") == "code" and _grade_id(c) is None
    ]
    notes = []
    for cell in source.cells:
        if cell.role != "solution" or cell.grade_id in present:
            continue
        wanted = defined_functions(cell.source)
        scored = [
            (len(wanted & defined_functions(c.get("source", ""))), i) for i, c in enumerate(free)
        ]
        best = max(scored, default=(0, -1))  # ties: the later cell, as a notebook run would
        if best[0] == 0:
            continue
        match = free.pop(best[1])
        match.setdefault("metadata", {}).setdefault("dlcourse", {})["grade_id"] = cell.grade_id
        names = ", ".join(sorted(wanted & defined_functions(match.get("source", ""))))
        notes.append(
            f"the answer to {cell.question} was found by the functions it defines ({names}): "
            "its cell had lost its metadata (pasted into a new notebook?)"
        )
    return notes

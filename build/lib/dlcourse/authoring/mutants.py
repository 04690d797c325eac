"""Mutation tests for a lab: plausible wrong answers, graded through the real grader.

A lab's tests are only as good as the mistakes they catch. A :class:`Mutant` is the solution
notebook with one answer edited the way a student might get it wrong; :func:`grade_mutants` writes
the solution, the untouched student lab and every mutant as one class of submissions, grades them
in one batch with ``dlcourse grade`` (sandboxed, as a real class is graded) and returns each
submission's result. A lab's test then requires that the solution scores full marks, the blank lab
nothing, and each mutant loses exactly its question with a message that names the mistake
(:func:`mutant_verdict`).

See the README: Writing a lab.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["Mutant", "grade_mutants", "mutant_table", "mutant_verdict", "mutate"]


@dataclass(frozen=True)
class Mutant:
    """A wrong answer to one question.

    Attributes:
        question: the question it must lose, e.g. ``"q2"``.
        edits: ``(old, new)`` text replacements in that question's solution cells; each ``old``
            must occur in exactly one of them (so a changed solution fails loudly, not silently).
        phrase: text the grader's message for the question must contain, the mistake named in
            terms a student can act on.
    """

    question: str
    edits: tuple[tuple[str, str], ...]
    phrase: str


def mutate(source: Path, mutant: Mutant) -> nbformat.NotebookNode:
    """The solution notebook at ``source`` with ``mutant``'s edits applied to its answer cells.

    Raises:
        ValueError: an edit's text is in none of the question's solution cells, or in several.
    """
    nb = nbformat.read(source, as_version=4)
    cells = [
        c
        for c in nb.cells
        if c.metadata.get("dlcourse", {}).get("role") == "solution"
        and c.metadata["dlcourse"].get("question") == mutant.question
    ]
    for old, new in mutant.edits:
        found = [c for c in cells if old in c.source]
        if len(found) != 1:
            raise ValueError(
                f"{source.name}: {old!r} is in {len(found)} of {mutant.question}'s solution cells, "
                "not exactly one: update the mutant to the current solution"
            )
        found[0].source = found[0].source.replace(old, new, 1)
    return nb


def _folder(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")


def grade_mutants(
    lab: str,
    mutants: dict[str, Mutant],
    workdir: Path,
    *,
    root: Path = Path("."),
    jobs: int = 2,
) -> dict[str, dict]:
    """Grade the solution, the untouched lab and every mutant of ``lab`` in one batch.

    Args:
        lab: the lab's name, e.g. ``"lab01_initialization"``.
        mutants: name -> :class:`Mutant`.
        workdir: an empty folder for the submissions and the results.
        root: the course folder holding ``solutions/`` and ``labs/``.
        jobs: grading processes.

    Returns:
        name -> the graded result (the grader's JSON), with the extra names ``"solution"`` and
        ``"untouched"``.
    """
    from dlcourse.cli import main as cli

    source = root / "solutions" / f"{lab}.ipynb"
    submissions, out = workdir / "submitted", workdir / "autograded"
    notebooks = {
        "solution": nbformat.read(source, as_version=4),
        "untouched": nbformat.read(root / "labs" / f"{lab}.ipynb", as_version=4),
    }
    notebooks.update({name: mutate(source, m) for name, m in mutants.items()})
    folders = {name: _folder(name) for name in notebooks}
    if len(set(folders.values())) != len(folders):
        raise ValueError("two mutants' names differ only in punctuation: rename one")
    for name, nb in notebooks.items():
        (submissions / folders[name]).mkdir(parents=True)
        nbformat.write(nb, submissions / folders[name] / f"{lab}.ipynb")
    args = ["grade", lab, "--submissions", str(submissions), "--out", str(out)]
    rc = cli([*args, "--solutions", str(root / "solutions"), "--jobs", str(jobs)])
    if rc != 0:
        raise RuntimeError(f"dlcourse grade {lab} exited with {rc}")
    return {
        name: json.loads((out / folder / f"{lab}.json").read_text())
        for name, folder in folders.items()
    }


def mutant_verdict(results: dict[str, dict], name: str, mutant: Mutant) -> str | None:
    """Why ``mutant``'s result is wrong, or ``None`` when it lost exactly its question as named."""
    questions = results[name]["questions"]
    mine = questions[mutant.question]
    if mine["status"] == "passed":
        return f"{name} passed {mutant.question}"
    lost = {q: r["status"] for q, r in questions.items() if q != mutant.question}
    if set(lost.values()) - {"passed"}:
        return f"{name} lost other questions too: {lost}"
    if mutant.phrase not in mine["message"]:
        return f"{name}: the message does not say {mutant.phrase!r}: {mine['message']!r}"
    return None


def mutant_table(results: dict[str, dict], mutants: dict[str, Mutant]) -> str:
    """One line per mutant: its question, status and the grader's message (for ``pytest -s``)."""
    lines = [f"{'mutant':42s} {'q':4s} {'status':8s} message"]
    for name, m in mutants.items():
        r = results[name]["questions"][m.question]
        lines.append(f"{name:42s} {m.question:4s} {r['status']:8s} {r['message']}")
    return "\n".join(lines)

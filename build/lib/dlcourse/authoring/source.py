"""Reading a lab's instructor source: questions, cell roles and the nbgrader-style regions.

The source notebook ``solutions/labNN_topic.ipynb`` carries, in its metadata under ``dlcourse``::

    {"lab": "lab01_initialization", "time_limit": 30,
     "questions": [{"id": "q1", "points": 2, "task": "implement calculate_fans"}, ...]}

The lab's number and title live once, in its :class:`~dlcourse.grading.registry.Lab`
(``dlcourse/labs/labNN_topic.py``, which students have too); :func:`load_source` reads them from
there and refuses a notebook whose own ``number``/``title`` contradict them.

and each graded cell carries ``{"role": "solution", "question": "q1", "grade_id": "q1-fans"}``
or ``{"role": "tests", "question": "q1"}``; cells with ``{"role": "demo"}`` are experiments for
the student that the autograder does not run. In solution cells, the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` is the answer; in test cells, the code between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is hidden from students.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_SOLUTION",
    "END_HIDDEN",
    "END_SOLUTION",
    "LabSource",
    "QuestionSpec",
    "SourceCell",
    "SourceError",
    "load_source",
    "regions",
]

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_ROLES = ("solution", "tests", "demo")


class SourceError(ValueError):
    """The instructor's source notebook is malformed; the message names the cell and the fix."""


@dataclass(frozen=True)
class QuestionSpec:
    """One question of a lab: its id, points and the task its stub names."""

    id: str
    points: float
    task: str


@dataclass(frozen=True)
class SourceCell:
    """One cell of the source notebook with its ``dlcourse`` metadata."""

    index: int
    cell_type: str
    source: str
    role: str | None = None
    question: str | None = None
    grade_id: str | None = None


@dataclass(frozen=True)
class LabSource:
    """The parsed instructor notebook of one lab."""

    path: Path
    name: str
    number: int
    title: str
    time_limit: float
    questions: tuple[QuestionSpec, ...]
    cells: tuple[SourceCell, ...]

    @property
    def max_total(self) -> float:
        """The points of all questions together."""
        return float(sum(q.points for q in self.questions))

    def question(self, qid: str) -> QuestionSpec:
        """The question with id ``qid``."""
        return next(q for q in self.questions if q.id == qid)

    def hidden_code(self) -> str:
        """The hidden-test regions of every test cell, concatenated in cell order."""
        parts = []
        for cell in self.cells:
            if cell.role == "tests":
                for text, inside in regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, cell.index):
                    if inside:
                        parts.append(text)
        return "\n".join(parts)


def regions(source: str, begin: str, end: str, where: int | str = "?") -> list[tuple[str, bool]]:
    """Split ``source`` into ``(text, inside)`` pieces around ``begin``/``end`` marker lines.

    The marker lines themselves are not part of any piece. Raises :class:`SourceError` for a
    marker without its partner or nested markers.
    """
    pieces: list[tuple[str, bool]] = []
    current: list[str] = []
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(begin):
            if inside:
                raise SourceError(
                    f"cell {where}: '{begin}' inside another region; close it with '{end}' first"
                )
            pieces.append(("\n".join(current), False))
            current, inside = [], True
        elif stripped.startswith(end):
            if not inside:
                raise SourceError(f"cell {where}: '{end}' without a '{begin}' before it")
            pieces.append(("\n".join(current), True))
            current, inside = [], False
        else:
            current.append(line)
    if inside:
        raise SourceError(f"cell {where}: '{begin}' is never closed; add a '{end}' line")
    pieces.append(("\n".join(current), False))
    return [(text, ins) for text, ins in pieces if text or ins]


def _cell(index: int, cell) -> SourceCell:
    meta = cell.get("metadata", {}).get("dlcourse", {})
    role = meta.get("role")
    if role is not None and role not in _ROLES:
        raise SourceError(f"cell {index}: role {role!r} is not one of {_ROLES}")
    return SourceCell(
        index, cell.cell_type, cell.source, role, meta.get("question"), meta.get("grade_id")
    )


def _questions(meta: dict, path: Path) -> tuple[QuestionSpec, ...]:
    specs = []
    for q in meta.get("questions", []):
        try:
            specs.append(QuestionSpec(str(q["id"]), float(q["points"]), str(q.get("task", ""))))
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"{path}: each question needs an 'id' and numeric 'points'; got {q!r}"
            ) from None
    if not specs:
        raise SourceError(f"{path}: metadata.dlcourse.questions lists no questions")
    return tuple(specs)


def load_source(path: str | Path) -> LabSource:
    """Read and validate the instructor notebook at ``path``.

    Raises:
        SourceError: the notebook is malformed, or its lab has no ``LAB`` in
            ``dlcourse/labs/``, or the two disagree on the lab's number or title.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"no instructor notebook at {path}: pass solutions/labNN_topic.ipynb")
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("dlcourse")
    if not meta or "lab" not in meta:
        raise SourceError(
            f"{path}: metadata.dlcourse.lab is missing; is this a lab's source notebook?"
        )
    if not re.fullmatch(r"lab\d\d_[a-z0-9_]+", str(meta["lab"])):
        raise SourceError(
            f"{path}: lab name {meta['lab']!r} should look like 'lab01_initialization'"
        )
    number, title = _number_and_title(path, meta)
    src = LabSource(
        path=path,
        name=meta["lab"],
        number=number,
        title=title,
        time_limit=float(meta.get("time_limit", 30)),
        questions=_questions(meta, path),
        cells=tuple(_cell(i, c) for i, c in enumerate(nb.cells)),
    )
    _validate(src)
    return src


def _number_and_title(path: Path, meta: dict) -> tuple[int, str]:
    """Number and title from the lab's ``Lab``; the notebook may repeat, not contradict them."""
    from dlcourse.grading.registry import get_lab

    name = meta["lab"]
    try:
        lab = get_lab(name)
    except ValueError:
        raise SourceError(
            f"{path}: lab {name!r} has no dlcourse/labs/{name}.py defining "
            f"LAB = Lab({name!r}, title=...), where its number and title live"
        ) from None
    if not lab.title:
        raise SourceError(
            f"dlcourse/labs/{name}.py: give the lab a title: Lab({name!r}, title=...)"
        )
    for key, ours in (("number", lab.number), ("title", lab.title)):
        if key in meta and meta[key] != ours:
            raise SourceError(
                f"{path}: metadata.dlcourse.{key} is {meta[key]!r} but dlcourse/labs/{name}.py "
                f"says {ours!r}; the lab's {key} lives in its Lab: delete it from the notebook's "
                "metadata"
            )
    return lab.number, lab.title


def _validate(src: LabSource) -> None:
    solutions = [c for c in src.cells if c.role == "solution"]
    if solutions and not any(BEGIN_SOLUTION in c.source for c in solutions):
        raise SourceError(
            f"{src.path} looks like a student notebook (no solution regions): pass the "
            "instructor's source from solutions/"
        )
    ids = [q.id for q in src.questions]
    if len(set(ids)) != len(ids):
        raise SourceError(f"{src.path}: question ids repeat: {ids}")
    grade_ids: set[str] = set()
    for cell in src.cells:
        if cell.role in (None, "demo"):
            if BEGIN_SOLUTION in cell.source or BEGIN_HIDDEN in cell.source:
                raise SourceError(
                    f"cell {cell.index} has markers but no solution/tests role in metadata.dlcourse"
                )
            continue
        if cell.question not in ids:
            raise SourceError(f"cell {cell.index}: question {cell.question!r} is not one of {ids}")
        if cell.role == "solution":
            if not cell.grade_id or cell.grade_id in grade_ids:
                raise SourceError(f"cell {cell.index}: solution cells need a unique grade_id")
            grade_ids.add(cell.grade_id)
            if not any(
                ins for _, ins in regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, cell.index)
            ):
                raise SourceError(
                    f"cell {cell.index}: a solution cell needs a {BEGIN_SOLUTION} region"
                )
        else:
            regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, cell.index)
    for q in ids:
        if not any(c.role == "solution" and c.question == q for c in src.cells):
            raise SourceError(f"{src.path}: question {q} has no solution cell")

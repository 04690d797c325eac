"""Generating the student labs in ``labs/`` from the instructor source in ``solutions/``.

For each ``solutions/labNN_topic.ipynb`` the student version ``labs/labNN_topic.ipynb``:

* replaces every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region by a stub that says what to
  do — ``raise NotImplementedError("Lab 1, q2: implement xavier_normal_")`` — at the region's
  indentation;
* drops every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region;
* clears outputs and execution counts; keeps cell ids and ``dlcourse`` metadata, which the
  autograder uses to find each answer;
* opens with an "Open in Colab" badge and a cell that installs ``dlcourse`` where it is missing
  (:func:`student_cells`), so a student needs the lab notebook only.

The output is deterministic, so a test can tell when ``labs/`` is stale
(``dlcourse labs build --check``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

from dlcourse import __version__
from dlcourse.authoring.source import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    LabSource,
    load_source,
    regions,
)

__all__ = [
    "COLAB_BADGE",
    "REPOSITORY",
    "build_lab",
    "build_labs",
    "render_lab",
    "strip_hidden",
    "student_cells",
    "stub_source",
]

#: The course's GitHub repository (``owner/name``), as in ``_config.yml``'s ``repository.url``
#: (a test keeps the two equal): the labs' Colab badges and install cells point at it.
REPOSITORY = "dlcourse/dlcourse"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _indent_of_marker(source: str, begin: str) -> list[str]:
    return [
        line[: len(line) - len(line.lstrip())]
        for line in source.splitlines()
        if line.strip().startswith(begin)
    ]


def stub_source(source: str, message: str) -> str:
    """``source`` with each solution region replaced by a ``NotImplementedError`` stub."""
    indents = iter(_indent_of_marker(source, BEGIN_SOLUTION))
    out = []
    for text, inside in regions(source, BEGIN_SOLUTION, END_SOLUTION):
        if inside:
            pad = next(indents)
            out.append(
                f"{pad}# YOUR CODE HERE\n"
                f"{pad}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
            )
        else:
            out.append(text)
    return "\n".join(out)


def strip_hidden(source: str) -> str:
    """``source`` without its hidden-test regions."""
    return "\n".join(
        text for text, inside in regions(source, BEGIN_HIDDEN, END_HIDDEN) if not inside
    )


def student_cells(lab: str) -> list[nbformat.NotebookNode]:
    """The two cells every student lab opens with: an "Open in Colab" badge and the install cell.

    The install cell does nothing where ``dlcourse`` is importable (the course's checkout, the
    autograder); on Colab or a fresh laptop it installs the package at this course version, so the
    lab needs nothing from the repository. The autograder never runs either cell: it runs the
    source's cells and the student's answers.
    """
    url = f"{REPOSITORY}/blob/v{__version__}/labs/{lab}.ipynb"
    badge = nbformat.v4.new_markdown_cell(
        f"[![Open In Colab]({COLAB_BADGE})](https://colab.research.google.com/github/{url})"
    )
    package = f"dlcourse @ git+https://github.com/{REPOSITORY}@v{__version__}"
    install = nbformat.v4.new_code_cell(
        "# Colab, or a laptop without the course: install its package (this lab's version).\n"
        "import importlib.util\n\n"
        'if importlib.util.find_spec("dlcourse") is None:\n'
        f'    get_ipython().run_line_magic("pip", \'install -q "{package}"\')'
    )
    badge["id"], install["id"] = "open-in-colab", "install-dlcourse"
    return [badge, install]


def render_lab(src: LabSource) -> str:
    """The student notebook for ``src``, as the exact text written to ``labs/``."""
    nb = nbformat.read(src.path, as_version=4)
    tasks = {q.id: q.task or f"answer {q.id}" for q in src.questions}
    for info, cell in zip(src.cells, nb.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            for key in ("execution", "collapsed", "scrolled"):
                cell.metadata.pop(key, None)
        if info.role == "solution":
            cell.source = stub_source(
                cell.source, f"Lab {src.number}, {info.question}: {tasks[str(info.question)]}"
            )
        elif info.role == "tests":
            cell.source = strip_hidden(cell.source).strip("\n")
    nb.cells[:0] = student_cells(src.name)
    nb.metadata = copy.deepcopy(nb.metadata)
    nb.metadata.pop("widgets", None)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def build_lab(source_path: Path, labs_dir: Path, check: bool = False) -> bool:
    """Write (or with ``check``, compare) the student lab of one source; True when up to date."""
    text = render_lab(load_source(source_path))
    target = Path(labs_dir) / Path(source_path).name
    current = target.read_text(encoding="utf-8") if target.exists() else None
    if current == text:
        return True
    if not check:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return False


def build_labs(
    solutions_dir: Path = Path("solutions"), labs_dir: Path = Path("labs"), check: bool = False
) -> list[Path]:
    """Generate every lab; returns the labs that were (with ``check``: that would be) rewritten."""
    sources = sorted(Path(solutions_dir).glob("lab*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no lab sources (lab*.ipynb) in {solutions_dir}")
    return [
        Path(labs_dir) / s.name for s in sources if not build_lab(s, Path(labs_dir), check=check)
    ]

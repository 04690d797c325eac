"""Sphinx extension of the dlcourse book: checks on stored outputs, chapter links, API pages.

Loaded by Jupyter Book through ``sphinx.local_extensions`` in ``_config.yml``. It does three things:

1. **Stored outputs are complete.** The book is built from the outputs stored in the notebooks
   (``execute_notebooks: off``), so a chapter saved without running, or with a cell that raised,
   would render with holes. Each chapter is checked as it is read; a code cell without an
   execution count or with a stored error is a warning, and the build (``-W``) fails.
2. **"See the book: <Chapter>" becomes a link.** Docstrings end with a pointer to the chapter that
   teaches them. In the API reference, every chapter title named after "See the book:" turns into
   a link to that chapter; a chapter that is not in the book yet stays plain text.
3. **``dlcourse-automodule``**, a directive: ``automodule`` with ``:members:`` for a module and,
   for a package, for each of its public submodules, found at build time (no hand-kept lists);
   and short Python references in docstrings (``:class:`ClaimLog```) resolved across modules.
"""

from __future__ import annotations

import json
import pkgutil
import re
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

__all__ = [
    "ChapterLinks",
    "DlcourseAutomodule",
    "automodule_lines",
    "nearest_object",
    "notebook_problems",
    "pointer_spans",
    "resolve_short_name",
    "setup",
]

logger = logging.getLogger(__name__)

POINTER = "See the book:"
# The pointer's sentence ends at a full stop followed by white space or the end of the text.
SENTENCE_END = re.compile(r"\.(\s|$)")


# -- 1. stored outputs -----------------------------------------------------------------------------


def notebook_problems(notebook: dict[str, Any]) -> list[str]:
    """What keeps a notebook's stored outputs from standing for a full run.

    Args:
        notebook: the notebook as parsed JSON (nbformat 4).

    Returns:
        One message per problem: a code cell that never ran (no execution count) or that stored
        an error. A cell tagged ``raises-exception`` may store its error. Empty when all is well.
    """
    problems = []
    code_cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, start=1):
        if not "".join(cell.get("source", "")).strip():
            continue
        if cell.get("execution_count") is None:
            problems.append(f"code cell {number} has no stored outputs (never executed)")
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and "raises-exception" not in tags:
            problems.append(f"code cell {number} stored an error: {errors[0].get('ename', '?')}")
    return problems


def check_stored_outputs(app: Sphinx, doctree: nodes.document) -> None:
    """Warn (an error under ``-W``) when a chapter notebook's stored outputs are incomplete."""
    docname = app.env.docname
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    for problem in notebook_problems(json.loads(path.read_text(encoding="utf-8"))):
        logger.warning(
            f"{problem}; the book shows the stored outputs: "
            f"run `.venv/bin/dlcourse execute {path.name}`",
            location=docname,
            type="dlcourse",
            subtype="stored_outputs",
        )


# -- 2. chapter links ------------------------------------------------------------------------------


def pointer_spans(text: str, titles: list[str]) -> list[tuple[int, int, str]]:
    """Where chapter titles are named in the "See the book:" sentences of ``text``.

    Args:
        text: a paragraph's text, possibly wrapped over several lines.
        titles: the titles of the book's chapters.

    Returns:
        ``(start, end, title)`` for each title found after a pointer, before the sentence ends
        (case-insensitive, any white space between words), sorted by ``start``.
    """
    spans: list[tuple[int, int, str]] = []
    position = text.find(POINTER)
    while position >= 0:
        start = position + len(POINTER)
        end_match = SENTENCE_END.search(text, start)
        end = end_match.start() if end_match else len(text)
        for title in titles:
            words = [re.escape(word) for word in title.split()]
            pattern = re.compile(r"\b" + r"\s+".join(words) + r"\b", re.IGNORECASE)
            spans += [(m.start(), m.end(), title) for m in pattern.finditer(text, start, end)]
        position = text.find(POINTER, end)
    return sorted(spans)


class ChapterLinks(SphinxPostTransform):
    """Turn chapter titles named after "See the book:" into links to the chapters.

    Runs when a page is written, once every chapter's title is known.
    """

    default_priority = 900

    def run(self, **kwargs: Any) -> None:
        """Replace each pointer's chapter titles in this page's text with references."""
        env = self.env
        chapters = {
            env.titles[name].astext(): name
            for name in env.found_docs
            if name in env.titles and not name.startswith("book/api/") and name != env.docname
        }
        titles = sorted(chapters, key=len, reverse=True)
        for text in list(self.document.findall(nodes.Text)):
            if POINTER not in text or isinstance(text.parent, (nodes.reference, nodes.literal)):
                continue
            spans = pointer_spans(str(text), titles)
            if spans:
                text.parent.replace(text, self.linked(str(text), spans, chapters))

    def linked(
        self, text: str, spans: list[tuple[int, int, str]], chapters: dict[str, str]
    ) -> list[nodes.Node]:
        """``text`` split into plain text and references at ``spans``."""
        parts: list[nodes.Node] = []
        cursor = 0
        for start, end, title in spans:
            if start < cursor:  # a shorter title inside one already linked
                continue
            uri = self.app.builder.get_relative_uri(self.env.docname, chapters[title])
            parts += [nodes.Text(text[cursor:start])]
            parts += [nodes.reference("", text[start:end], internal=True, refuri=uri)]
            cursor = end
        return [*parts, nodes.Text(text[cursor:])]


# -- 3. API pages ----------------------------------------------------------------------------------


def public_submodules(name: str) -> list[str]:
    """``name`` and, for a package, its submodules whose names do not start with ``_``."""
    module = import_module(name)
    names = [name]
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if not info.name.startswith("_"):
            names += public_submodules(f"{name}.{info.name}")
    return names


def automodule_lines(name: str) -> list[str]:
    """The ``automodule`` directives for ``name`` and its public submodules.

    A package's page documents what it exports (its ``__all__``), then each submodule in full.
    A package member named like one of its submodules (``dlcourse.grading.check``, a function
    and a module) is documented in the submodule only: one name, one description.
    """
    lines = []
    for module in public_submodules(name):
        children = {sub.rsplit(".", 1)[1] for sub in public_submodules(module)[1:]}
        lines += [f".. automodule:: {module}", "   :members:"]
        if children:
            lines += [f"   :exclude-members: {', '.join(sorted(children))}"]
        lines += [""]
    return lines


class DlcourseAutomodule(SphinxDirective):
    """``.. dlcourse-automodule:: dlcourse.grading``: the module and its public submodules."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        """Parse the ``automodule`` directives of :func:`automodule_lines`."""
        container = nodes.container()
        lines = StringList(automodule_lines(self.arguments[0]), source="dlcourse-automodule")
        self.state.nested_parse(lines, self.content_offset, container)
        return container.children


def _shared_prefix(name: str, module: str) -> int:
    """How many leading dotted parts ``name`` shares with ``module``."""
    parts, here = name.split("."), module.split(".")
    return next(
        (i for i, (a, b) in enumerate(zip(parts, here)) if a != b), min(len(parts), len(here))
    )


def nearest_object(names: list[str], module: str) -> str | None:
    """The one of ``names`` nearest to ``module``; ``None`` when that is ambiguous.

    Nearest: the longest dotted prefix shared with ``module``; among those, the shortest name (a
    package's re-export, ``dlcourse.data.Standardize``, before its definition in a submodule).
    """
    if not names:
        return None
    best = max(_shared_prefix(name, module) for name in names)
    nearest = sorted((name for name in names if _shared_prefix(name, module) == best), key=len)
    if len(nearest) > 1 and len(nearest[0]) == len(nearest[1]):
        return None
    return nearest[0]


def _module_holding(target: str, module: str) -> str | None:
    """The innermost of ``module`` and its parent packages that defines ``target``.

    A class or function imported from another project (``Tensor`` in a dlcourse module) does not
    count: a link to the importing module would say nothing about it.
    """
    if "." in target:  # a dotted name (torch.Tensor) is another module's, or Sphinx found it
        return None
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        try:
            obj = getattr(import_module(name), target)
        except (ImportError, AttributeError):
            continue
        if not isinstance(obj, ModuleType) and getattr(obj, "__module__", name).startswith(
            "dlcourse"
        ):
            return name
    return None


def resolve_short_name(
    app: Sphinx, env: Any, node: Any, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve a docstring's short Python reference (``:class:`ClaimLog```) that Sphinx did not.

    Sphinx looks a short name up in the current module and class only; a docstring in
    ``dlcourse.experiments`` that names :class:`ClaimLog` of ``dlcourse.experiments.claims`` is
    left unresolved. Here the name is matched against the documented ``dlcourse`` objects of the
    role's kind whose dotted name ends with it, and :func:`nearest_object` picks one. A name that
    exists but has no entry of its own (a constant without a ``#:`` comment, a class left out of
    ``__all__``) links to the section of the module that holds it. Anything else stays
    unresolved, so nitpicky mode still reports a reference to a name that does not exist.
    """
    module = node.get("py:module") or ""
    if node.get("refdomain") != "py" or not module.startswith("dlcourse"):
        return None
    domain = env.get_domain("py")
    kinds = set(domain.objtypes_for_role(node["reftype"]) or [])
    target = node["reftarget"].lstrip(".~")
    matches = [
        name
        for name, entry in domain.objects.items()
        if name.startswith("dlcourse.") and name.endswith(f".{target}") and entry.objtype in kinds
    ]
    found = nearest_object(matches, module)
    if found is None and not matches:
        holder = _module_holding(target, module)
        found = holder if holder in domain.objects else None
    if found is None:
        return None
    entry = domain.objects[found]
    uri = app.builder.get_relative_uri(node["refdoc"], entry.docname) + f"#{entry.node_id}"
    reference = nodes.reference("", "", internal=True, refuri=uri, reftitle=found)
    reference += contnode
    return reference


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the checks, the link transform and the directive."""
    app.connect("doctree-read", check_stored_outputs)
    app.add_post_transform(ChapterLinks)
    app.add_directive("dlcourse-automodule", DlcourseAutomodule)
    app.connect("missing-reference", resolve_short_name)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""The book's Sphinx extension (`_ext/dlcourse_book.py`), piece by piece, without building a book.

The whole build is tested in `tests/test_book.py` (slow); these check the rules themselves: which
stored outputs fail the build, which words after "See the book:" become links, and which of several
same-named objects a short docstring reference points to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))

import dlcourse_book as ext  # noqa: E402

TITLES = ["Weight initialization", "Data preprocessing", "Optimizers"]


def cell(
    count: int | None,
    outputs: list[dict] | None = None,
    source: str = "x = 1",
    tags: list[str] | None = None,
) -> dict:
    metadata = {"tags": tags} if tags else {}
    return {
        "cell_type": "code",
        "execution_count": count,
        "outputs": outputs or [],
        "source": source,
        "metadata": metadata,
    }


ERROR = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}


# -- stored outputs --------------------------------------------------------------------------------


def test_an_executed_notebook_has_no_problems() -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "# A"},
            cell(1),
            cell(2, [{"output_type": "stream"}]),
        ]
    }
    assert ext.notebook_problems(nb) == []


def test_an_unexecuted_cell_is_a_problem_and_is_numbered() -> None:
    problems = ext.notebook_problems({"cells": [cell(1), cell(None)]})
    assert problems == ["code cell 2 has no stored outputs (never executed)"]


def test_an_empty_code_cell_needs_no_outputs() -> None:
    assert ext.notebook_problems({"cells": [cell(None, source="  \n")]}) == []


def test_a_stored_error_is_a_problem_unless_the_cell_is_tagged() -> None:
    assert ext.notebook_problems({"cells": [cell(1, [ERROR])]}) == [
        "code cell 1 stored an error: ValueError"
    ]
    assert ext.notebook_problems({"cells": [cell(1, [ERROR], tags=["raises-exception"])]}) == []


# -- chapter pointers ------------------------------------------------------------------------------


def test_a_pointer_names_a_chapter() -> None:
    text = "Fills the tensor.\n\nSee the book: Weight initialization."
    (span,) = ext.pointer_spans(text, TITLES)
    assert text[span[0] : span[1]] == "Weight initialization" and span[2] == "Weight initialization"


def test_a_pointer_wrapped_over_lines_and_in_another_case_still_matches() -> None:
    text = "See the book: weight\n    initialization (the 0.01 * randn demo)."
    (span,) = ext.pointer_spans(text, TITLES)
    assert text[span[0] : span[1]] == "weight\n    initialization"


def test_a_pointer_may_name_several_chapters() -> None:
    text = "See the book: Data preprocessing; Weight initialization (curves)."
    assert [title for _, _, title in ext.pointer_spans(text, TITLES)] == [
        "Data preprocessing",
        "Weight initialization",
    ]


def test_titles_outside_the_pointer_sentence_are_left_alone() -> None:
    text = "Weight initialization matters. See the book: Optimizers. Data preprocessing too."
    assert [title for _, _, title in ext.pointer_spans(text, TITLES)] == ["Optimizers"]


def test_a_chapter_not_in_the_book_is_not_matched() -> None:
    assert ext.pointer_spans("See the book: Practical guidelines.", TITLES) == []


# -- short references ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "module", "expected"),
    [
        (
            ["dlcourse.experiments.claims.ClaimLog"],
            "dlcourse.experiments",
            "dlcourse.experiments.claims.ClaimLog",
        ),
        (
            ["dlcourse.data.Standardize", "dlcourse.data.preprocess.Standardize"],
            "dlcourse.data.digits",
            "dlcourse.data.Standardize",
        ),
        (
            ["dlcourse.grading.expect.fmt", "dlcourse.experiments.claims.fmt"],
            "dlcourse.experiments",
            "dlcourse.experiments.claims.fmt",
        ),
        (["dlcourse.a.x.fmt", "dlcourse.a.y.fmt"], "dlcourse.a", None),
        ([], "dlcourse", None),
    ],
)
def test_the_nearest_same_named_object_wins_and_a_tie_stays_unresolved(
    names: list[str], module: str, expected: str | None
) -> None:
    assert ext.nearest_object(names, module) == expected


def test_a_package_page_lists_its_submodules_and_leaves_clashing_names_to_them() -> None:
    lines = ext.automodule_lines("dlcourse.grading")
    modules = [line.split("::")[1].strip() for line in lines if line.startswith(".. automodule::")]
    assert modules[0] == "dlcourse.grading" and "dlcourse.grading.check" in modules
    assert not any(name.rsplit(".", 1)[1].startswith("_") for name in modules)
    exclude = next(line for line in lines if ":exclude-members:" in line)
    assert "check" in exclude and "expect" in exclude


def test_a_name_without_its_own_entry_links_to_the_dlcourse_module_defining_it() -> None:
    assert ext._module_holding("SCHEMES", "dlcourse.widgets") == "dlcourse.widgets"
    assert (
        ext._module_holding("SourceError", "dlcourse.authoring.source")
        == "dlcourse.authoring.source"
    )


def test_names_from_other_projects_are_not_linked_to_the_module_importing_them() -> None:
    assert ext._module_holding("Tensor", "dlcourse.data") is None  # torch.Tensor, imported
    assert ext._module_holding("torch.Tensor", "dlcourse.data") is None
    assert ext._module_holding("torch", "dlcourse.init") is None  # a module
    assert ext._module_holding("no_such_name", "dlcourse.widgets") is None

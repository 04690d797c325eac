"""Lab authoring: reading a lab's instructor source and generating the student lab from it.

:mod:`dlcourse.authoring.source` reads ``solutions/labNN_topic.ipynb`` (questions, cell roles, the
nbgrader-style regions); :mod:`dlcourse.authoring.build` writes ``labs/`` from it
(``dlcourse labs build``). The grader (:mod:`dlcourse.grading`) reads lab sources through
:func:`load_source`.
"""

from dlcourse.authoring.build import build_lab, build_labs, render_lab, strip_hidden, stub_source
from dlcourse.authoring.source import (
    LabSource,
    QuestionSpec,
    SourceCell,
    SourceError,
    load_source,
    regions,
)

__all__ = [
    "LabSource",
    "QuestionSpec",
    "SourceCell",
    "SourceError",
    "build_lab",
    "build_labs",
    "load_source",
    "regions",
    "render_lab",
    "strip_hidden",
    "stub_source",
]

"""Moved to :mod:`dlcourse.authoring.source`; this name stays for imports written before."""

from dlcourse.authoring.source import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
    LabSource,
    QuestionSpec,
    SourceCell,
    SourceError,
    load_source,
    regions,
)

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

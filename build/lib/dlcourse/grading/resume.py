"""Resuming a batch: after the grader was stopped, the same command grades only what is missing.

A student's result counts as done when all of these hold:

* ``OUT/STUDENT/LAB.json`` exists, is valid JSON of the output contract, and has exactly the
  source's questions with the source's points (it is written last, so its files are complete);
* the batch manifest ``OUT/.LAB_graded.json`` says it was graded from the same source notebook,
  with the same settings (limits, ``--gradescope``), from the same submitted notebook (by SHA-256).

Anything else is graded again, so a finished batch re-run after a student resubmitted or the
instructor changed the lab regrades exactly what changed. ``--regrade STUDENT`` forces one student.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from dlcourse.authoring.source import LabSource
from dlcourse.grading.judge import Outcome, QuestionResult
from dlcourse.grading.report import write_atomic
from dlcourse.grading.runner import SubmissionResult

__all__ = ["Resume", "file_digest", "load_result"]


def file_digest(path: Path) -> str:
    """SHA-256 of the file at ``path`` (``"absent"`` when there is none)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return "absent"


def _question(q: str, data: dict, max_points: float) -> QuestionResult:
    if not isinstance(data, dict) or data.get("max_points") != max_points:
        raise ValueError(f"{q}: not this lab's question")
    outcomes = [
        Outcome(str(t["name"]), str(t["status"]), str(t["message"]), bool(t["hidden"]))
        for t in data["tests"]
    ]
    points = data["points"]
    if not isinstance(points, (int, float)) or not 0 <= points <= max_points:
        raise ValueError(f"{q}: points out of range")
    return QuestionResult(
        q, str(data["status"]), points, max_points, str(data["message"]), outcomes, len(outcomes)
    )


def load_result(path: Path, source: LabSource, student: str) -> SubmissionResult | None:
    """The result stored at ``path`` if complete and of this lab and student, else ``None``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if (data.get("student"), data.get("lab")) != (student, source.name):
            return None
        stored = data["questions"]
        if list(stored) != [q.id for q in source.questions]:
            return None
        questions = {q.id: _question(q.id, stored[q.id], q.points) for q in source.questions}
        result = SubmissionResult(student, source.name, questions, [str(n) for n in data["notes"]])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if result.to_dict() != data:
        return None  # anything added, dropped or changed by hand
    return result


class Resume:
    """What a batch already finished, and the manifest recording each student as they finish.

    Args:
        out_dir: the results folder.
        source: the lab; ``source_path`` its notebook.
        submissions: each student's submitted notebook.
        settings: anything else that changes results (limits, output options); numbers are
            compared as floats, so ``20`` and ``20.0`` seconds are the same setting.
        regrade: students to grade again even if their result is complete.
    """

    def __init__(
        self,
        out_dir: Path,
        source: LabSource,
        source_path: Path,
        submissions: Mapping[str, Path],
        settings: Mapping[str, object],
        regrade: Sequence[str] = (),
    ):
        """Read the manifest of ``out_dir`` (see the class)."""
        unknown = sorted(set(regrade) - set(submissions))
        if unknown:
            raise ValueError(
                f"--regrade {', '.join(unknown)}: no such student folder; the students are: "
                + ", ".join(sorted(submissions))
            )
        self.out_dir, self.source = Path(out_dir), source
        self.path = self.out_dir / f".{source.name}_graded.json"
        canonical = {
            k: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
            for k, v in settings.items()
        }
        text = json.dumps(canonical, sort_keys=True, default=str)
        self.key = hashlib.sha256(Path(source_path).read_bytes() + text.encode()).hexdigest()
        self.digests = {s: file_digest(p) for s, p in submissions.items()}
        self.done = {s: d for s, d in self._read().items() if s not in set(regrade)}
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("source") != self.key:
            return {}
        students = data.get("students")
        return dict(students) if isinstance(students, dict) else {}

    def finished(self, student: str) -> SubmissionResult | None:
        """The student's stored result if it is complete and current, else ``None``."""
        if self.done.get(student) != self.digests.get(student):
            return None
        path = self.out_dir / student / f"{self.source.name}.json"
        return load_result(path, self.source, student)

    def record(self, student: str) -> None:
        """Note that ``student`` is graded and written (call after the result files)."""
        with self._lock:
            self.done[student] = self.digests[student]
            done = {s: d for s, d in sorted(self.done.items()) if s in self.digests}
            manifest = {"source": self.key, "students": done}
            write_atomic(self.path, json.dumps(manifest, indent=2) + "\n")

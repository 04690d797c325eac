"""What the autograder writes: per-student JSON and feedback, the gradebook CSV, Gradescope.

Output contract (instructors and later tooling rely on it)::

    OUT/STUDENT/LAB.json            {"student", "lab", "total", "max_total", "notes", "questions":
                                     {q: {"status", "points", "max_points", "message", "tests"}}}
    OUT/STUDENT/LAB_feedback.md     the same, written for the student (no hidden test code)
    OUT/LAB_gradebook.csv           student, total, max_total, then per question
                                    <q>_points, <q>_status
    OUT/STUDENT/results.json        Gradescope's format (with ``--gradescope``)

Only the grader writes these files, and each one atomically: to a temporary file in the same folder,
then renamed over the old one, so a file is either the old version or the new one, never half of
each. The JSON is written last: when it exists, the student's other files are complete.
:func:`verify_files` checks at the end of a batch that the files on disk are what was written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from dlcourse.grading import status
from dlcourse.grading.runner import SubmissionResult

__all__ = [
    "feedback_markdown",
    "gradebook_csv",
    "gradescope_results",
    "student_files",
    "verify_files",
    "write_atomic",
]


def _points(x: float) -> str:
    return f"{x:g}"


def _attempted(result: SubmissionResult) -> int:
    return sum(status.get(r.status).attempted for r in result.questions.values())


def feedback_markdown(result: SubmissionResult) -> str:
    """Feedback for the student: score, then one line per question with the reason."""
    lines = [
        f"# {result.lab}: feedback for {result.student}",
        "",
        f"**Score: {_points(result.total)} / {_points(result.max_total)}**",
        "",
        f"Attempted {_attempted(result)} of {len(result.questions)} questions.",
        "",
        "| question | points | result |",
        "|---|---|---|",
    ]
    for q, r in result.questions.items():
        lines.append(
            f"| {q} | {_points(r.points)} / {_points(r.max_points)} "
            f"| {status.get(r.status).label} |"
        )
    lines.append("")
    for q, r in result.questions.items():
        if r.status != "passed":
            lines += [
                f"## {q}: {status.get(r.status).label}",
                "",
                r.message.replace("\n", "  \n"),
                "",
            ]
    if result.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in result.notes] + [""]
    return "\n".join(lines)


def gradescope_results(result: SubmissionResult) -> dict:
    """The submission in Gradescope's ``results.json`` format."""
    return {
        "score": result.total,
        "tests": [
            {
                "name": q,
                "score": r.points,
                "max_score": r.max_points,
                "status": "passed" if r.status == "passed" else "failed",
                "output": f"{status.get(r.status).label}: {r.message}",
            }
            for q, r in result.questions.items()
        ],
    }


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def student_files(
    result: SubmissionResult, out_dir: Path, gradescope: bool = False
) -> dict[Path, str]:
    """The files of one student and their text, in the order they are written (JSON last)."""
    folder = Path(out_dir) / result.student
    files = {folder / f"{result.lab}_feedback.md": feedback_markdown(result)}
    if gradescope:
        files[folder / "results.json"] = json.dumps(gradescope_results(result), indent=2) + "\n"
    files[folder / f"{result.lab}.json"] = json.dumps(result.to_dict(), indent=2) + "\n"
    return files


def gradebook_csv(results: Sequence[SubmissionResult], questions: Sequence[str]) -> str:
    """The gradebook's text: ``student, total, max_total``, then points and status per question."""
    header = ["student", "total", "max_total"]
    for q in questions:
        header += [f"{q}_points", f"{q}_status"]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for r in sorted(results, key=lambda r: r.student):
        row = [r.student, _points(r.total), _points(r.max_total)]
        for q in questions:
            row += [_points(r.questions[q].points), r.questions[q].status]
        writer.writerow(row)
    return buffer.getvalue()


def verify_files(expected: Mapping[Path, str]) -> list[str]:
    """The files whose text on disk is not the expected text, each with what is wrong."""
    problems = []
    for path, text in expected.items():
        try:
            found = Path(path).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot be read back ({type(exc).__name__})")
            continue
        if found != text:
            problems.append(f"{path}: differs from what the grader wrote")
    return problems

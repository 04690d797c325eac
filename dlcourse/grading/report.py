"""What the autograder writes: per-student JSON and feedback, the gradebook CSV, Gradescope.

Output contract (instructors and later tooling rely on it)::

    OUT/STUDENT/LAB.json            {"student", "lab", "total", "max_total", "notes", "questions":
                                     {q: {"status", "points", "max_points", "message", "tests"}}}
    OUT/STUDENT/LAB_feedback.md     the same, written for the student (no hidden test code)
    OUT/LAB_gradebook.csv           student, total, max_total, then per question
                                    <q>_points, <q>_status
    OUT/STUDENT/results.json        Gradescope's format (with ``--gradescope``)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from dlcourse.grading import status
from dlcourse.grading.runner import SubmissionResult

__all__ = ["feedback_markdown", "gradescope_results", "write_gradebook", "write_student"]


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


def write_student(result: SubmissionResult, out_dir: Path, gradescope: bool = False) -> Path:
    """Write ``OUT/STUDENT/LAB.json`` and the feedback file; returns the JSON's path."""
    folder = Path(out_dir) / result.student
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.lab}.json"
    path.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    (folder / f"{result.lab}_feedback.md").write_text(feedback_markdown(result), encoding="utf-8")
    if gradescope:
        (folder / "results.json").write_text(
            json.dumps(gradescope_results(result), indent=2) + "\n", encoding="utf-8"
        )
    return path


def write_gradebook(
    results: Sequence[SubmissionResult], questions: Sequence[str], path: Path
) -> Path:
    """One row per student: ``student, total, max_total``, then points and status per question."""
    header = ["student", "total", "max_total"]
    for q in questions:
        header += [f"{q}_points", f"{q}_status"]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in sorted(results, key=lambda r: r.student):
            row = [r.student, _points(r.total), _points(r.max_total)]
            for q in questions:
                row += [_points(r.questions[q].points), r.questions[q].status]
            writer.writerow(row)
    return Path(path)

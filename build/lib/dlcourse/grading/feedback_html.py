"""The feedback page for one student: ``FEEDBACK/STUDENT/LAB.html``.

One self-contained HTML page per student, as nbgrader's ``feedback/`` folder has: the score, then
for each question its status, points and message, and the student's own answer code. It never
shows test code: the tests live in the grader and the instructor's source, and only the student's
answer cells, the statuses and the messages (written for students) go into the page.

See the book: the labs (README, "For instructors").
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import nbformat

from dlcourse.authoring.source import LabSource
from dlcourse.grading import status
from dlcourse.grading.answers import adopt_answers
from dlcourse.grading.judge import QuestionResult
from dlcourse.grading.runner import SubmissionResult
from dlcourse.grading.submissions import open_submissions

__all__ = [
    "answer_code",
    "feedback_html",
    "result_from_json",
    "write_feedback_html",
    "write_feedback_pages",
]

_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
    "pre{background:#f6f8fa;padding:.8em;overflow-x:auto}"
    ".passed{color:#1a7f37}.other{color:#cf222e}td,th{padding:.2em .8em;text-align:left}"
)


def answer_code(source: LabSource, path: Path | None) -> dict[str, str]:
    """The student's answer code per question (empty when the notebook cannot be read)."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        nb = nbformat.read(path, as_version=4)
        adopt_answers(source, nb)
    except Exception:  # an unreadable notebook has its status already; no code to show
        return {}
    by_id = {}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("dlcourse", {}).get("grade_id")
        if cell.get("cell_type") == "code" and gid and gid not in by_id:
            by_id[gid] = str(cell.get("source", ""))
    found: dict[str, list[str]] = {}
    for cell in source.cells:
        if cell.role == "solution" and cell.grade_id in by_id:
            found.setdefault(str(cell.question), []).append(by_id[cell.grade_id])
    return {q: "\n\n".join(parts) for q, parts in found.items()}


def feedback_html(result: SubmissionResult, code: dict[str, str] | None = None) -> str:
    """The page for ``result``; ``code`` maps each question to the student's answer code.

    Args:
        result: the graded submission.
        code: the student's answer code per question id (omitted questions show none).

    Returns:
        The HTML text.
    """
    esc = html.escape
    code = code or {}
    rows, sections = [], []
    for q, r in result.questions.items():
        label = status.get(r.status).label
        css = "passed" if r.status == "passed" else "other"
        rows.append(
            f"<tr><td>{esc(q)}</td><td>{r.points:g} / {r.max_points:g}</td>"
            f'<td class="{css}">{esc(label)}</td></tr>'
        )
        sections.append(f'<h2 id="{esc(q)}">{esc(q)}: <span class="{css}">{esc(label)}</span></h2>')
        if r.status != "passed" and r.message:
            sections.append(f"<p>{esc(r.message)}</p>".replace("\n", "<br>\n"))
        if q in code:
            sections.append(f"<details open><summary>your code</summary><pre><code>{esc(code[q])}"
                            "</code></pre></details>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    title = f"{result.lab}: feedback for {result.student}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>',
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{esc(title)}</h1>",
            f"<p><strong>Score: {result.total:g} / {result.max_total:g}</strong></p>",
            "<table><tr><th>question</th><th>points</th><th>result</th></tr>",
            *rows,
            "</table>",
            *sections,
            f"<h2>Notes</h2><ul>{notes}</ul>" if notes else "",
            "</body></html>",
            "",
        ]
    )


def write_feedback_html(
    result: SubmissionResult, feedback_dir: Path, code: dict[str, str] | None = None
) -> Path:
    """Write ``FEEDBACK/STUDENT/LAB.html``; returns its path."""
    folder = Path(feedback_dir) / result.student
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.lab}.html"
    path.write_text(feedback_html(result, code), encoding="utf-8")
    return path


def result_from_json(data: dict) -> SubmissionResult:
    """A result read back from ``LAB.json`` (statuses, points, messages, notes; no test list)."""
    questions = {
        q: QuestionResult(q, r["status"], r["points"], r["max_points"], r["message"], [])
        for q, r in data["questions"].items()
    }
    return SubmissionResult(data["student"], data["lab"], questions, list(data.get("notes", [])))


def write_feedback_pages(
    source: LabSource, out_dir: Path, submissions: str | Path, feedback_dir: Path
) -> list[Path]:
    """One page per student graded into ``out_dir``, with the code from ``submissions``.

    Args:
        source: the lab's instructor source.
        out_dir: where ``dlcourse grade`` wrote ``STUDENT/LAB.json``.
        submissions: the folder or zip that was graded (for the students' code).
        feedback_dir: where the pages go.

    Returns:
        The pages written.

    Raises:
        FileNotFoundError: ``out_dir`` holds no results of this lab.
    """
    graded = sorted(Path(out_dir).glob(f"*/{source.name}.json"))
    if not graded:
        raise FileNotFoundError(
            f"no results of {source.name} in {out_dir}: run `dlcourse grade {source.name}` first "
            "or pass --out DIR"
        )
    with open_submissions(submissions, source.name) as found:
        paths = {s.student: s.path for s in found.submissions}
        pages = []
        for path in graded:
            result = result_from_json(json.loads(path.read_text(encoding="utf-8")))
            code = answer_code(source, paths.get(result.student))
            pages.append(write_feedback_html(result, feedback_dir, code))
    return pages

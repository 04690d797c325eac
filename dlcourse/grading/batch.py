"""Grading a folder of submissions: every student's notebook of one lab.

The folder may come in any layout :mod:`dlcourse.grading.submissions` accepts (a folder per
student, nbgrader's ``submitted/``, a flat folder, a zip). Each submission is graded in its own
child process; ``jobs`` of them run at once on this machine. One broken submission never stops the
batch: whatever happens to it ends up as statuses and messages in its own results.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcourse.authoring.source import LabSource, load_source
from dlcourse.grading.console import Console
from dlcourse.grading.feedback_html import answer_code, write_feedback_html
from dlcourse.grading.judge import problem_result
from dlcourse.grading.report import write_gradebook, write_student
from dlcourse.grading.runner import SubmissionResult, grade_submission, load_plan
from dlcourse.grading.session import Limits
from dlcourse.grading.status import StudentCrashed, StudentProblem, SubmissionInvalid
from dlcourse.grading.submissions import Submission, check_notebook, open_submissions

__all__ = ["grade_folder", "find_submissions"]


def find_submissions(submissions: str | Path, lab: str) -> dict[str, Path]:
    """Map each student to the notebook to grade (which may not exist); folders only, no zips."""
    with open_submissions(submissions, lab) as found:
        return {s.student: s.path for s in found.submissions}


def _whole(source: LabSource, student: str, problem: StudentProblem) -> SubmissionResult:
    """A result where every question has ``problem``."""
    return SubmissionResult(
        student,
        source.name,
        {q.id: problem_result(q.id, problem, q.points) for q in source.questions},
    )


def _grade_one(source: LabSource, sub: Submission, limits: Limits, plan) -> SubmissionResult:
    try:
        if sub.invalid is not None:
            raise SubmissionInvalid(sub.invalid)
        check_notebook(sub.path)
        result = grade_submission(source, sub.path, sub.student, limits, plan)
    except SubmissionInvalid as exc:
        result = _whole(source, sub.student, exc)
    except Exception as exc:  # a grader bug must not lose the rest of the class
        problem = StudentCrashed(
            f"the grader failed on this submission ({type(exc).__name__}: {exc})"
        )
        result = _whole(source, sub.student, problem)
    result.notes[:0] = sub.notes
    return result


def _write_output(result: SubmissionResult, out_dir: Path) -> None:
    """``OUT/STUDENT/LAB_output.txt``: the end of what the student's code printed."""
    if result.output:
        path = out_dir / result.student / f"{result.lab}_output.txt"
        path.write_text(result.output + "\n", encoding="utf-8")


def grade_folder(
    source_path: str | Path,
    submissions: str | Path,
    out_dir: str | Path = "autograded",
    jobs: int = 2,
    limits: Limits = Limits(),
    gradescope: bool = False,
    progress: Callable[[SubmissionResult], None] | None = None,
    feedback_dir: str | Path | None = None,
    console: Console | None = None,
) -> list[SubmissionResult]:
    """Grade every submission of the lab whose instructor notebook is ``source_path``.

    Writes ``OUT/STUDENT/LAB.json``, ``OUT/STUDENT/LAB_feedback.md``, ``OUT/LAB_gradebook.csv``
    (see :mod:`dlcourse.grading.report`), ``OUT/STUDENT/LAB_output.txt`` (the end of what the
    student's code printed, when it printed) and, with ``feedback_dir``,
    ``FEEDBACK/STUDENT/LAB.html`` (see :mod:`dlcourse.grading.feedback_html`); returns the
    results sorted by student. ``console`` prints the start line, progress and summary.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    source = load_source(source_path)
    plan = load_plan(source)
    out = Path(out_dir)
    with open_submissions(submissions, source.name) as found:
        if console is not None:
            console.start(source.name, len(found.submissions), jobs, found.warnings)

        def one(sub: Submission) -> SubmissionResult:
            result = _grade_one(source, sub, limits, plan)
            write_student(result, out, gradescope)
            _write_output(result, out)
            if feedback_dir is not None:
                write_feedback_html(result, Path(feedback_dir), answer_code(source, sub.path))
            for report in (progress, console.progress if console else None):
                if report is not None:
                    report(result)
            return result

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(one, found.submissions))
    write_gradebook(results, [q.id for q in source.questions], out / f"{source.name}_gradebook.csv")
    if console is not None:
        console.finish(results, f"{out}/" + (f" and {feedback_dir}/" if feedback_dir else ""))
    return results

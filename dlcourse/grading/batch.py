"""Grading a folder of submissions: ``SUBMISSIONS/STUDENT/LAB.ipynb`` for every student.

Each submission is graded in its own child process; ``jobs`` of them run at once on this machine.
One broken submission never stops the batch: whatever happens to it ends up as statuses and
messages in its own results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcourse.authoring.source import load_source
from dlcourse.grading.judge import problem_result
from dlcourse.grading.report import write_gradebook, write_student
from dlcourse.grading.runner import SubmissionResult, grade_submission, load_plan
from dlcourse.grading.session import Limits
from dlcourse.grading.status import StudentCrashed

__all__ = ["grade_folder", "find_submissions"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")


def find_submissions(submissions: Path, lab: str) -> dict[str, Path]:
    """Map each student folder name to its ``LAB.ipynb`` (which may not exist)."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(
            f"no submissions folder at {submissions}: expected DIR/STUDENT/{lab}.ipynb"
        )
    found = {}
    for folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
        if not _SAFE.match(folder.name):
            raise ValueError(
                f"student folder name {folder.name!r} has characters other than letters, "
                "digits, . _ @ -"
            )
        found[folder.name] = folder / f"{lab}.ipynb"
    if not found:
        raise FileNotFoundError(
            f"{submissions} has no student folders: expected DIR/STUDENT/{lab}.ipynb"
        )
    return found


def grade_folder(
    source_path: str | Path,
    submissions: str | Path,
    out_dir: str | Path = "autograded",
    jobs: int = 2,
    limits: Limits = Limits(),
    gradescope: bool = False,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission of the lab whose instructor notebook is ``source_path``.

    Writes ``OUT/STUDENT/LAB.json``, ``OUT/STUDENT/LAB_feedback.md`` and ``OUT/LAB_gradebook.csv``
    (see :mod:`dlcourse.grading.report`) and returns the results sorted by student.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    source = load_source(source_path)
    plan = load_plan(source)
    students = find_submissions(Path(submissions), source.name)

    def one(item: tuple[str, Path]) -> SubmissionResult:
        student, path = item
        try:
            result = grade_submission(source, path, student, limits, plan)
        except Exception as exc:  # a grader bug must not lose the rest of the class
            problem = StudentCrashed(
                f"the grader failed on this submission ({type(exc).__name__}: {exc})"
            )
            result = SubmissionResult(
                student,
                source.name,
                {q.id: problem_result(q.id, problem, q.points) for q in source.questions},
            )
        write_student(result, Path(out_dir), gradescope)
        if progress is not None:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, students.items()))
    write_gradebook(
        results, [q.id for q in source.questions], Path(out_dir) / f"{source.name}_gradebook.csv"
    )
    return results

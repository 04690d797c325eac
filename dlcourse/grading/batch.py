"""Grading a folder of submissions: ``SUBMISSIONS/STUDENT/LAB.ipynb`` for every student.

Each submission is graded in its own child process; ``jobs`` of them run at once on this machine.
One broken submission never stops the batch: whatever happens to it ends up as statuses and
messages in its own results. A batch that was stopped continues where it stopped
(:mod:`dlcourse.grading.resume`), and at the end every result file is read back and checked.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcourse.authoring.source import load_source
from dlcourse.grading.jail import SandboxUnavailable, sandbox_problem
from dlcourse.grading.judge import problem_result
from dlcourse.grading.report import gradebook_csv, student_files, verify_files, write_atomic
from dlcourse.grading.resume import Resume
from dlcourse.grading.runner import SubmissionResult, grade_submission, load_plan
from dlcourse.grading.session import Limits
from dlcourse.grading.status import StudentCrashed

__all__ = ["ResultsChanged", "grade_folder", "find_submissions"]


class ResultsChanged(RuntimeError):
    """Result files on disk are not what the grader wrote (something else wrote to them)."""

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
    regrade: Sequence[str] = (),
) -> list[SubmissionResult]:
    """Grade every submission of the lab whose instructor notebook is ``source_path``.

    Writes ``OUT/STUDENT/LAB.json``, ``OUT/STUDENT/LAB_feedback.md`` and ``OUT/LAB_gradebook.csv``
    (see :mod:`dlcourse.grading.report`) and returns the results sorted by student. Results that
    a stopped run already finished are kept (except for the students in ``regrade``); raises
    :class:`ResultsChanged` when a file read back at the end is not what was written, and
    :class:`~dlcourse.grading.jail.SandboxUnavailable` when ``limits.sandbox`` is set (the
    default) and there is no sandbox.
    """
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    if limits.sandbox and sandbox_problem() is not None:
        raise SandboxUnavailable(f"refusing to run student code: {sandbox_problem()}")
    source = load_source(source_path)
    plan = load_plan(source)
    students = find_submissions(Path(submissions), source.name)
    settings = {**dataclasses.asdict(limits), "gradescope": gradescope}
    resume = Resume(Path(out_dir), source, Path(source_path), students, settings, regrade)
    written: dict[Path, str] = {}

    def one(item: tuple[str, Path]) -> SubmissionResult:
        student, path = item
        result = resume.finished(student)
        if result is not None:
            json_path = Path(out_dir) / student / f"{source.name}.json"
            written[json_path] = student_files(result, Path(out_dir))[json_path]
            if progress is not None:
                progress(result)
            return result
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
        files = student_files(result, Path(out_dir), gradescope)
        for file, text in files.items():
            write_atomic(file, text)
        written.update(files)
        resume.record(student)
        if progress is not None:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(one, students.items()))
    gradebook = Path(out_dir) / f"{source.name}_gradebook.csv"
    written[gradebook] = gradebook_csv(results, [q.id for q in source.questions])
    write_atomic(gradebook, written[gradebook])
    _check_written(written)
    return results


def _check_written(written: dict[Path, str]) -> None:
    """Read every file written back; rewrite and raise :class:`ResultsChanged` if any differs."""
    problems = verify_files(written)
    if problems:
        for path, text in written.items():
            write_atomic(path, text)
        raise ResultsChanged(
            "result files changed on disk after the grader wrote them (now rewritten): "
            + "; ".join(problems)
        )

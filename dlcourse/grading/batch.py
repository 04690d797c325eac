"""Grading a folder of submissions: every student's notebook of one lab.

The folder may come in any layout :mod:`dlcourse.grading.submissions` accepts (a folder per
student, nbgrader's ``submitted/``, a flat folder, a zip). Each submission is graded in its own
child process; ``jobs`` of them run at once on this machine. One broken submission never stops the
batch: whatever happens to it ends up as statuses and messages in its own results. A batch that was
stopped continues where it stopped (:mod:`dlcourse.grading.resume`), and at the end every result
file is read back and checked.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcourse.authoring.source import LabSource, load_source
from dlcourse.grading.console import Console
from dlcourse.grading.feedback_html import answer_code, write_feedback_html
from dlcourse.grading.jail import SandboxUnavailable, sandbox_problem
from dlcourse.grading.judge import problem_result
from dlcourse.grading.report import gradebook_csv, student_files, verify_files, write_atomic
from dlcourse.grading.resume import Resume
from dlcourse.grading.runner import SubmissionResult, grade_submission, load_plan
from dlcourse.grading.session import Limits
from dlcourse.grading.status import StudentCrashed, StudentProblem, SubmissionInvalid
from dlcourse.grading.submissions import Submission, check_notebook, open_submissions
from dlcourse.grading.warm import warm_problem

__all__ = ["ResultsChanged", "grade_folder", "grade_one"]


class ResultsChanged(RuntimeError):
    """Result files on disk are not what the grader wrote (something else wrote to them)."""


def _whole(source: LabSource, student: str, problem: StudentProblem) -> SubmissionResult:
    """A result where every question has ``problem``."""
    return SubmissionResult(
        student,
        source.name,
        {q.id: problem_result(q.id, problem, q.points) for q in source.questions},
    )


def grade_one(source: LabSource, sub: Submission, limits: Limits, plan) -> SubmissionResult:
    """Grade one submission in its own child process; whatever happens ends up in its result."""
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
        write_atomic(out_dir / result.student / f"{result.lab}_output.txt", result.output + "\n")


def grade_folder(
    source_path: str | Path,
    submissions: str | Path,
    out_dir: str | Path = "autograded",
    jobs: int | None = None,
    limits: Limits = Limits(),
    gradescope: bool = False,
    progress: Callable[[SubmissionResult], None] | None = None,
    feedback_dir: str | Path | None = None,
    console: Console | None = None,
    regrade: Sequence[str] = (),
    scheduler: object | None = None,
) -> list[SubmissionResult]:
    """Grade every submission of the lab whose instructor notebook is ``source_path``.

    Writes ``OUT/STUDENT/LAB.json``, ``OUT/STUDENT/LAB_feedback.md``, ``OUT/LAB_gradebook.csv``
    (see :mod:`dlcourse.grading.report`), ``OUT/STUDENT/LAB_output.txt`` (the end of what the
    student's code printed, when it printed) and, with ``feedback_dir``,
    ``FEEDBACK/STUDENT/LAB.html`` (see :mod:`dlcourse.grading.feedback_html`); returns the
    results sorted by student. ``jobs`` submissions are graded at once (default: one per core,
    or per thread of the cluster's workers). ``console`` prints the start line, progress and
    summary. Results that a stopped run already finished are kept (except for the students in
    ``regrade``). With ``scheduler`` (a Dask scheduler's address), each submission is graded on a
    worker of that cluster (:mod:`dlcourse.grading.cluster`) and the results are written here.

    Raises:
        ResultsChanged: a file read back at the end is not what was written.
        SandboxUnavailable: ``limits.sandbox`` is set (the default) and there is no sandbox.
    """
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive int, got {jobs!r}")
    cluster = None
    if scheduler is not None:
        from dlcourse.grading.cluster import DaskGrader

        cluster = DaskGrader(scheduler, limits)
    elif limits.sandbox and sandbox_problem() is not None:
        raise SandboxUnavailable(f"refusing to run student code: {sandbox_problem()}")
    if jobs is None:
        jobs = cluster.threads if cluster is not None else os.cpu_count() or 1
    source = load_source(source_path)
    plan = load_plan(source)
    out = Path(out_dir)
    written: dict[Path, str] = {}
    reporters = [r for r in (progress, console.progress if console else None) if r is not None]
    with open_submissions(submissions, source.name) as found:
        students = {s.student: s.path for s in found.submissions}
        settings = {**dataclasses.asdict(limits), "gradescope": gradescope}
        resume = Resume(out, source, Path(source_path), students, settings, regrade)
        if console is not None:
            console.start(source.name, len(found.submissions), jobs, found.warnings)

        def one(sub: Submission) -> SubmissionResult:
            result = resume.finished(sub.student)
            if result is not None:
                json_path = out / sub.student / f"{source.name}.json"
                written[json_path] = student_files(result, out)[json_path]
            else:
                if cluster is not None:
                    result = cluster.grade(Path(source_path), sub)
                else:
                    result = grade_one(source, sub, limits, plan)
                files = student_files(result, out, gradescope)
                for file, text in files.items():
                    write_atomic(file, text)
                written.update(files)
                _write_output(result, out)
                if feedback_dir is not None:
                    write_feedback_html(result, Path(feedback_dir), answer_code(source, sub.path))
                resume.record(sub.student)
            for report in reporters:
                report(result)
            return result

        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(one, found.submissions))
        finally:
            if cluster is not None:
                cluster.close()
    gradebook = out / f"{source.name}_gradebook.csv"
    written[gradebook] = gradebook_csv(results, [q.id for q in source.questions])
    write_atomic(gradebook, written[gradebook])
    _check_written(written)
    if console is not None:
        if cluster is None and limits.warm and warm_problem(limits.sandbox):
            console.note(f"every student's process started cold: {warm_problem(limits.sandbox)}")
        console.finish(results, f"{out}/" + (f" and {feedback_dir}/" if feedback_dir else ""))
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

"""Grading on a Dask cluster: the same grader, the same sandbox, one worker per submission.

``dlcourse grade LAB --scheduler tcp://HOST:8786`` sends each submission to a worker of an
existing Dask distributed cluster instead of grading it on this machine. What travels is data, not
paths: the lab's source notebook and the student's notebook as bytes, and the limits. The worker
writes them into a private temporary folder, grades the submission exactly as ``dlcourse grade``
does here (:func:`~dlcourse.grading.batch.grade_one`: a sandboxed child process per submission), and
returns the result; the grader on this machine writes every file, so resuming, the gradebook and
the final check of the files are unchanged. Every worker needs ``dlcourse`` (the same version) and
bubblewrap; :class:`DaskGrader` refuses a cluster where a worker cannot start the sandbox.

See the README: For instructors.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from dlcourse.authoring.source import load_source
from dlcourse.grading.batch import grade_one
from dlcourse.grading.jail import SandboxUnavailable, sandbox_problem
from dlcourse.grading.runner import SubmissionResult, load_plan
from dlcourse.grading.session import Limits
from dlcourse.grading.submissions import Submission

__all__ = ["CONNECT_SECONDS", "DaskGrader", "grade_on_worker"]

CONNECT_SECONDS = 10  # how long to wait for the scheduler before saying it is not there


def grade_on_worker(
    source_name: str,
    source: bytes,
    student: str,
    notebook: bytes | None,
    notes: list[str],
    invalid: str | None,
    limits: Limits,
) -> SubmissionResult:
    """Grade one submission given as bytes (runs on a worker; ``notebook`` None: none was found)."""
    with tempfile.TemporaryDirectory(prefix="dlcourse-worker-") as tmp:
        source_path = Path(tmp) / "source" / f"{source_name}.ipynb"
        source_path.parent.mkdir()
        source_path.write_bytes(source)
        path = Path(tmp) / "submission" / f"{source_name}.ipynb"
        path.parent.mkdir()
        if notebook is not None:
            path.write_bytes(notebook)
        lab = load_source(source_path)
        sub = Submission(student, path, list(notes), invalid)
        return grade_one(lab, sub, limits, load_plan(lab))


class DaskGrader:
    """Grades submissions on the Dask cluster whose scheduler is at ``address``.

    Args:
        address: the scheduler, e.g. ``tcp://10.0.0.5:8786``; or a ``distributed.Client``-compatible
            cluster object (a ``LocalCluster``), as tests use.
        limits: the sandbox and resource limits every worker applies.
    """

    def __init__(self, address: object, limits: Limits):
        try:
            from distributed import Client
        except ImportError as exc:
            raise ValueError(
                "--scheduler needs Dask's distributed package: pip install 'dlcourse[cluster]'"
            ) from exc
        try:
            self.client = Client(address, timeout=CONNECT_SECONDS)
        except OSError as exc:
            raise ValueError(
                f"no Dask scheduler answers at {address} ({exc}): start one with `dask scheduler` "
                "and workers with `dask worker ADDRESS`, or check the address"
            ) from exc
        self.limits = limits
        if limits.sandbox:
            problems = {w: p for w, p in self.client.run(sandbox_problem).items() if p}
            if problems:
                worker, problem = next(iter(problems.items()))
                raise SandboxUnavailable(
                    f"refusing to run student code: worker {worker} has no sandbox: {problem}"
                )

    @property
    def threads(self) -> int:
        """How many submissions the cluster grades at once (its workers' threads)."""
        return max(1, sum(self.client.nthreads().values()))

    def grade(self, source_path: Path, sub: Submission) -> SubmissionResult:
        """Grade ``sub`` on a worker and wait for its result."""
        notebook = sub.path.read_bytes() if sub.invalid is None and sub.path.is_file() else None
        future = self.client.submit(
            grade_on_worker,
            Path(source_path).stem,
            Path(source_path).read_bytes(),
            sub.student,
            notebook,
            sub.notes,
            sub.invalid,
            self.limits,
            pure=False,
        )
        return future.result()

    def close(self) -> None:
        """Disconnect from the cluster (the cluster itself keeps running)."""
        self.client.close()

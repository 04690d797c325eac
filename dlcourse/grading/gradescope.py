"""Gradescope: one submission graded the way Gradescope runs an autograder, and the zip it needs.

Gradescope starts a fresh container per submission, unzips the instructor's autograder into
``/autograder/source``, runs its ``setup.sh`` once when the image is built, and for every
submission puts the student's files in ``/autograder/submission`` and runs
``/autograder/source/run_autograder``, which must leave ``/autograder/results/results.json``.
:func:`grade_single` is that run: the same grader as ``dlcourse grade`` (the same sandbox, limits
and messages), one submission, and a ``results.json`` with the total, ``execution_time``,
``visibility``, the lab-level ``output`` and one test per question (name, number, points, status,
the message the student reads).
:func:`autograder_zip` writes the zip to upload (``dlcourse gradescope zip LAB``).

See the README: For instructors.
"""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

from dlcourse import __version__
from dlcourse.authoring.build import REPOSITORY
from dlcourse.authoring.source import load_source
from dlcourse.grading.batch import grade_one
from dlcourse.grading.jail import SandboxUnavailable, sandbox_problem
from dlcourse.grading.report import gradescope_results, write_atomic
from dlcourse.grading.runner import SubmissionResult, load_plan
from dlcourse.grading.session import Limits
from dlcourse.grading.submissions import choose

__all__ = ["autograder_zip", "grade_single", "results_json"]

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def results_json(result: SubmissionResult, seconds: float, visibility: str = "visible") -> dict:
    """Gradescope's ``results.json`` for ``result``: score, time, visibility, one test per question.

    Args:
        result: the graded submission.
        seconds: the wall time the grading took (``execution_time``).
        visibility: when students see the results, one of Gradescope's ``hidden``,
            ``after_due_date``, ``after_published``, ``visible``.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, got {visibility!r}")
    data = gradescope_results(result)
    for number, test in enumerate(data["tests"], start=1):
        test["number"] = str(number)
        test["visibility"] = visibility
    notes = "\n".join(result.notes)
    data.update(
        execution_time=round(seconds, 1),
        visibility=visibility,
        output=f"{result.lab}: {result.total:g} of {result.max_total:g} points"
        + (f"\n{notes}" if notes else ""),
    )
    return data


def grade_single(
    source_path: str | Path,
    submission: str | Path = "/autograder/submission",
    results: str | Path = "/autograder/results/results.json",
    limits: Limits = Limits(),
    visibility: str = "visible",
) -> SubmissionResult:
    """Grade the one notebook in ``submission`` and write Gradescope's ``results.json``.

    The notebook is chosen as ``dlcourse grade`` chooses a student's (the lab's name, or the one
    notebook there under another name, with a note).

    Raises:
        FileNotFoundError: ``submission`` is not a folder.
        SandboxUnavailable: ``limits.sandbox`` is on and there is no sandbox; ``results.json`` then
            scores nothing and says why.
    """
    start = time.perf_counter()
    folder = Path(submission)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: Gradescope puts the files there")
    source = load_source(source_path)
    if limits.sandbox and sandbox_problem() is not None:
        problem = f"refusing to run student code: {sandbox_problem()}"
        failed = {"score": 0, "output": f"The autograder could not run: {problem}", "tests": []}
        write_atomic(Path(results), json.dumps(failed, indent=2) + "\n")
        raise SandboxUnavailable(problem)
    result = grade_one(source, choose("submission", folder, source.name), limits, load_plan(source))
    data = results_json(result, time.perf_counter() - start, visibility)
    write_atomic(Path(results), json.dumps(data, indent=2) + "\n")
    return result


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap
python3 -m venv /opt/dlcourse
/opt/dlcourse/bin/pip install -q torch=={torch} --index-url https://download.pytorch.org/whl/cpu
/opt/dlcourse/bin/pip install -q "dlcourse @ git+https://github.com/{repository}@v{version}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: /autograder/submission -> /autograder/results.
set -uo pipefail
export OMP_WAIT_POLICY=PASSIVE
/opt/dlcourse/bin/dlcourse gradescope run /autograder/source/{lab}.ipynb {options}
"""


def autograder_zip(
    source_path: str | Path, out: str | Path, torch_version: str = "2.13.0", options: str = ""
) -> Path:
    """Write the autograder zip for Gradescope: ``setup.sh``, ``run_autograder``, the lab source.

    Args:
        source_path: the lab's instructor notebook, ``solutions/labNN_topic.ipynb``.
        out: the zip to write.
        torch_version: the CPU build of PyTorch ``setup.sh`` installs.
        options: extra arguments for ``dlcourse gradescope run`` (e.g. ``--visibility hidden``).
    """
    source = load_source(source_path)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {
        "setup.sh": SETUP_SH.format(
            torch=torch_version, repository=REPOSITORY, version=__version__
        ),
        "run_autograder": RUN_AUTOGRADER.format(lab=source.name, options=options).replace(
            " \n", "\n"
        ),
    }
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them directly
            zf.writestr(info, text)
        zf.write(source.path, f"{source.name}.ipynb")
    return out

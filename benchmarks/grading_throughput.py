"""How fast the autograder grades a class, with one worker and with several.

Builds a class of ``--students`` submissions of lab 1 in a temporary folder (a mix of the solution,
the untouched lab and one-wrong-answer notebooks), grades it with ``--jobs 1`` and with
``--jobs N``, in the bubblewrap sandbox and (the same trusted notebooks) without it, and prints
seconds per submission. The reference rows in the same run are the bare cost that every
submission pays: starting the student's child process and importing torch in it, with and without
the sandbox; their difference is the sandbox's own start-up cost.

    .venv/bin/python benchmarks/grading_throughput.py --students 12 --jobs 2

Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from dlcourse.grading.batch import grade_folder
from dlcourse.grading.jail import jail_command
from dlcourse.grading.session import Limits

ROOT = Path(__file__).resolve().parents[1]
LAB = "lab01_initialization"


def make_class(root: Path, students: int) -> None:
    solution = nbformat.read(ROOT / "solutions" / f"{LAB}.ipynb", as_version=4)
    untouched = nbformat.read(ROOT / "labs" / f"{LAB}.ipynb", as_version=4)
    wrong = nbformat.read(ROOT / "solutions" / f"{LAB}.ipynb", as_version=4)
    for cell in wrong.cells:
        if cell.metadata.get("dlcourse", {}).get("grade_id") == "q1-fans":
            cell.source = cell.source.replace("return fan_in, fan_out", "return fan_out, fan_in")
    for i in range(students):
        folder = root / f"student{i:03d}"
        folder.mkdir(parents=True)
        nbformat.write((solution, untouched, wrong)[i % 3], folder / f"{LAB}.ipynb")


def child_startup(sandbox: bool) -> float:
    cmd = [sys.executable, "-I", "-c", "import torch, dlcourse.grading.sandbox"]
    cmd = jail_command(cmd) if sandbox else cmd
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def grade(tmp: Path, students: int, jobs: int, sandbox: bool) -> tuple[str, int, float]:
    out = tmp / f"out{jobs}{sandbox}"
    start = time.perf_counter()
    limits = Limits(sandbox=sandbox)
    grade_folder(ROOT / "solutions" / f"{LAB}.ipynb", tmp / "submissions", out, jobs, limits)
    name = f"grade {students} submissions, --jobs {jobs}" + ("" if sandbox else ", --no-sandbox")
    return name, students, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    rows = []
    for sandbox in (False, True):
        name = "reference: child start + import torch" + (" in bwrap" if sandbox else "")
        rows.append((name, 1, min(child_startup(sandbox) for _ in range(3))))
    with tempfile.TemporaryDirectory() as tmp:
        make_class(Path(tmp) / "submissions", args.students)
        for jobs in sorted({1, args.jobs}):
            for sandbox in (False, True):
                rows.append(grade(Path(tmp), args.students, jobs, sandbox))
    print(f"{'run':45s} {'total s':>8s} {'s/submission':>13s}")
    for name, n, seconds in rows:
        print(f"{name:45s} {seconds:8.2f} {seconds / n:13.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

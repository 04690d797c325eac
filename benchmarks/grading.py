"""The autograder's throughput beside nbgrader's ``autograde``: same lab and submissions, one run.

Generates ``--students`` submissions of ``--lab`` (default 100 of lab 1): 40 % correct, 20 % with
one answer that returns ``None``, 10 % with one answer that raises, 10 % with a syntax error in one
answer, 20 % untouched. Then it grades them

* with ``dlcourse grade`` (sandboxed; children forked warm by the zygote) with 1 job and with one
  job per core, and with cold-started children for reference;
* with nbgrader's ``autograde`` in its own venv (created on first use, see ``_nbgrader.py``), on the
  lab converted to nbgrader's format and the same answers;

and prints seconds per submission, submissions per minute, the ratio to nbgrader, and the physical
limit: the CPU time of the lab's own work per submission (the answer cells and every public and
hidden test, run in this process with nothing else around), which no grader can beat.

    .venv/bin/python benchmarks/grading.py [--students 100] [--lab lab01_initialization]
                                           [--jobs N] [--no-nbgrader]

Timings are printed, never asserted. The per-submission overhead is the wall time a job spends on
a submission beyond that CPU time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _nbgrader  # noqa: E402

from dlcourse.authoring.source import load_source  # noqa: E402
from dlcourse.grading.batch import grade_folder  # noqa: E402
from dlcourse.grading.judge import run_question  # noqa: E402
from dlcourse.grading.runner import build_program, load_plan  # noqa: E402
from dlcourse.grading.session import Limits  # noqa: E402
from dlcourse.grading.student import LocalStudent  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MIX = ["correct"] * 4 + ["returns_none"] * 2 + ["raises", "syntax_error", "blank", "blank"]
_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n?", re.M | re.S)


def _answer(solution: str, kind: str) -> str:
    """One answer cell: the solution, or a plausible broken version of it."""
    if kind == "returns_none":
        return _REGION.sub(lambda m: f"{m.group(1)}return None\n", solution)
    if kind == "raises":
        return _REGION.sub(lambda m: f"{m.group(1)}raise ValueError('a bug')\n", solution)
    correct = _REGION.sub(lambda m: _strip_markers(m.group(0)), solution)
    return correct + ("\n)\n" if kind == "syntax_error" else "")


def _strip_markers(region: str) -> str:
    return "".join(line for line in region.splitlines(True) if "### " not in line)


def make_class(source_path: Path, students: int) -> dict[str, dict[str, str]]:
    """Each student's answer cells by ``grade_id`` (none: the untouched lab)."""
    nb = nbformat.read(source_path, as_version=4)
    answers_of = [
        (c.metadata["dlcourse"]["grade_id"], c.source)
        for c in nb.cells
        if c.metadata.get("dlcourse", {}).get("role") == "solution"
    ]
    klass = {}
    for i in range(students):
        kind = MIX[i % len(MIX)]
        broken = answers_of[(i // len(MIX)) % len(answers_of)][0]
        if kind == "blank":
            klass[f"student{i:03d}"] = {}
            continue
        klass[f"student{i:03d}"] = {
            gid: _answer(src, kind if gid == broken else "correct") for gid, src in answers_of
        }
    return klass


def write_submissions(root: Path, lab: str, klass: dict[str, dict[str, str]]) -> None:
    """``root/STUDENT/LAB.ipynb``: the student's copy of the lab with their answers."""
    blank = ROOT / "labs" / f"{lab}.ipynb"
    for student, answers in klass.items():
        nb = nbformat.read(blank, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("dlcourse", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        (root / student).mkdir(parents=True)
        nbformat.write(nb, root / student / f"{lab}.ipynb")


def own_cpu_seconds(source_path: Path, submissions: Path, klass: dict) -> float:
    """Mean CPU seconds of a submission's own work: its cells and all tests, in this process."""
    import torch

    torch.set_num_threads(1)  # as in the graders' children
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as theirs: the lab's first cell asks
    source, plan = load_source(source_path), load_plan(load_source(source_path))
    cost: dict[str, float] = {}
    for student, answers in [next(iter(klass.items())), *klass.items()]:  # the first one warms up
        key = json.dumps(answers, sort_keys=True)
        if key in cost:
            continue
        nb = nbformat.read(submissions / student / f"{source.name}.ipynb", as_version=4)
        program, _missing = build_program(source, nb)
        start = time.process_time()
        namespace: dict = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for cell in program:
                try:
                    exec(compile(cell.code, cell.label, "exec"), namespace)
                except Exception:
                    pass
            student_ = LocalStudent(namespace, namespace)
            for q in source.questions:
                run_question(q.id, plan.tests[q.id], student_, q.points, plan.stand_ins[q.id])
        cost[key] = time.process_time() - start
    return sum(cost[json.dumps(a, sort_keys=True)] for a in klass.values()) / len(klass)


def ours(source: Path, submissions: Path, out: Path, jobs: int, warm: bool) -> tuple[float, dict]:
    limits = Limits(warm=warm)
    start = time.perf_counter()
    results = grade_folder(source, submissions, out, jobs, limits)
    return time.perf_counter() - start, {r.student: r.total for r in results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--lab", default="lab01_initialization")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-nbgrader", action="store_true", help="only the autograder's rows")
    args = parser.parse_args()
    source = ROOT / "solutions" / f"{args.lab}.ipynb"
    n = args.students
    klass = make_class(source, n)
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_submissions(tmp / "submitted", args.lab, klass)
        cpu = own_cpu_seconds(source, tmp / "submitted", klass)
        totals = {}
        for jobs, warm in [(1, True), (args.jobs, True), (args.jobs, False)]:
            out = tmp / f"out-{jobs}-{warm}"
            seconds, totals[jobs, warm] = ours(source, tmp / "submitted", out, jobs, warm)
            start = "warm (zygote)" if warm else "cold (new python each)"
            rows.append((f"dlcourse grade --jobs {jobs}, {start}", seconds))
        nbgrader_totals = None
        if not args.no_nbgrader:
            _nbgrader.make_course(tmp / "course", source, klass)
            seconds = _nbgrader.autograde(tmp / "course")
            rows.append((f"nbgrader {_nbgrader.VERSION} autograde (one process)", seconds))
            nbgrader_totals = _nbgrader.scores(tmp / "course")
    reference = rows[-1][1] if nbgrader_totals is not None else None
    kinds = ", ".join(sorted(set(MIX)))
    print(f"\n{n} submissions of {args.lab} ({kinds}), {os.cpu_count()} cores")
    print(f"{'run':52s} {'s/sub':>7s} {'subs/min':>9s} {'overhead s':>11s} {'vs nbgrader':>12s}")
    for name, seconds in rows:
        per = seconds / n
        jobs = int(re.search(r"--jobs (\d+)", name).group(1)) if "--jobs" in name else 1
        overhead = per * jobs - cpu
        ratio = f"{reference / seconds:11.1f}x" if reference else ""
        print(f"{name:52s} {per:7.3f} {60 / per:9.1f} {overhead:11.3f} {ratio:>12s}")
    limit = cpu / args.jobs
    print(
        f"{'physical limit: the lab’s own CPU work, ' + str(args.jobs) + ' cores':52s} "
        f"{limit:7.3f} {60 / limit:9.1f} {0:11.3f}"
    )
    print(f"\nthe lab's own work: {cpu:.3f} CPU s per submission (cells and all tests, in process)")
    warm_totals = totals[args.jobs, True]
    same = all(totals[key] == warm_totals for key in totals)
    print(f"dlcourse scores equal across its runs: {same}")
    if nbgrader_totals is not None:
        agree = sum(nbgrader_totals.get(s) == t for s, t in warm_totals.items())
        print(f"students whose nbgrader total equals dlcourse's: {agree} of {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``dlcourse`` command line.

dlcourse labs build [--check]                 write labs/ from solutions/ (or check it is current)
dlcourse grade LAB [--submissions DIR] [...]  grade every student's notebook (see README)
dlcourse feedback LAB [...]                   (re)write feedback/STUDENT/LAB.html from the results
dlcourse execute NOTEBOOK...                  run notebooks top to bottom and store their outputs
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _labs(args: argparse.Namespace) -> int:
    from dlcourse.authoring.build import build_labs

    changed = build_labs(Path(args.solutions), Path(args.labs), check=args.check)
    if args.check:
        if changed:
            print(
                "stale labs (run `make labs` and commit the result): "
                + ", ".join(map(str, changed))
            )
            return 1
        print("labs/ is up to date with solutions/")
        return 0
    print(
        "wrote " + (", ".join(map(str, changed)) if changed else "nothing (labs/ was up to date)")
    )
    return 0


def _known_labs(solutions: Path) -> list[str]:
    """The labs this package defines, and the sources found in ``solutions``."""
    import pkgutil
    import re

    import dlcourse.labs

    names = {m.name for m in pkgutil.iter_modules(dlcourse.labs.__path__)}
    if solutions.is_dir():
        names |= {p.stem for p in solutions.glob("lab*.ipynb")}
    return sorted(n for n in names if re.fullmatch(r"lab\d\d_\w+", n))


def _source_path(lab: str, solutions: str) -> Path:
    """The instructor notebook of ``lab``; the error says where it looked and what to pass."""
    path = Path(lab) if lab.endswith(".ipynb") else Path(solutions) / f"{lab}.ipynb"
    if path.is_file():
        return path
    known = ", ".join(_known_labs(Path(solutions))) or "none"
    raise FileNotFoundError(
        f"no instructor notebook at {path} (current directory: {Path.cwd()}): run from the "
        "course folder that holds solutions/, or pass --solutions DIR (the folder of the "
        f"instructor notebooks) or the notebook's path; labs known here: {known}"
    )


def _grade(args: argparse.Namespace) -> int:
    from dlcourse.grading.batch import grade_folder
    from dlcourse.grading.console import Console
    from dlcourse.grading.session import Limits
    from dlcourse.grading.stopping import stop_on_signals

    limits = Limits(
        question_seconds=args.time_limit,
        memory_mb=args.memory_mb or None,
        output_bytes=args.output_bytes,
        sandbox=not args.no_sandbox,
        warm=not args.cold_start,
    )
    feedback = args.feedback or Path(args.out).parent / "feedback"
    with stop_on_signals():
        grade_folder(
            _source_path(args.lab, args.solutions),
            args.submissions,
            args.out,
            jobs=args.jobs,
            limits=limits,
            gradescope=args.gradescope,
            feedback_dir=feedback,
            console=Console(),
            regrade=args.regrade,
            scheduler=args.scheduler,
        )
    if args.no_sandbox:
        print("WARNING: --no-sandbox: student code ran unisolated, with your rights and files")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from dlcourse.grading.gradescope import autograder_zip, grade_single
    from dlcourse.grading.session import Limits

    if args.action == "zip":
        out = autograder_zip(_source_path(args.lab, args.solutions), args.out)
        print(f"wrote {out}: upload it as the assignment's autograder on Gradescope")
        return 0
    limits = Limits(question_seconds=args.time_limit, sandbox=not args.no_sandbox)
    result = grade_single(
        _source_path(args.lab, args.solutions),
        args.submission,
        args.results,
        limits,
        args.visibility,
    )
    print(f"{result.lab}: {result.total:g}/{result.max_total:g} -> {args.results}")
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from dlcourse.authoring.source import load_source
    from dlcourse.grading.feedback_html import write_feedback_pages

    source = load_source(_source_path(args.lab, args.solutions))
    feedback = Path(args.feedback or Path(args.out).parent / "feedback")
    pages = write_feedback_pages(source, Path(args.out), args.submissions, feedback)
    print(f"wrote {len(pages)} feedback pages into {feedback}/")
    return 0


def _execute(args: argparse.Namespace) -> int:
    """Execute notebooks in place in a fresh kernel, storing outputs and widget state."""
    import time

    import nbclient
    import nbformat

    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        client = nbclient.NotebookClient(
            nb,
            timeout=args.timeout,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(Path(path).parent)}},
        )
        client.execute()
        nbformat.write(nb, path)
        print(f"{path}: executed in {time.perf_counter() - start:.1f} s")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlcourse", description="Course tools: build labs, grade submissions."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    labs = sub.add_parser("labs", help="generate student labs from solutions/")
    labs.add_argument("action", choices=["build"])
    labs.add_argument(
        "--check", action="store_true", help="fail if labs/ is stale instead of writing it"
    )
    labs.add_argument("--solutions", default="solutions")
    labs.add_argument("--labs", default="labs")
    labs.set_defaults(func=_labs)
    grade = sub.add_parser("grade", help="grade a folder of submitted notebooks")
    grade.add_argument(
        "lab", help="lab name (e.g. lab01_initialization) or path to its source notebook"
    )
    grade.add_argument(
        "--submissions",
        default="submitted",
        help="folder or .zip of the notebooks: STUDENT/LAB.ipynb, submitted/STUDENT/LAB.ipynb or "
        "a flat STUDENT.ipynb (default: submitted/)",
    )
    grade.add_argument(
        "--out", default="autograded", help="where results go (default: autograded/)"
    )
    grade.add_argument(
        "--solutions", default="solutions", help="folder of the instructor notebooks"
    )
    grade.add_argument(
        "--feedback", default=None, help="where the HTML pages go (default: feedback/ beside --out)"
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="submissions graded at once (default: the number of cores, or the cluster's threads)",
    )
    grade.add_argument(
        "--time-limit", type=float, default=None, help="seconds per question (default: the lab's)"
    )
    grade.add_argument(
        "--memory-mb", type=int, default=6144, help="memory per student process; 0 for none"
    )
    grade.add_argument(
        "--output-bytes", type=int, default=4 * 2**20, help="output a student process may write"
    )
    grade.add_argument(
        "--gradescope", action="store_true", help="also write STUDENT/results.json for Gradescope"
    )
    grade.add_argument(
        "--regrade",
        action="append",
        default=[],
        metavar="STUDENT",
        help="grade STUDENT again even if a finished result exists (repeatable)",
    )
    grade.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://host:8786); "
        "--jobs then counts submissions in flight",
    )
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code without the bubblewrap sandbox (only for code you trust)",
    )
    grade.add_argument(
        "--cold-start",
        action="store_true",
        help="start a new Python for every student instead of forking one that has the lab's "
        "modules imported (slower; for comparison)",
    )
    grade.set_defaults(func=_grade)
    gradescope = sub.add_parser(
        "gradescope",
        help="Gradescope: grade the one submission in /autograder (run), or build the autograder "
        "zip to upload (zip)",
    )
    gradescope.add_argument("action", choices=["run", "zip"])
    gradescope.add_argument("lab", help="lab name or path to its source notebook")
    gradescope.add_argument("--solutions", default="solutions")
    gradescope.add_argument("--submission", default="/autograder/submission")
    gradescope.add_argument("--results", default="/autograder/results/results.json")
    gradescope.add_argument(
        "--visibility",
        default="visible",
        choices=["hidden", "after_due_date", "after_published", "visible"],
        help="when students see the results (default: visible)",
    )
    gradescope.add_argument("--time-limit", type=float, default=None, help="seconds per question")
    gradescope.add_argument("--no-sandbox", action="store_true", help="run without bubblewrap")
    gradescope.add_argument(
        "--out", default="autograder.zip", help="the zip to write (zip; default: autograder.zip)"
    )
    gradescope.set_defaults(func=_gradescope)
    feedback = sub.add_parser(
        "feedback", help="write each student's HTML feedback page from the graded results"
    )
    feedback.add_argument("lab", help="lab name or path to its source notebook")
    feedback.add_argument("--submissions", default="submitted", help="what was graded")
    feedback.add_argument("--out", default="autograded", help="where the results are")
    feedback.add_argument("--solutions", default="solutions")
    feedback.add_argument("--feedback", default=None, help="default: feedback/ beside --out")
    feedback.set_defaults(func=_feedback)
    execute = sub.add_parser(
        "execute", help="run notebooks in place, storing outputs (for authors)"
    )
    execute.add_argument("notebooks", nargs="+")
    execute.add_argument("--timeout", type=int, default=300, help="seconds per cell (default: 300)")
    execute.set_defaults(func=_execute)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``dlcourse`` command line with ``argv``; returns the exit status."""
    args = _parser().parse_args(argv)
    # The kernels and grader children started from here inherit it (see runtime.passive_omp).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"dlcourse {args.command}: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # no sandbox, or result files changed behind the grader's back
        if type(exc).__name__ not in ("SandboxUnavailable", "ResultsChanged"):
            raise
        print(f"dlcourse {args.command}: {exc}", file=sys.stderr)
        return 1 if type(exc).__name__ == "ResultsChanged" else 2


if __name__ == "__main__":
    raise SystemExit(main())

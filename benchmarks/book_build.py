"""How long the whole book takes to build from clean, and its size, against the one-minute budget.

The book is built as `make book` builds it (``jupyter-book build --all -W -n --keep-going``) into a
fresh temporary folder, from the outputs stored in the notebooks (``execute_notebooks: off`` in
``_config.yml``). For comparison the same sources are built a second time with every chapter
executed (``execute_notebooks: force``, the former setting), from a copy whose ``_config.yml``
differs in that one line; ``--no-execute`` skips that slower row. The table gives the wall time,
the CPU time, the pages built and the size of ``_build/html`` (in all, and without the vendored
scripts). The machine's load average is printed first: wall times on a shared machine are longer.

    .venv/bin/python benchmarks/book_build.py              # or: make bench
    .venv/bin/python benchmarks/book_build.py --no-execute

Exit status: 0 when every build succeeded, 1 when one failed (its log's last lines are printed).
Timings are printed, never asserted (DESIGN.md: benchmarks measure, tests do not time).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 60.0
SOURCES = ("_config.yml", "_toc.yml", "book", "_ext")  # what a build reads, besides node_modules
VENDOR = Path("_static") / "vendor"  # MathJax, RequireJS, the widget manager (html_extra_path)


@dataclasses.dataclass
class Row:
    """One build: how long it took, how many pages it wrote and how big they are."""

    build: str
    seconds: float
    cpu_seconds: float  # user + system time of the build's processes: what a busy machine hides
    pages: int
    mib: float
    mib_own: float  # without the vendored scripts
    ok: bool
    log_tail: str = ""


def jupyter_book() -> str:
    """The jupyter-book command next to this Python (the venv's)."""
    exe = Path(sys.executable).parent / "jupyter-book"
    return str(exe if exe.exists() else ROOT / ".venv" / "bin" / "jupyter-book")


def size_mib(folder: Path) -> float:
    """Total size of the files under ``folder``, in MiB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def executing_copy(dest: Path) -> Path:
    """The book's sources copied to ``dest``, with every chapter executed at build time."""
    dest.mkdir(parents=True)
    for name in SOURCES:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    config = dest / "_config.yml"
    text = config.read_text(encoding="utf-8")
    if 'execute_notebooks: "off"' not in text:
        raise SystemExit('_config.yml no longer says execute_notebooks: "off"; update this script')
    config.write_text(
        text.replace('execute_notebooks: "off"', "execute_notebooks: force"), encoding="utf-8"
    )
    return dest


def build(name: str, source: Path, out: Path) -> Row:
    """Build the book in ``source`` from clean into ``out``, as `make book` does, and measure it."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    env["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's kernel
    )
    cmd = [
        jupyter_book(),
        "build",
        "--all",
        "-W",
        "-n",
        "--keep-going",
        "--path-output",
        str(out),
        str(source),
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=source, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    html = out / "_build" / "html"
    ok = proc.returncode == 0 and (html / "index.html").is_file()
    pages = (
        [p for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts]
        if ok
        else []
    )
    total = size_mib(html) if ok else 0.0
    vendored = size_mib(html / VENDOR) if ok and (html / VENDOR).is_dir() else 0.0
    tail = "" if ok else "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
    return Row(name, seconds, cpu, len(pages), total, total - vendored, ok, tail)


def print_table(rows: list[Row]) -> None:
    """Print one line per build, with its verdict against the budget."""
    head = ("seconds", "cpu s", "pages", "html MiB", "own MiB")
    print(
        f"{'build':<34} {head[0]:>8} {head[1]:>6} {head[2]:>6} {head[3]:>9} {head[4]:>8}  verdict"
    )
    for row in rows:
        if not row.ok:
            verdict = "FAILED"
        else:
            share = f"{row.seconds / BUDGET_S:.0%} of {BUDGET_S:.0f} s"
            verdict = f"ok ({share})" if row.seconds <= BUDGET_S else f"OVER BUDGET ({share})"
        print(
            f"{row.build:<34} {row.seconds:>8.1f} {row.cpu_seconds:>6.1f} {row.pages:>6} "
            f"{row.mib:>9.1f} {row.mib_own:>8.1f}  {verdict}"
        )
    print("seconds: wall clock, the budget's measure; cpu s: user + system time of the build")
    print("own MiB: _build/html without the vendored MathJax, RequireJS and widget scripts")


def main(argv: list[str] | None = None) -> int:
    """Run the builds and print the table; 1 when a build failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-execute", action="store_true", help="skip the build that executes every chapter"
    )
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    python = platform.python_version()
    print(f"{platform.node()}: {os.cpu_count()} CPUs, load average {load}, Python {python}\n")
    rows = []
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        rows.append(build("from stored outputs (make book)", ROOT, Path(tmp) / "stored"))
        if not args.no_execute:
            source = executing_copy(Path(tmp) / "src")
            rows.append(build("executing every chapter (before)", source, Path(tmp) / "executed"))
    print_table(rows)
    for row in rows:
        if not row.ok:
            print(f"\n--- {row.build}: last lines of the log ---\n{row.log_tail}")
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

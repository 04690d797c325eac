"""How long the whole book takes to build from clean, and what it weighs, against the one-minute budget.

The book is built as `make book` builds it (``jupyter-book build --all -W -n --keep-going``) into a
fresh temporary folder, from the outputs stored in the notebooks (``execute_notebooks: off`` in
``_config.yml``). For comparison the same sources are built a second time with every chapter
executed (``execute_notebooks: force``, the former setting), from a copy whose ``_config.yml``
differs in that one line; ``--no-execute`` skips that slower row. The table gives the wall time,
the pages built and the size of ``_build/html`` (in all, and without the vendored scripts).

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
    build: str
    seconds: float
    pages: int
    mib: float
    mib_own: float  # without the vendored scripts
    ok: bool
    log_tail: str = ""


def jupyter_book() -> str:
    exe = Path(sys.executable).parent / "jupyter-book"
    return str(exe if exe.exists() else ROOT / ".venv" / "bin" / "jupyter-book")


def size_mib(folder: Path) -> float:
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
    config.write_text(text.replace('execute_notebooks: "off"', "execute_notebooks: force"), encoding="utf-8")
    return dest


def build(name: str, source: Path, out: Path) -> Row:
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # the venv's kernel
    cmd = [jupyter_book(), "build", "--all", "-W", "-n", "--keep-going", "--path-output", str(out), str(source)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=source, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    html = out / "_build" / "html"
    ok = proc.returncode == 0 and (html / "index.html").is_file()
    pages = [p for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts] if ok else []
    total = size_mib(html) if ok else 0.0
    vendored = size_mib(html / VENDOR) if ok and (html / VENDOR).is_dir() else 0.0
    tail = "" if ok else "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
    return Row(name, seconds, len(pages), total, total - vendored, ok, tail)


def print_table(rows: list[Row]) -> None:
    print(f"{'build':<34} {'seconds':>8} {'pages':>6} {'html MiB':>9} {'own MiB':>8}  verdict")
    for row in rows:
        if not row.ok:
            verdict = "FAILED"
        else:
            share = f"{row.seconds / BUDGET_S:.0%} of {BUDGET_S:.0f} s"
            verdict = f"ok ({share})" if row.seconds <= BUDGET_S else f"OVER BUDGET ({share})"
        print(f"{row.build:<34} {row.seconds:>8.1f} {row.pages:>6} {row.mib:>9.1f} {row.mib_own:>8.1f}  {verdict}")
    print("own MiB: _build/html without the vendored MathJax, RequireJS and widget scripts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-execute", action="store_true", help="skip the build that executes every chapter")
    args = parser.parse_args(argv)
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}\n")
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

"""How long each book chapter and lab solution takes to execute, against the one-minute budget.

Every notebook in ``book/`` and ``solutions/`` is executed with nbclient in a fresh kernel (as the
book build and nbval do), one after another, and timed from kernel start to kernel shutdown. An
empty notebook is timed first in the same run: its row is the kernel start-up that every other row
includes. The budget (DESIGN.md) is one minute per notebook on 2 CPU cores; by default this script
pins itself, and so the kernels it starts, to 2 CPUs so that a bigger machine measures the same
thing.

    .venv/bin/python benchmarks/notebook_times.py            # or: make bench
    .venv/bin/python benchmarks/notebook_times.py --json times.json book/initialization.ipynb

Exit status: 0 when every notebook executed (over budget or not), 1 when one failed to execute.
Timings are printed, never asserted (DESIGN.md: benchmarks measure, tests do not time).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("book", "solutions")
BUDGET_S = 60.0
CELL_TIMEOUT_S = 300
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in IPython tracebacks


@dataclasses.dataclass
class Row:
    notebook: str
    cells: int  # code cells
    seconds: float
    status: str  # "ok", "over budget", "failed", or "reference"
    error: str = ""

    def verdict(self) -> str:
        if self.status == "failed":
            return f"FAILED: {self.error}"
        if self.status == "reference":
            return "reference: kernel start-up, included in every row"
        share = f"{self.seconds / BUDGET_S:.0%} of {BUDGET_S:.0f} s"
        return f"ok ({share})" if self.status == "ok" else f"OVER BUDGET ({share})"


def find_notebooks(root: Path = ROOT) -> list[Path]:
    found = []
    for folder in FOLDERS:
        found += [p for p in sorted((root / folder).rglob("*.ipynb"))
                  if ".ipynb_checkpoints" not in p.parts]
    return found


def execute(nb: nbformat.NotebookNode, cwd: Path) -> tuple[float, str]:
    """Run ``nb`` in a fresh kernel; return (seconds, error message or "")."""
    kernel = nb.metadata.get("kernelspec", {}).get("name", "python3")
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=kernel,
                            resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError, CellTimeoutError, DeadKernelError, no kernel...
        lines = [line for line in ANSI.sub("", str(exc)).splitlines() if line.strip()]
        detail = next((line for line in reversed(lines) if "Error" in line),
                      lines[-1] if lines else "")
        return time.perf_counter() - start, f"{type(exc).__name__}: {detail.strip()[:160]}"
    return time.perf_counter() - start, ""


def time_notebook(path: Path, root: Path = ROOT) -> Row:
    nb = nbformat.read(path, as_version=4)
    cells = sum(cell.cell_type == "code" for cell in nb.cells)
    seconds, error = execute(nb, path.parent)
    status = "failed" if error else "ok" if seconds <= BUDGET_S else "over budget"
    return Row(str(path.relative_to(root)), cells, seconds, status, error)


def time_kernel_startup() -> Row:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    seconds, error = execute(nb, ROOT)
    return Row("(empty notebook)", 0, seconds, "failed" if error else "reference", error)


def pin_cpus(count: int) -> str:
    """Restrict this process and its kernels to ``count`` CPUs (0: leave as is); say the result."""
    if not hasattr(os, "sched_setaffinity"):
        return f"{os.cpu_count()} CPUs (pinning not supported on {platform.system()})"
    available = sorted(os.sched_getaffinity(0))
    if count and len(available) > count:
        os.sched_setaffinity(0, available[:count])
        return f"pinned to {count} of {len(available)} CPUs {available[:count]}"
    note = "" if len(available) == count or not count else f" (fewer than the {count} asked for)"
    return f"{len(available)} CPUs{note}"


def print_table(rows: list[Row], total: float) -> None:
    width = max(len("notebook"), *(len(r.notebook) for r in rows))
    print(f"{'notebook':<{width}}  {'cells':>5}  {'seconds':>8}  status")
    print(f"{'-' * width}  {'-' * 5}  {'-' * 8}  {'-' * 40}")
    for r in rows:
        print(f"{r.notebook:<{width}}  {r.cells:>5}  {r.seconds:>8.1f}  {r.verdict()}")
    print(f"{'-' * width}  {'-' * 5}  {'-' * 8}")
    print(f"{'total (notebooks)':<{width}}  {sum(r.cells for r in rows):>5}  {total:>8.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="default: every notebook in book/ and solutions/")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the rows to PATH as JSON")
    parser.add_argument("--cpus", type=int, default=2,
                        help="pin to this many CPUs (default 2; 0: do not pin)")
    args = parser.parse_args(argv)

    cpus = pin_cpus(args.cpus)
    paths = [p.resolve() for p in args.notebooks] or find_notebooks()
    print(f"Python {platform.python_version()}, {cpus}; budget {BUDGET_S:.0f} s per notebook, "
          f"cell timeout {CELL_TIMEOUT_S} s\n", flush=True)  # fmt: skip

    reference = time_kernel_startup()
    rows = []
    for path in paths:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"  executing {shown} ...", flush=True)
        rows.append(time_notebook(path, ROOT if path.is_relative_to(ROOT) else path.parent))
    total = sum(r.seconds for r in rows)
    print()
    print_table([reference, *rows], total)
    if not paths:
        print("\nno notebooks found in " + ", ".join(f"{f}/" for f in FOLDERS))

    if args.json:
        payload = {
            "budget_s": BUDGET_S,
            "cell_timeout_s": CELL_TIMEOUT_S,
            "cpus": cpus,
            "python": platform.python_version(),
            "total_s": total,
            "rows": [dataclasses.asdict(r) for r in (reference, *rows)],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\nrows written to {args.json}")

    failed = [r for r in (reference, *rows) if r.status == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""What ``dlcourse grade`` prints: a start line, warnings, a progress bar and a summary.

The summary counts each question's statuses over the class, and gives the mean score, the
elapsed time and the students whose notebook was not found or could not be chosen.

See the book: the labs (README, "For instructors").
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from dlcourse.grading import status
from dlcourse.grading.runner import SubmissionResult

__all__ = ["Console", "progress_bar", "summary"]


def progress_bar(done: int, total: int, width: int = 24) -> str:
    """``[#########.......]  9/16`` for ``done`` of ``total``."""
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:{len(str(total))}d}/{total}"


def _all(results: Sequence[SubmissionResult], state: str) -> list[str]:
    """The students whose every question has status ``state``."""
    return [r.student for r in results if {x.status for x in r.questions.values()} == {state}]


def summary(results: Sequence[SubmissionResult], seconds: float) -> list[str]:
    """The summary lines: status counts per question, mean score, time, notebooks not found.

    Args:
        results: the graded submissions.
        seconds: how long the batch took.

    Returns:
        The lines to print.
    """
    if not results:
        return ["no submissions graded"]
    questions = list(results[0].questions)
    seen = {r.questions[q].status for r in results for q in questions}
    used = [s for s in status.names() if s in seen]
    width = max(len(s) for s in used) + 2
    lines = ["question " + "".join(f"{s:>{width}}" for s in used)]
    for q in questions:
        counts = Counter(r.questions[q].status for r in results)
        lines.append(f"{q:<9}" + "".join(f"{counts[s]:>{width}}" for s in used))
    mean = sum(r.total for r in results) / len(results)
    lines.append(
        f"mean score {mean:.2f} / {results[0].max_total:g} over {len(results)} submissions "
        f"in {seconds:.1f} s"
    )
    for state, what in (("missing", "no notebook found"), ("invalid", "invalid submission")):
        names = _all(results, state)
        if names:
            lines.append(f"{what} ({len(names)}): {', '.join(names)}")
    return lines


class Console:
    """Prints the batch's progress to ``stream`` (standard output by default); thread-safe."""

    def __init__(self, stream: TextIO | None = None):
        """A console writing to ``stream``, one line per event (readable in logs too)."""
        self.stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()
        self._done = self._total = 0
        self._start = time.perf_counter()

    def _print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def start(self, lab: str, total: int, jobs: int, warnings: Sequence[str]) -> None:
        """The start line, then one line per warning about the submissions' layout."""
        self._total, self._start = total, time.perf_counter()
        self._print(f"grading {total} submissions of {lab} with {jobs} jobs")
        for warning in warnings:
            self._print(f"warning: {warning}")

    def progress(self, result: SubmissionResult) -> None:
        """One more submission graded: the bar, the student and their score."""
        with self._lock:
            self._done += 1
            line = (
                f"{progress_bar(self._done, self._total)}  {result.student}: "
                f"{result.total:g}/{result.max_total:g}"
            )
            for note in result.notes:
                line += f"\n    note: {note}"
            self._print(line)

    def note(self, text: str) -> None:
        """A line about the whole run (printed before the summary)."""
        self._print(f"note: {text}")

    def finish(self, results: Sequence[SubmissionResult], where: str) -> None:
        """The summary and where the results went."""
        for line in summary(results, time.perf_counter() - self._start):
            self._print(line)
        self._print(f"results in {where}")

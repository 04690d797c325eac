"""Stopping the grader promptly: on SIGTERM or Ctrl-C, kill every student process and exit.

Without this, Ctrl-C would wait for the running questions' time limits and end in a traceback. The
sandbox would still end the students' processes with the grader (``--die-with-parent`` and the PID
namespace); the handler makes it immediate and tidies the scratch folders. The results already
written stay, and the same command continues the batch (:mod:`dlcourse.grading.resume`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from dlcourse.grading.session import kill_all_sessions

__all__ = ["stop_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stop(signum: int, _frame: object) -> None:
    kill_all_sessions()
    name = signal.Signals(signum).name
    sys.stderr.write(
        f"dlcourse grade: stopped by {name}; student processes killed. Results written so far "
        "are kept: run the same command again to continue.\n"
    )
    sys.stderr.flush()
    os._exit(128 + signum)  # worker threads may be waiting on student code: do not join them


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM stop grading at once (see the module docstring)."""
    previous = {sig: signal.signal(sig, _stop) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

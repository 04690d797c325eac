"""Starting a student's process: forked warm by the zygote, or started cold.

A warm child (:mod:`dlcourse.grading.warm`) starts with the lab's modules imported, in
milliseconds; a cold one is a new ``python`` (in bubblewrap when sandboxed) that imports them
itself, which costs more than a second for ``torch``. Either way it serves
:mod:`dlcourse.grading.sandbox`'s protocol on the two pipes it is given, writes its output to the
log, runs under :func:`dlcourse.grading.limits.rlimits` and, where there is one, in its pids cgroup.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from dlcourse.grading.jail import PidsLimit, jail_command
from dlcourse.grading.limits import Limits, apply_rlimits, child_env, rlimits
from dlcourse.grading.warm import WarmChild, ZygoteUnavailable, shared_zygote

__all__ = ["Child", "kill_child", "start_cold", "start_warm"]

Child = subprocess.Popen | WarmChild


def start_warm(
    limits: Limits,
    pipes: tuple[int, int],
    log: IO[bytes],
    pids: PidsLimit | None,
    scratch: Path,
    preload: tuple[str, ...],
) -> WarmChild | None:
    """A child forked by this process's zygote; ``None`` where the zygote cannot run.

    ``pipes`` are the child's ends (requests to read, replies to write), the caller's to close.
    """
    zygote = shared_zygote(limits.sandbox)
    if zygote is None:
        return None
    fds = [*pipes, log.fileno()]
    with contextlib.ExitStack() as stack:
        if pids is not None and pids.available:
            fds.append(stack.enter_context(pids.procs_file()).fileno())
        try:
            return zygote.spawn(fds, list(preload), rlimits(limits), str(scratch))
        except ZygoteUnavailable:
            return None


def start_cold(
    limits: Limits, pipes: tuple[int, int], log: IO[bytes], pids: PidsLimit | None, scratch: Path
) -> subprocess.Popen:
    """A new ``python`` running :mod:`dlcourse.grading.sandbox` (in bubblewrap if sandboxed)."""
    cmd = [sys.executable, "-I", "-m", "dlcourse.grading.sandbox", *map(str, pipes)]
    if limits.sandbox:
        cmd = jail_command(cmd)
    values = rlimits(limits)

    def prepare() -> None:  # runs in the child between fork and exec
        if pids is not None:
            pids.enter()
        apply_rlimits(values)

    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=pipes,
        cwd=scratch,
        env=child_env(scratch),  # the sandbox sets HOME and TMPDIR to its own
        start_new_session=True,
        preexec_fn=prepare,
    )


def kill_child(proc: Child) -> None:
    """Kill a child and everything it started (its process group, or its namespace)."""
    if isinstance(proc, WarmChild):
        proc.kill()
    else:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)

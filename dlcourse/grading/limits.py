"""The limits a student's process runs under, and the environment it starts with.

:class:`Limits` is what an instructor can change (``dlcourse grade --time-limit``, ``--memory-mb``,
...); :func:`rlimits` turns it into the kernel's resource limits, which :func:`apply_rlimits` sets
in the student's process, however it was started (:mod:`dlcourse.grading.spawn`).
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "apply_rlimits", "child_env", "rlimits"]


@dataclass(frozen=True)
class Limits:
    """Resource limits for one student's code.

    Attributes:
        question_seconds: wall time for all calls of one question's tests (``None``: the lab's).
        cell_seconds: wall time for running one notebook cell.
        memory_mb: address-space limit of the child process (``None``: no limit).
        output_bytes: the most bytes the child may write to any file, its output included.
        processes: the most processes and threads the child may have at once (a pids cgroup,
            where the machine offers one; ``None``: no limit).
        sandbox: run the child in the bubblewrap sandbox; :meth:`Session.start` raises
            :class:`~dlcourse.grading.jail.SandboxUnavailable` when there is none. ``False`` runs
            student code with the grader's rights: only for code you trust.
        warm: fork the child from the zygote (:mod:`dlcourse.grading.warm`), with the lab's
            modules already imported, rather than start a fresh ``python``; where the zygote
            cannot run, children start cold anyway.
    """

    question_seconds: float | None = None
    cell_seconds: float = 60.0
    memory_mb: int | None = 6144
    output_bytes: int = 4 * 2**20
    processes: int | None = 256
    sandbox: bool = True
    warm: bool = True

    def __post_init__(self):
        """Refuse limits that are not positive."""
        for name in ("question_seconds", "cell_seconds", "memory_mb", "output_bytes", "processes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"Limits.{name} must be positive, got {value!r}")


def rlimits(limits: Limits) -> dict[str, int]:
    """The kernel resource limits of a student's process, by :mod:`resource` name.

    No core files; at most ``output_bytes`` written to any file; ``memory_mb`` of address space.
    """
    found = {"RLIMIT_CORE": 0, "RLIMIT_FSIZE": limits.output_bytes}
    if limits.memory_mb is not None:
        found["RLIMIT_AS"] = limits.memory_mb * 2**20
    return found


def apply_rlimits(values: dict[str, int]) -> None:
    """Set the limits :func:`rlimits` gave, in this process (and so its children)."""
    for name, value in values.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def child_env(scratch: Path) -> dict[str, str]:
    """The environment of a student's process (and of the zygote), with ``scratch`` as home."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }

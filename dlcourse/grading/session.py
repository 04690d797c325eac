"""The grader's side of a student's child process: start it, feed it cells, call, enforce limits.

Limits (:class:`Limits`): wall time per cell and per question, address space of the child, bytes it
may write (its printed output included), processes and threads. A child that overruns its time is
killed and reported as a ``timeout``; one that dies is reported as ``crashed`` with the last lines
it printed. A fresh child can be started and brought back to the same state by re-running the cells
that succeeded.

The child runs in a bubblewrap sandbox (:mod:`dlcourse.grading.jail`) unless ``Limits.sandbox`` is
false: it sees only a private scratch folder (a tmpfs that ends with it), never the grader's files,
and it cannot signal the grader. Its printed output goes to a log the child cannot see. Without
the sandbox the child works in a scratch folder that :meth:`Session.close` removes.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dlcourse.grading import protocol
from dlcourse.grading.jail import PidsLimit, SandboxUnavailable, sandbox_problem
from dlcourse.grading.limits import Limits, child_env
from dlcourse.grading.spawn import Child, kill_child, start_cold, start_warm
from dlcourse.grading.status import StudentCrashed, StudentTimeout
from dlcourse.grading.student import Student
from dlcourse.grading.warm import WarmChild
from dlcourse.grading.wire import CallInfo, NotPlainData, decode, encode, frame_size

__all__ = ["Limits", "RemoteStudent", "Session", "child_env", "kill_all_sessions"]

_MAX_REPLY_BYTES = 256 * 2**20


_LIVE: set[Session] = set()  # sessions with a scratch folder, for kill_all_sessions


def kill_all_sessions() -> None:
    """Kill every session's child and remove its scratch folder: the grader is being stopped.

    Safe to call from a signal handler while other threads use the sessions; the sessions are
    unusable afterwards.
    """
    for session in list(_LIVE):
        proc = session._proc
        if proc is not None:
            kill_child(proc)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        if session._pids is not None:
            session._pids.remove()
        with contextlib.suppress(Exception):
            session._dir.cleanup()


@functools.lru_cache(maxsize=None)
def _remove_stale_folders(root: str) -> None:
    """Remove the working folders of graders that were killed with -9 (once per process).

    A session's folder is named after its grader's pid; one whose grader is gone is left over.
    """
    for path in Path(root).glob("dlcourse-grade-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


class Session:
    """One child process running one student's code."""

    def __init__(self, limits: Limits = Limits(), preload: tuple[str, ...] = ()):
        """A session under ``limits``; the child starts with :meth:`start`.

        ``preload`` names modules a warm child should find imported (the lab's own imports).
        """
        self.limits = limits
        self.preload = preload
        _remove_stale_folders(tempfile.gettempdir())
        self._dir = tempfile.TemporaryDirectory(prefix=f"dlcourse-grade-{os.getpid()}-")
        self._scratch = Path(self._dir.name) / "scratch"
        self._scratch.mkdir()
        self._proc: Child | None = None
        self._pids: PidsLimit | None = None
        self._buffer = bytearray()
        _LIVE.add(self)

    def start(self) -> None:
        """Start a fresh child (any previous one is killed): forked warm, or else started cold."""
        self.close_child()
        if self.limits.sandbox and sandbox_problem() is not None:
            raise SandboxUnavailable(sandbox_problem())
        if self.limits.processes is not None and self._pids is None:
            self._pids = PidsLimit(self.limits.processes)
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        self._log = open(Path(self._dir.name) / "output.log", "wb")
        args = (self.limits, (req_r, resp_w), self._log, self._pids, self._scratch)
        try:
            self._proc = start_warm(*args, self.preload) if self.limits.warm else None
            if self._proc is None:
                self._proc = start_cold(*args)
        finally:
            os.close(req_r)
            os.close(resp_w)
        self._req = os.fdopen(req_w, "wb")
        self._resp = resp_r
        self._buffer = bytearray()

    @property
    def alive(self) -> bool:
        """Whether the child is running."""
        return self._proc is not None and self._proc.poll() is None

    def request(self, message: dict, timeout: float) -> Any:
        """Send ``message`` and wait up to ``timeout`` seconds for the reply."""
        if not self.alive:
            raise StudentCrashed(self._death_message())
        try:
            self._req.write(encode(message))
            self._req.flush()
        except (BrokenPipeError, OSError):
            raise StudentCrashed(self._death_message()) from None
        body = self._read_frame(time.monotonic() + timeout, timeout)
        try:
            return decode(body)
        except NotPlainData as exc:
            self.close_child()
            raise StudentCrashed(f"the process running your code sent a damaged reply ({exc})")

    def _read_frame(self, deadline: float, timeout: float) -> bytes:
        while len(self._buffer) < 8 or len(self._buffer) < 8 + frame_size(self._buffer[:8]):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close_child()
                raise StudentTimeout(
                    f"your code ran longer than the {timeout:g} s allowed and was stopped"
                )
            ready, _, _ = select.select([self._resp], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._resp, 1 << 20)
            if not chunk:
                raise StudentCrashed(self._death_message())
            self._buffer += chunk
            if len(self._buffer) >= 8 and frame_size(self._buffer[:8]) > _MAX_REPLY_BYTES:
                self.close_child()
                raise StudentCrashed(
                    "your code returned more data than the grader accepts (256 MB)"
                )
        end = 8 + frame_size(self._buffer[:8])
        body = bytes(self._buffer[8:end])
        del self._buffer[:end]
        return body

    def _death_message(self) -> str:
        code = None
        if self._proc is not None:
            try:
                code = self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.close_child()
        if isinstance(self._proc, WarmChild) and self._proc.error is not None:
            return f"the process running your code ended: {self._proc.error}"
        sandboxed = self.limits.sandbox or isinstance(self._proc, WarmChild)
        if code is not None and sandboxed and 128 < code < 128 + signal.NSIG:
            code = 128 - code  # bubblewrap exits with 128 + N when its child died of signal N
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = {
                "SIGXFSZ": f" (it wrote more than {self.limits.output_bytes} bytes of output)",
                "SIGKILL": " (killed, e.g. for using too much memory)",
            }.get(name, "")
            cause = f"was killed by {name}{why}"
        else:
            cause = f"exited with code {code}"
        tail = self.output_tail()
        return f"the process running your code {cause}" + (
            f"; its last output: {tail}" if tail else ""
        )

    def output_tail(self, limit: int = 400) -> str:
        """The last ``limit`` characters the child printed."""
        path = Path(self._dir.name) / "output.log"
        if not path.exists():
            return ""
        with open(path, "rb") as fh:
            fh.seek(max(0, path.stat().st_size - limit))
            return fh.read().decode("utf-8", "replace").strip()

    def exec_cell(self, code: str, label: str, timeout: float) -> dict:
        """Run one cell; returns ``{"status": "ok"|"error"|"not_implemented", "message": ...}``."""
        return self.request(protocol.exec_request(code, label), timeout)

    def call(self, name: str, args: list, kwargs: dict, timeout: float) -> CallInfo:
        """Call the student's ``name``; raises a :class:`StudentProblem` for what went wrong."""
        return protocol.call_reply(self.request(protocol.call_request(name, args, kwargs), timeout))

    def source(self, name: str, timeout: float = 10.0) -> str:
        """The source text of the student's ``name`` (``""`` when it has none)."""
        return str(self.request(protocol.source_request(name), timeout).get("ok", ""))

    def swap(self, names: dict[str, str], timeout: float = 30.0) -> None:
        """Put library stand-ins in place of ``names`` (``{}``: the student's answers again)."""
        protocol.raise_problem(self.request(protocol.swap_request(names), timeout))

    def close_child(self) -> None:
        """Kill the child (if any) and close its pipes; the session can :meth:`start` again."""
        if self._proc is not None:
            if self._proc.poll() is None:
                kill_child(self._proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=30)
            self._req.close()
            os.close(self._resp)
            self._log.close()
            self._proc = None

    def close(self) -> None:
        """Kill the child and remove its scratch folder (and its pids cgroup)."""
        self.close_child()
        if self._pids is not None:
            self._pids.remove(wait=False)
        self._dir.cleanup()
        _LIVE.discard(self)

    def __enter__(self) -> "Session":
        """The session itself."""
        return self

    def __exit__(self, *exc) -> None:
        """Close the session."""
        self.close()


class RemoteStudent(Student):
    """A :class:`Student` whose code runs in a :class:`Session`, with one time budget for all calls.

    Args:
        session: the child process holding the student's code.
        seconds: the time all calls of one question's tests may take together.
    """

    def __init__(self, session: Session, seconds: float):
        """A student with ``seconds`` for all calls (see the class)."""
        self._session = session
        self._left = seconds
        self._budget = seconds

    def call_info(self, name: str, *args: Any, **kwargs: Any) -> CallInfo:
        """Call the student's ``name`` in the child, within what is left of the time budget."""
        if self._left <= 0:
            raise StudentTimeout(
                f"this question's tests may take {self._budget:g} s of your code's time in all"
            )
        start = time.monotonic()
        try:
            return self._session.call(name, list(args), dict(kwargs), timeout=self._left)
        except StudentTimeout:
            raise StudentTimeout(
                f"{name} ran longer than the {self._budget:g} s this question allows "
                "and was stopped"
            ) from None
        finally:
            self._left -= time.monotonic() - start

    def source(self, name: str) -> str:
        """The source text of the student's ``name`` in the child."""
        return self._session.source(name)

    @contextlib.contextmanager
    def isolated(self, names: Mapping[str, str]) -> Iterator[None]:
        """Put stand-ins for ``names`` in place in the child for the block."""
        if not names:
            yield
            return
        self._session.swap(dict(names))
        try:
            yield
        finally:
            if self._session.alive:
                self._session.swap({})

"""The grader's side of the zygote (:mod:`dlcourse.grading.zygote`): warm children on demand.

One :class:`Zygote` per grader process (:func:`shared_zygote`) is started on first use, in
bubblewrap with its own user namespace and the two capabilities it needs to give each child its own
namespaces; every :class:`dlcourse.grading.session.Session` asks it for a :class:`WarmChild`
instead of starting ``python`` and importing ``torch`` again. When the zygote cannot be started
(no user namespaces, no capabilities inside the container), sessions fall back to a cold start in
bubblewrap, as safe and slower; :func:`warm_problem` says why.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dlcourse.grading.jail import SCRATCH, SCRATCH_BYTES, SHM_BYTES, jail_command
from dlcourse.grading.limits import child_env
from dlcourse.grading.protocol import exec_request
from dlcourse.grading.wire import decode, encode
from dlcourse.grading.zygote import ISOLATE, PLAIN, recv_message, send_message

__all__ = ["WarmChild", "Zygote", "ZygoteUnavailable", "shared_zygote", "warm_problem"]

_START_SECONDS = 120.0


class ZygoteUnavailable(RuntimeError):
    """The zygote could not be started or has stopped; sessions start cold instead."""


class WarmChild:
    """A student's process forked by the zygote; used like :class:`subprocess.Popen`."""

    def __init__(self, zygote: Zygote, ident: int):
        """The child with request id ``ident`` (not yet confirmed)."""
        self._zygote, self.ident = zygote, ident
        self.returncode: int | None = None
        self._ended = threading.Event()
        self._spawned = threading.Event()
        self.error: str | None = None

    def _finish(self, code: int | None) -> None:
        self.returncode = code
        self._spawned.set()
        self._ended.set()

    def poll(self) -> int | None:
        """The exit code (bubblewrap's convention: 128 + N for signal N), or ``None`` if running."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the end; raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds."""
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"warm child {self.ident}", timeout or 0.0)
        return self.returncode

    def kill(self) -> None:
        """Kill the child and every process it started."""
        if not self._ended.is_set():
            self._zygote.kill(self.ident)


class Zygote:
    """A warm process that forks children with ``torch`` and the lab's modules imported.

    Args:
        isolate: give each child its own namespaces (and run the zygote in bubblewrap); ``False``
            only with ``--no-sandbox``.
    """

    def __init__(self, isolate: bool = True):
        """Start the zygote and wait until it is ready; raises :class:`ZygoteUnavailable`."""
        self.isolate = isolate
        self._ended = False
        self._ids = itertools.count()
        self._children: dict[int, WarmChild] = {}
        self._lock = threading.Lock()
        self._dir = tempfile.TemporaryDirectory(prefix=f"dlcourse-grade-{os.getpid()}-zygote-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [sys.executable, "-I", "-m", "dlcourse.grading.zygote", str(theirs.fileno())]
        cmd.append(ISOLATE if isolate else PLAIN)
        if isolate:
            cmd = jail_command(cmd, capabilities=("CAP_SYS_ADMIN", "CAP_SETPCAP"))
        self._log_path = Path(self._dir.name) / "zygote.log"
        with open(self._log_path, "wb") as log:
            self._proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(theirs.fileno(),),
                env=child_env(Path(self._dir.name)),
                start_new_session=True,
            )
        theirs.close()
        self._sock = ours
        self._sock.settimeout(_START_SECONDS)
        try:
            message, _ = recv_message(self._sock)
        except OSError as exc:
            message = {"op": "broken", "error": f"no answer ({exc})"}
        if message is None or message.get("op") != "ready":
            self.close()
            why = (message or {}).get("error") or self._log_tail() or "it exited"
            raise ZygoteUnavailable(f"the zygote did not start: {why}")
        self._sock.settimeout(None)
        threading.Thread(target=self._read, name="dlcourse-zygote", daemon=True).start()
        try:
            self._probe()
        except Exception as exc:  # whatever went wrong, children must start cold instead
            self.close()
            raise ZygoteUnavailable(f"a child forked by the zygote did not work: {exc}") from None

    def _probe(self) -> None:
        """Fork one child and have it run an empty cell: its namespaces and limits held."""
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        log = open(Path(self._dir.name) / "probe.log", "wb")  # noqa: SIM115 - closed below
        try:
            child = self.spawn([req_r, resp_w, log.fileno()], [], {}, self._dir.name)
            os.close(req_r)
            os.close(resp_w)
            req_r = resp_w = -1
            os.write(req_w, encode(exec_request("pass", "probe")))
            ready, _, _ = select.select([resp_r], [], [], _START_SECONDS)
            reply = os.read(resp_r, 1 << 16) if ready else b""
            if len(reply) < 8 or decode(reply[8:]).get("status") != "ok":
                code = child.wait(10) if not reply else None
                child.kill()
                why = (Path(self._dir.name) / "probe.log").read_text(errors="replace").strip()
                why = why or self._log_tail() or f"exit code {code}"
                raise ZygoteUnavailable(why[-400:])
            child.kill()
        finally:
            for fd in (req_r, req_w, resp_r, resp_w):
                if fd >= 0:
                    os.close(fd)
            log.close()

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self._log_path.read_text(errors="replace").strip()[-400:]
        return ""

    @property
    def alive(self) -> bool:
        """Whether the zygote is still serving."""
        return not self._ended and self._proc.poll() is None

    def _read(self) -> None:
        """Route the zygote's messages to the children; on its end, end them all."""
        while True:
            try:
                message, _ = recv_message(self._sock)
            except OSError:
                message = None
            if message is None:
                self._ended = True
                with self._lock:
                    orphans, self._children = list(self._children.values()), {}
                for orphan in orphans:
                    orphan.error = orphan.error or "the grader's zygote stopped"
                    orphan._finish(None)
                return
            with self._lock:
                child = self._children.get(message.get("id", -1))
            if child is None:
                continue
            if message["op"] == "spawned":
                child._spawned.set()
            elif message["op"] == "failed":
                child.error = message["error"]
                child._finish(None)
            elif message["op"] == "exit":
                with self._lock:
                    self._children.pop(child.ident, None)
                child._finish(message["code"])

    def spawn(
        self, fds: list[int], preload: list[str], rlimits: dict[str, int], scratch: str
    ) -> WarmChild:
        """Fork a child that serves the sandbox protocol on ``fds`` (request, reply, log[, cgroup]).

        The descriptors are the caller's to close. Raises :class:`ZygoteUnavailable` when the
        zygote is gone or could not fork.
        """
        child = WarmChild(self, next(self._ids))
        message = {
            "op": "spawn",
            "id": child.ident,
            "preload": preload,
            "rlimits": rlimits,
            "scratch": SCRATCH if self.isolate else scratch,
            "scratch_bytes": SCRATCH_BYTES,
            "shm_bytes": SHM_BYTES,
        }
        with self._lock:
            self._children[child.ident] = child
            try:
                send_message(self._sock, message, fds)
            except OSError as exc:
                self._children.pop(child.ident, None)
                raise ZygoteUnavailable(f"the zygote is gone ({exc})") from None
        # the first spawn imports the lab's modules
        if not child._spawned.wait(_START_SECONDS) or child.error is not None:
            child.kill()
            raise ZygoteUnavailable(f"the zygote could not fork: {child.error or 'no answer'}")
        return child

    def kill(self, ident: int) -> None:
        """Ask the zygote to kill child ``ident``."""
        with self._lock, contextlib.suppress(OSError):
            send_message(self._sock, {"op": "kill", "id": ident})

    def close(self) -> None:
        """Stop the zygote; its children die with it."""
        with contextlib.suppress(OSError):
            self._sock.close()
        with contextlib.suppress(OSError):
            self._proc.kill()
        self._proc.wait()
        self._dir.cleanup()


_shared: dict[bool, Zygote] = {}
_problem: dict[bool, str] = {}
_shared_lock = threading.Lock()


def shared_zygote(isolate: bool = True) -> Zygote | None:
    """This process's zygote (started on first use, restarted if it died); ``None`` if it can't be.

    The reason is then in :func:`warm_problem`, and the zygote is not tried again.
    """
    with _shared_lock:
        if isolate in _problem:
            return None
        zygote = _shared.get(isolate)
        if zygote is not None and zygote.alive:
            return zygote
        try:
            # started from a thread that lives as long as this process: bubblewrap's
            # --die-with-parent ends the zygote when the thread that started it ends
            zygote = _shared[isolate] = _starter().submit(Zygote, isolate).result()
        except (ZygoteUnavailable, OSError) as exc:
            _problem[isolate] = str(exc)
            return None
        return zygote


@functools.lru_cache(maxsize=1)
def _starter() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlcourse-zygote")


def warm_problem(isolate: bool = True) -> str | None:
    """Why sessions start cold (``None``: the zygote works or was not needed yet)."""
    return _problem.get(isolate)


def close_shared() -> None:
    """Stop this process's zygotes (the grader is ending)."""
    with _shared_lock:
        for zygote in _shared.values():
            zygote.close()
        _shared.clear()

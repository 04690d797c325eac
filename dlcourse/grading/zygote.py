"""The zygote: one warm process that forks a fresh, sandboxed child for every student.

Importing ``torch`` costs more than a second of CPU, more than most labs' tests. The zygote pays
it once: it imports the lab's modules, then forks one child per submission, which starts with
everything already imported. Started as ``python -I -m dlcourse.grading.zygote CTRL_FD MODE`` by
:class:`dlcourse.grading.warm.Zygote`, inside bubblewrap, and serves requests on the
``SOCK_SEQPACKET`` socket ``CTRL_FD`` (one JSON message each, file descriptors attached):

* ``spawn`` (``id``, ``preload``, ``rlimits``, ``scratch`` and the child's request, reply and log
  descriptors, plus an open ``cgroup.procs`` to join when ``cgroup`` is set) — imports ``preload``
  if not yet imported, forks, answers ``spawned`` (or ``failed`` with a message);
* ``kill`` (``id``) — kills that child and everything it started;
* when a child ends, the zygote sends ``exit`` (``id``, ``code``).

In ``isolate`` mode each child builds its own sandbox before any student code runs
(:mod:`dlcourse.grading.namespaces`): the forked process ``C`` unshares new namespaces and forks
``G``, PID 1 of the new PID namespace, which mounts a private ``/proc``, scratch folder and
``/dev/shm``, joins the child's pids cgroup and forks ``H``, PID 2, which drops every capability
and serves :mod:`dlcourse.grading.sandbox`'s protocol. ``G`` ends when ``H`` ends (taking every
other process of the namespace with it) and exits as bubblewrap does (``128 + N`` for a death by
signal ``N``); ``G`` and ``C`` die with their parents. In ``plain`` mode (``--no-sandbox``) the
forked process serves directly, in a session of its own.
"""

from __future__ import annotations

import array
import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
import traceback
from collections.abc import Sequence

from dlcourse.grading import namespaces
from dlcourse.grading.limits import apply_rlimits

__all__ = ["ISOLATE", "PLAIN", "main", "recv_message", "send_message"]

ISOLATE, PLAIN = "isolate", "plain"
_MAX_FDS = 8


def send_message(sock: socket.socket, message: dict, fds: Sequence[int] = ()) -> None:
    """Send one JSON ``message`` with ``fds`` attached."""
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([json.dumps(message).encode()], ancillary)


def recv_message(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """One message and its descriptors; ``(None, [])`` when the other end has closed."""
    data, ancillary, _flags, _addr = sock.recvmsg(1 << 16, socket.CMSG_SPACE(_MAX_FDS * 4))
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    return json.loads(data), list(fds)


def _exit_code(status: int) -> int:
    """A wait status as bubblewrap reports it: the exit code, or 128 + N for signal N."""
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _reap_until(pid: int) -> int:
    """As PID 1: reap every process until ``pid`` has ended; its exit code."""
    while True:
        ended, status = os.wait()
        if ended == pid:
            return _exit_code(status)


def _serve(message: dict, req: int, resp: int, log: int) -> int:
    """The student's process: limits, standard streams, then the sandbox protocol."""
    apply_rlimits(message["rlimits"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(message["scratch"])
    os.environ.update(HOME=message["scratch"], TMPDIR=message["scratch"])
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process ends with it
    from dlcourse.grading.sandbox import main as serve

    return serve([str(req), str(resp)])


def _child(message: dict, fds: list[int], isolate: bool) -> int:
    """Everything that happens in the forked process; returns the exit code."""
    req, resp, log, *cgroup = fds
    namespaces.set_parent_death_signal(signal.SIGKILL)
    if isolate:
        namespaces.unshare_all()
        init = os.fork()
        if init:
            for fd in fds:
                os.close(fd)
            return _exit_code(os.waitpid(init, 0)[1])
        namespaces.set_parent_death_signal(signal.SIGKILL)  # G, PID 1
        os.setsid()  # signals to "my process group" must not reach the zygote's
        namespaces.mount_private(message["scratch"], message["scratch_bytes"], message["shm_bytes"])
    else:
        os.setsid()
    if cgroup:
        os.write(cgroup[0], b"0")
        os.close(cgroup[0])
    if isolate:
        namespaces.unshare_cgroup()
        student = os.fork()
        if student:
            for fd in (req, resp, log):
                os.close(fd)
            return _reap_until(student)
        namespaces.set_parent_death_signal(signal.SIGKILL)  # H, PID 2
        namespaces.drop_capabilities()
    return _serve(message, req, resp, log)


def _close_all_but(keep: list[int]) -> None:
    """Close every descriptor above standard error that is not in ``keep``."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the descriptor of the listing itself


def _start_child(message: dict, fds: list[int], isolate: bool) -> int:
    for name in message.get("preload", []):
        if name not in sys.modules:
            try:
                importlib.import_module(name)
            except Exception:  # the child imports it again and reports what is wrong
                pass
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _close_all_but(fds)  # the control socket, other children's descriptors
            code = _child(message, fds, isolate)
        except BaseException:
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(code)
    for fd in fds:
        os.close(fd)
    return pid


def _kill(pid: int, isolate: bool) -> None:
    """Kill a child: in isolate mode its namespace dies with it; otherwise its process group."""
    try:
        (os.kill if isolate else os.killpg)(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(ctrl: socket.socket, children: dict[int, int]) -> None:
    """Report every child that has ended."""
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        send_message(ctrl, {"op": "exit", "id": children.pop(pid), "code": _exit_code(status)})


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass


def main(argv: list[str] | None = None) -> int:
    """Serve ``spawn`` and ``kill`` requests until the grader closes the socket."""
    argv = sys.argv[1:] if argv is None else argv
    ctrl = socket.socket(fileno=int(argv[0]))
    isolate = argv[1] == ISOLATE
    if isolate and namespaces.in_initial_user_namespace():
        send_message(ctrl, {"op": "broken", "error": "not in a user namespace of its own"})
        return 1
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    importlib.import_module("dlcourse.grading.sandbox")
    send_message(ctrl, {"op": "ready", "pid": os.getpid()})
    children: dict[int, int] = {}  # pid -> request id
    while True:
        ready, _, _ = select.select([ctrl.fileno(), wake_r], [], [])
        if wake_r in ready:
            _drain(wake_r)
            _reap(ctrl, children)
        if ctrl.fileno() not in ready:
            continue
        message, fds = recv_message(ctrl)
        if message is None:  # the grader is done, or gone
            for pid in children:
                _kill(pid, isolate)
            return 0
        if message["op"] == "spawn":
            try:
                pid = _start_child(message, fds, isolate)
            except OSError as exc:
                send_message(ctrl, {"op": "failed", "id": message["id"], "error": str(exc)})
                continue
            children[pid] = message["id"]
            send_message(ctrl, {"op": "spawned", "id": message["id"]})
        elif message["op"] == "kill":
            for pid in [pid for pid, ident in children.items() if ident == message["id"]]:
                _kill(pid, isolate)


if __name__ == "__main__":
    raise SystemExit(main())

"""The sandbox a student's child process runs in: bubblewrap's command line and a pids cgroup.

The child runs under ``bwrap --unshare-all --die-with-parent --new-session``: its own PID, network,
IPC, UTS and user namespaces (it cannot signal the grader or anything outside, and has no network),
all capabilities dropped, and a file system built from nothing: a read-only view of what Python
needs (system libraries, the Python installation, the virtual environment, the ``dlcourse``
package), ``/proc``, a minimal read-only ``/dev`` and one private writable scratch folder at
:data:`SCRATCH`, also reachable as ``/tmp`` (unless the environment itself lives under ``/tmp``):
a size-capped tmpfs of its own, which disappears with the sandbox (besides it only ``/dev/shm``,
capped too). The repository, ``solutions/``, the
submissions and the results folder are simply not there. The root is read-only. When the grader
dies, the kernel kills the whole namespace.

Processes are capped by a pids cgroup where the machine offers one (:class:`PidsLimit`);
``RLIMIT_NPROC`` would not do, since it does not apply to root, which the child is inside its
namespace and the grader often is outside.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import dlcourse

__all__ = [
    "INSTALL_HINT",
    "SCRATCH",
    "SCRATCH_BYTES",
    "SHM_BYTES",
    "PidsLimit",
    "SandboxUnavailable",
    "jail_command",
    "readonly_paths",
    "sandbox_problem",
]

#: Where the child sees its scratch folder (its working directory, ``HOME`` and ``TMPDIR``).
SCRATCH = "/home/student"
#: Sizes, in bytes, of the child's writable file systems (its scratch folder and ``/dev/shm``).
SCRATCH_BYTES = 256 * 2**20
SHM_BYTES = 64 * 2**20

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install -y bubblewrap`; Fedora: `dnf install "
    "bubblewrap`), or pass --no-sandbox to run student code without isolation (only for code you "
    "trust)"
)

_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf")
_PIDS_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


class SandboxUnavailable(RuntimeError):
    """Student code would have to run without a sandbox, and nobody said that is fine."""


def readonly_paths() -> list[str]:
    """The folders the child sees read-only: the Python installation, the venv, ``dlcourse``."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths |= {os.path.dirname(os.path.realpath(sys.executable))}
    paths |= {os.path.realpath(p) for p in list(paths)}
    # An editable install lives in the repository: show the package, never the folder around it.
    paths |= {os.path.realpath(p) for p in dlcourse.__path__}
    kept = sorted(p for p in paths if os.path.isdir(p) and p != "/" and not p.startswith("/usr/"))
    return [p for p in kept if not any(p.startswith(q + "/") for q in kept if q != p)]


def _system_args() -> list[str]:
    args: list[str] = []
    for top in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in _ETC:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def jail_command(
    argv: list[str],
    scratch_bytes: int = SCRATCH_BYTES,
    bwrap: str = "bwrap",
    capabilities: tuple[str, ...] = (),
) -> list[str]:
    """``argv`` run by bubblewrap in a fresh sandbox whose only writable folder is its scratch.

    Args:
        argv: the command to run inside (its paths as the child sees them: unchanged).
        scratch_bytes: the size of the scratch tmpfs at :data:`SCRATCH` (also ``/tmp``).
        bwrap: the bubblewrap executable.
        capabilities: capabilities to keep inside (e.g. ``CAP_SYS_ADMIN`` for the zygote, which
            makes namespaces for its children); they then hold in a user namespace of the
            sandbox's own, never over the machine.

    Returns:
        The command line to start (the README's "For instructors" explains the sandbox).
    """
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if capabilities:
        args[2:2] = ["--unshare-user"]
        for cap in capabilities:
            args += ["--cap-add", cap]
    args += ["--tmpfs", "/", *_system_args()]
    paths = readonly_paths()
    # A checkout (and so its venv) may live under /tmp: then /tmp holds those read-only folders
    # and nothing writable; otherwise /tmp is the scratch folder under another name.
    under_tmp = any(p == "/tmp" or p.startswith("/tmp/") for p in paths)
    for path in paths:
        args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm"]
    args += ["--remount-ro", "/dev", "--size", str(scratch_bytes), "--tmpfs", SCRATCH]
    args += ["--chdir", SCRATCH] + ([] if under_tmp else ["--symlink", SCRATCH, "/tmp"])
    args += ["--remount-ro", "/"]
    args += ["--setenv", "HOME", SCRATCH, "--setenv", "TMPDIR", SCRATCH, "--"]
    return args + list(argv)


@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """Why no sandbox can be started here (``None``: bubblewrap works); probed once per process."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return f"no sandbox: the `bwrap` program (bubblewrap) is not installed; {INSTALL_HINT}"
    probe = jail_command([sys.executable, "-I", "-S", "-c", "pass"], bwrap=bwrap)
    try:
        run = subprocess.run(probe, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"no sandbox: bubblewrap could not be started ({exc}); {INSTALL_HINT}"
    if run.returncode != 0:
        why = run.stderr.decode("utf-8", "replace").strip() or f"exit code {run.returncode}"
        return (
            f"no sandbox: bubblewrap is installed but cannot create namespaces here ({why}); "
            "run the grader where user or PID namespaces are allowed (as root, or with "
            f"kernel.unprivileged_userns_clone=1), or {INSTALL_HINT.split(', or ')[1]}"
        )
    return None


@functools.lru_cache(maxsize=None)
def _remove_stale(root: Path) -> None:
    """Remove the empty cgroups a grader killed with -9 left behind (once per process and root).

    Only those named after a process that is gone; and the kernel refuses to remove a cgroup that
    still has processes.
    """
    for path in root.glob("dlcourse-grade-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            with contextlib.suppress(OSError):
                path.rmdir()


class PidsLimit:
    """A pids cgroup that caps how many processes and threads one child may have.

    Created when the machine lets this process make cgroups (``available`` tells); otherwise a
    no-op, and the sandbox's PID namespace still ends every process with the child.
    """

    def __init__(self, max_pids: int):
        """A fresh cgroup allowing ``max_pids`` tasks, if one can be made."""
        self.path: Path | None = None
        name = f"dlcourse-grade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        for root in _PIDS_ROOTS:
            if not (root / "cgroup.procs").exists():
                continue  # not a cgroup file system
            _remove_stale(root)
            path = root / name
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                if not (path / "pids.max").exists():
                    raise OSError("no pids controller here")
                (path / "pids.max").write_text(str(max_pids))
            except OSError:
                path.rmdir()
                continue
            self.path = path
            return

    @property
    def available(self) -> bool:
        """Whether the limit is in force."""
        return self.path is not None

    def enter(self) -> None:
        """Move the calling process (and so everything it starts) into the cgroup, if it can."""
        if self.path is not None:
            with contextlib.suppress(OSError), open(self.path / "cgroup.procs", "w") as fh:
                fh.write("0")

    def procs_file(self):
        """``cgroup.procs`` opened for writing: a process that writes ``0`` to it joins the group.

        Opened here, by the grader, so that a process without the right to move itself (in a
        sandbox) can still join through the inherited descriptor.
        """
        if self.path is None:
            raise RuntimeError("no pids cgroup here")
        return open(self.path / "cgroup.procs", "wb", buffering=0)

    def remove(self, wait: bool = True) -> None:
        """Remove the cgroup once its processes are gone.

        The last processes of a killed namespace may still be exiting: with ``wait``, retry for
        up to a second; without, a background thread does (the grader need not wait for it).
        """
        if self.path is None:
            return
        path, self.path = self.path, None
        if not _try_rmdir(path, 1 if not wait else 50):
            if not wait:
                _background_removals().put(path)


def _try_rmdir(path: Path, attempts: int) -> bool:
    for attempt in range(attempts):
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if attempt + 1 < attempts:
                time.sleep(0.02)
    return False


@functools.lru_cache(maxsize=1)
def _background_removals() -> queue.SimpleQueue[Path]:
    """A queue of cgroups to remove, served by one daemon thread (started on first use)."""
    todo: queue.SimpleQueue[Path] = queue.SimpleQueue()

    def serve() -> None:
        while True:
            _try_rmdir(todo.get(), 50)

    threading.Thread(target=serve, name="dlcourse-cgroup-removal", daemon=True).start()
    return todo

"""Linux namespaces and capabilities for the zygote's children (:mod:`dlcourse.grading.zygote`).

The zygote runs inside bubblewrap (:mod:`dlcourse.grading.jail`) in a user namespace of its own,
where it keeps ``CAP_SYS_ADMIN`` and ``CAP_SETPCAP`` (capabilities over its own namespaces only,
never the machine's). Each child it forks gives itself what a fresh ``bwrap`` would: new mount,
PID, network, IPC and UTS namespaces (:func:`unshare_all`), a fresh ``/proc``, scratch folder and
``/dev/shm`` (:func:`mount_private`), and then drops every capability for good
(:func:`drop_capabilities`) before any student code runs.

Thin wrappers over the C library through :mod:`ctypes`; each raises :class:`OSError` with the
call's name when the kernel refuses.
"""

from __future__ import annotations

import ctypes
import os

__all__ = [
    "capabilities",
    "drop_capabilities",
    "in_initial_user_namespace",
    "mount_private",
    "set_parent_death_signal",
    "unshare_all",
    "unshare_cgroup",
]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWCGROUP = 0x02000000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 24, 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def set_parent_death_signal(signum: int) -> None:
    """Have the kernel send ``signum`` to this process when its parent ends."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0), "prctl(PR_SET_PDEATHSIG)")


def in_initial_user_namespace() -> bool:
    """Whether this process is in the machine's own user namespace (where capabilities are real)."""
    with open("/proc/self/uid_map") as fh:
        return fh.read().split() == ["0", "0", "4294967295"]


def unshare_all() -> None:
    """New mount, PID (for the children), network, IPC and UTS namespaces; mounts made private.

    The next child forked is PID 1 of the new PID namespace; mounts made after this call do not
    propagate back to the parent's namespace.
    """
    flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    _check(_libc.unshare(flags), "unshare")
    _check(_libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "mount --make-rprivate /")


def unshare_cgroup() -> None:
    """A new cgroup namespace rooted at this process's cgroup (which then reads as ``/``)."""
    _check(_libc.unshare(_CLONE_NEWCGROUP), "unshare(CLONE_NEWCGROUP)")


def _mount(source: bytes, target: str, fstype: bytes, flags: int, data: bytes | None) -> None:
    _check(_libc.mount(source, target.encode(), fstype, flags, data), f"mount {target}")


def mount_private(scratch: str, scratch_bytes: int, shm_bytes: int) -> None:
    """A ``/proc`` of this PID namespace, and fresh size-capped tmpfs at ``scratch`` and /dev/shm.

    Called by PID 1 of the new PID namespace, after :func:`unshare_all`.
    """
    _mount(b"proc", "/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)
    for path, size in ((scratch, scratch_bytes), ("/dev/shm", shm_bytes)):
        _mount(b"tmpfs", path, b"tmpfs", _MS_NOSUID | _MS_NODEV, f"size={size}".encode())


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def capabilities() -> dict[str, int]:
    """This process's capability sets (``CapEff``, ``CapPrm``, ``CapBnd``, ...) as integers."""
    with open("/proc/self/status") as fh:
        rows = [line.split(":") for line in fh if line.startswith("Cap")]
    return {name: int(value, 16) for name, value in rows}


def drop_capabilities() -> None:
    """Drop every capability from every set, and forbid gaining any back (even through exec).

    Empties the bounding and ambient sets, then the effective, permitted and inheritable ones, and
    sets ``no_new_privs``. Raises :class:`OSError` unless all sets are empty afterwards.
    """
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    _check(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient caps")
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last = int(fh.read())
    for cap in range(last + 1):
        _check(_libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), f"prctl(PR_CAPBSET_DROP, {cap})")
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    left = {name: value for name, value in capabilities().items() if value}
    if left:
        raise OSError(f"capabilities left after dropping them all: {left}")

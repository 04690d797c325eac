"""The zygote: students' processes forked warm, each in namespaces of its own; the cold fallback.

Every test that runs code able to harm the machine first proves, through ``isolated``, that a warm
child really is sandboxed (PID 2 of its own namespace, no capabilities), and fails otherwise.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from processes import gone, processes_with

from dlcourse.grading import jail, protocol, warm
from dlcourse.grading.runner import ProgramCell, lab_imports
from dlcourse.grading.session import Limits, Session
from dlcourse.grading.status import StudentCrashed
from dlcourse.grading.warm import WarmChild

pytestmark = pytest.mark.slow

PROBE = """
import os

def probe():
    caps = {}
    for line in open("/proc/self/status"):
        if line.startswith("Cap"):
            name, value = line.split(":")
            caps[name] = int(value, 16)
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "caps": caps,
        "cwd": os.getcwd(),
        "scratch": sorted(os.listdir(".")),
        "shm": sorted(os.listdir("/dev/shm")),
    }
"""


def _probe(session: Session) -> dict:
    assert session.exec_cell(PROBE, "probe", 60)["status"] == "ok"
    return session.call("probe", [], {}, timeout=60).value


@pytest.fixture(scope="module")
def isolated():
    """A warm, sandboxed child's view of itself; fails unless it is isolated as it must be."""
    if jail.sandbox_problem() is not None:
        pytest.fail(f"no sandbox, so no student code may run here: {jail.sandbox_problem()}")
    with Session(Limits()) as session:
        session.start()
        assert isinstance(session._proc, WarmChild), warm.warm_problem()
        found = _probe(session)
    if (found["pid"], found["ppid"], found["processes"]) != (2, 1, [1, 2]) or any(
        found["caps"].values()
    ):
        pytest.fail(f"a warm child is NOT isolated: {found}")
    return found


def test_children_are_forked_warm_with_no_capabilities(isolated):
    assert warm.warm_problem() is None
    assert isolated["caps"] == dict.fromkeys(["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"], 0)
    assert (isolated["cwd"], isolated["scratch"], isolated["shm"]) == (jail.SCRATCH, [], [])


def test_the_labs_modules_are_imported_before_any_cell_runs(isolated):
    program = [
        ProgramCell("import math\nimport torch\nfrom dlcourse.grading import check", "lab", None),
        ProgramCell("import scipy\nfrom . import nothing", "yours", "q1"),
    ]
    assert lab_imports(program) == ("dlcourse.grading", "math", "torch")
    with Session(Limits(), preload=("torch",)) as session:
        session.start()
        session.exec_cell("import sys\ndef loaded():\n    return 'torch' in sys.modules", "c", 60)
        assert session.call("loaded", [], {}, timeout=60).value is True


def test_two_children_at_once_see_nothing_of_each_other(isolated):
    writer = (
        "import os, socket\nopen('mine.txt', 'w').write('x')\n"
        "open('/dev/shm/mine', 'w').write('x')\n"
        "server = socket.socket(socket.AF_UNIX)\nserver.bind('\\0dlcourse-warm-test')\n"
        "server.listen(1)\n"
    )
    reader = (
        "import os, socket\ndef look():\n    s = socket.socket(socket.AF_UNIX)\n    try:\n"
        "        s.connect('\\0dlcourse-warm-test')\n        reached = True\n"
        "    except OSError:\n        reached = False\n"
        "    return [sorted(os.listdir('.')), sorted(os.listdir('/dev/shm')), reached]\n"
    )
    with Session(Limits()) as first, Session(Limits()) as second:
        first.start()
        second.start()
        assert first.exec_cell(writer, "writer", 60)["status"] == "ok"
        assert second.exec_cell(reader, "reader", 60)["status"] == "ok"
        assert second.call("look", [], {}, timeout=60).value == [[], [], False]
        assert _probe(second)["processes"] == [1, 2]


def _wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_killing_a_child_ends_everything_it_started(isolated):
    marker = f"dlcourse-warm-{uuid.uuid4().hex}"
    leaver = (
        "import os, sys\nif os.fork() == 0:\n    os.setsid()\n"
        "    os.execv(sys.executable, [sys.executable, '-c', "
        f"'import time\\nwhile True: time.sleep(0.1)', '{marker}'])\n"
    )
    with Session(Limits()) as session:
        session.start()
        assert session.exec_cell(leaver, "leaver", 60)["status"] == "ok"
        assert _wait_until(lambda: processes_with(marker))
        session.close_child()
        assert gone(marker, 10.0), "a student process outlived it"


def test_a_child_killed_by_a_signal_is_reported_as_such(isolated):
    with Session(Limits()) as session:
        session.start()
        session.exec_cell("print('last words')", "p", 60)
        with pytest.raises(StudentCrashed) as crash:
            session.exec_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "k", 60)
    assert "killed by SIGKILL" in crash.value.message and "last words" in crash.value.message


def test_a_zygote_that_dies_is_started_again(isolated):
    with Session(Limits()) as session:
        session.start()
        zygote = warm.shared_zygote()
        assert zygote is not None
        zygote._proc.kill()  # bubblewrap, and with it the zygote and every child
        with pytest.raises(StudentCrashed, match="zygote stopped"):
            session.exec_cell("x = 1", "cell", 30)
        session.start()
        assert isinstance(session._proc, WarmChild)
        assert session._proc._zygote is not zygote
        assert session.exec_cell("x = 1", "cell", 30)["status"] == "ok"


def test_the_memory_limit_holds_in_a_warm_child(isolated):
    with Session(Limits(memory_mb=2048)) as session:
        session.start()
        reply = session.exec_cell("block = bytearray(3 * 2**30)", "hog", 60)
    assert reply["status"] == "error" and "MemoryError" in reply["message"]


def test_without_a_sandbox_children_are_forked_warm_too(tmp_path):
    with Session(Limits(sandbox=False)) as session:
        session.start()
        assert isinstance(session._proc, WarmChild)
        session.exec_cell("import os\ndef where():\n    return os.getcwd()", "c", 60)
        assert session.call("where", [], {}, timeout=60).value == str(session._scratch)


def test_where_no_zygote_can_start_children_start_cold(monkeypatch):
    def refuse(isolate=True):
        raise warm.ZygoteUnavailable("no user namespaces here")

    monkeypatch.setattr(warm, "_shared", {})
    monkeypatch.setattr(warm, "_problem", {})
    monkeypatch.setattr(warm, "Zygote", refuse)
    with Session(Limits()) as session:
        session.start()
        assert isinstance(session._proc, subprocess.Popen)
        assert session.exec_cell("x = 1", "cell", 60)["status"] == "ok"
    assert warm.warm_problem() == "no user namespaces here"


def test_children_are_forked_concurrently(isolated):
    """Sessions started from several threads at once each get their own child."""
    pids = []

    def one() -> None:
        with Session(Limits()) as session:
            session.start()
            session.exec_cell("import os\ndef me():\n    return os.getpid()", "c", 60)
            pids.append(session.call("me", [], {}, timeout=60).value)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pids == [2, 2, 2, 2]
    assert os.path.exists("/proc/self")  # the grader itself is untouched


def test_the_zygote_outlives_the_thread_that_first_needed_it(isolated, monkeypatch):
    """Bubblewrap ends the zygote with the thread that started it: that must not be a worker's."""
    monkeypatch.setattr(warm, "_shared", {})
    monkeypatch.setattr(warm, "_problem", {})
    worker = threading.Thread(target=warm.shared_zygote)
    worker.start()
    worker.join()
    zygote = warm._shared[True]
    try:
        time.sleep(0.5)  # a parent-death signal would have arrived by now
        assert zygote.alive
        with Session(Limits()) as session:
            session.start()
            assert session._proc._zygote is zygote
            assert session.exec_cell("x = 1", "cell", 30)["status"] == "ok"
    finally:
        zygote.close()


def test_warm_and_cold_children_grade_alike(isolated, tmp_path):
    """The same class graded with forked and with freshly started children: the same files."""
    import nbformat

    from dlcourse.grading.batch import grade_folder

    lab = "lab02_backprop"
    source = Path(__file__).resolve().parents[1] / "solutions" / f"{lab}.ipynb"
    blank = source.parents[1] / "labs" / f"{lab}.ipynb"
    for student, path in [("right", source), ("blank", blank)]:
        folder = tmp_path / "in" / student
        folder.mkdir(parents=True)
        nbformat.write(nbformat.read(path, as_version=4), folder / f"{lab}.ipynb")
    outputs = {}
    for warm_start in (True, False):
        out = tmp_path / f"out-{warm_start}"
        grade_folder(source, tmp_path / "in", out, jobs=2, limits=Limits(warm=warm_start))
        outputs[warm_start] = {
            str(p.relative_to(out)): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".")
        }
    assert outputs[True] == outputs[False]
    assert any(name.endswith(f"{lab}.json") for name in outputs[True])


def test_a_zygote_whose_children_do_not_work_is_not_used(isolated, monkeypatch):
    """The zygote's first child runs a probe cell; if it dies, every session starts cold."""
    monkeypatch.setattr(warm, "_shared", {})
    monkeypatch.setattr(warm, "_problem", {})
    code = "import os, sys\nprint('no namespaces here', flush=True)\nos._exit(3)"
    dying = protocol.exec_request(code, "probe")
    monkeypatch.setattr(warm, "exec_request", lambda code, label: dying)
    with Session(Limits()) as session:
        session.start()
        assert isinstance(session._proc, subprocess.Popen)
        assert session.exec_cell("x = 1", "cell", 60)["status"] == "ok"
    assert "did not work: no namespaces here" in warm.warm_problem()

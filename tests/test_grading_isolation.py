"""Hostile submissions against the autograder's sandbox, and a batch killed with -9 that resumes.

The first check proves that student code really runs in the sandbox (own PID namespace, no view of
the repository or the grader's files, no network, read-only outside its scratch folder), and FAILS
otherwise: these machines run the tests as root, and the hostile code below, unsandboxed, would
signal every process of the machine. Every fixture that runs hostile code depends on that check,
so none of it runs unless the check passed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from processes import gone, processes_with

from dlcourse.cli import main as cli
from dlcourse.grading import jail
from dlcourse.grading.batch import grade_folder
from dlcourse.grading.session import Limits, Session

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LAB = "lab01_initialization"
SOURCE = ROOT / "solutions" / f"{LAB}.ipynb"
QUESTIONS = ["q1", "q2", "q3", "q4"]
ALL_PASSED = {q: "passed" for q in QUESTIONS}

PROBE = """
import os, socket

def probe(marker, repo, port):
    found = {"pid": os.getpid(), "ppid": os.getppid()}
    found["marker_visible"] = os.path.exists(marker)
    found["solutions_visible"] = os.path.exists(os.path.join(repo, "solutions"))
    found["repo_entries"] = sorted(os.listdir(repo)) if os.path.isdir(repo) else []
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        found["network"] = True
    except OSError:
        found["network"] = False
    found["wrote"] = []
    for folder in ("/", "/etc", "/usr", "/dev", repo, os.path.dirname(marker)):
        try:
            with open(os.path.join(folder, "dlcourse-probe"), "w") as fh:
                fh.write("x")
            found["wrote"].append(folder)
        except OSError:
            pass
    return found
"""


@pytest.fixture(scope="module")
def sandbox_verified(tmp_path_factory):
    """Run a harmless probe in a student session; fail unless every isolation property holds."""
    problem = jail.sandbox_problem()
    if problem is not None:
        pytest.fail(f"the sandbox is not available, so hostile submissions must not run: {problem}")
    marker = tmp_path_factory.mktemp("marker") / "grader-only.txt"
    marker.write_text("only the grader may see this")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    with listener, Session(Limits()) as session:
        session.start()
        assert session.exec_cell(PROBE, "probe", 60)["status"] == "ok"
        args = [str(marker), str(ROOT), listener.getsockname()[1]]
        found = session.call("probe", args, {}, timeout=60).value
    failures = {
        "own PID namespace (pid 2, parent 1)": (found["pid"], found["ppid"]) == (2, 1),
        "grader's files hidden": not found["marker_visible"],
        "solutions/ hidden": not found["solutions_visible"],
        "repository hidden": set(found["repo_entries"]) <= {".venv", "dlcourse"},
        "no network": not found["network"],
        "read-only outside the scratch folder": found["wrote"] == [],
    }
    broken = [name for name, ok in failures.items() if not ok]
    if broken:
        pytest.fail(f"the sandbox is NOT active ({', '.join(broken)}): {found}")
    return True


def test_sandbox_is_active(sandbox_verified):
    assert sandbox_verified is True


# ---------------------------------------------------------------- submissions


def _solution():
    return nbformat.read(SOURCE, as_version=4)


def _with_q1_prelude(prelude: str):
    """The solution with ``prelude`` run at the top of q1's answer cell."""
    nb = _solution()
    cell = next(c for c in nb.cells if c.metadata.get("dlcourse", {}).get("grade_id") == "q1-fans")
    cell.source = prelude + "\n" + cell.source
    return nb


def _write(root: Path, student: str, nb) -> None:
    (root / student).mkdir(parents=True)
    nbformat.write(nb, root / student / f"{LAB}.ipynb")


def _normal_class(root: Path) -> None:
    _write(root, "alice", _solution())
    nb = _solution()
    cell = next(c for c in nb.cells if c.metadata.get("dlcourse", {}).get("grade_id") == "q1-fans")
    cell.source = cell.source.replace("return fan_in, fan_out", "return fan_out, fan_in")
    _write(root, "bob", nb)
    _write(root, "carol", nbformat.read(ROOT / "labs" / f"{LAB}.ipynb", as_version=4))


def _forker(marker: str) -> str:
    """A prelude that leaves a process looping in its own session (argv holds ``marker``)."""
    return (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    os.execv(sys.executable, [sys.executable, '-c',\n"
        f"             'import time\\nwhile True: time.sleep(0.1)', '{marker}'])\n"
    )


def _escape_check(attempts: str) -> str:
    """A prelude running ``attempts`` (which fill ``leaks``) that raises if any attempt worked."""
    return (
        "import os, glob, json, socket, signal\nleaks = []\n"
        + attempts
        + "\nif leaks:\n    raise RuntimeError(f'escaped the sandbox: {leaks}')\n"
    )


def _hostile(out: Path, marker: str) -> dict[str, str]:
    """Each hostile submission's q1 prelude (the rest of its notebook is the solution)."""
    victim = out / "alice" / f"{LAB}.json"
    return {
        "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
        "os.kill(os.getppid(), signal.SIGSTOP)\n",
        "kill_group": "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
        "kill_every_pid": "import os, signal\nfor pid in range(1, 100000):\n"
        "    if pid != os.getpid():\n        try:\n            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError:\n            pass\n",
        "reads_solutions": _escape_check(
            "here = os.getcwd()\nfor _ in range(12):\n"
            "    leaks += glob.glob(os.path.join(here, 'solutions', '*.ipynb'))\n"
            "    here = os.path.dirname(here)\n"
            "for cwd in glob.glob('/proc/*/cwd'):\n"
            "    leaks += glob.glob(os.path.join(cwd, 'solutions', '*.ipynb'))\n"
            f"leaks += glob.glob({str(ROOT / 'solutions')!r} + '/*.ipynb')\n"
        ),
        "writes_results": _escape_check(
            f"for path in [{str(victim)!r}, {str(out / f'{LAB}_gradebook.csv')!r}]:\n"
            "    try:\n        open(path, 'w').write('{}')\n        leaks.append(path)\n"
            "    except OSError:\n        pass\n"
            "for cwd in glob.glob('/proc/*/cwd'):\n"
            "    for path in glob.glob(os.path.join(cwd, '*', '*.json')):\n"
            "        try:\n            open(path, 'a').close()\n            leaks.append(path)\n"
            "        except OSError:\n            pass\n"
        ),
        "writes_outside": _escape_check(
            "for folder in ['/', '/etc', '/dev', '/usr/lib', '/root', "
            f"{str(ROOT)!r}, {str(out)!r}]:\n"
            "    try:\n        open(os.path.join(folder, 'owned'), 'w').write('x')\n"
            "        leaks.append(folder)\n    except OSError:\n        pass\n"
            "open('scratch-file', 'w').write('allowed')\n"
        ),
        "network": _escape_check(
            "for host in [('1.1.1.1', 80), ('127.0.0.1', 22), ('8.8.8.8', 53)]:\n"
            "    try:\n        socket.create_connection(host, timeout=2).close()\n"
            "        leaks.append(host)\n    except OSError:\n        pass\n"
        ),
        "fork_bomb": _escape_check(
            "import time\nchildren = 0\ntry:\n    for _ in range(1000):\n"
            "        if os.fork() == 0:\n            time.sleep(1)\n            os._exit(0)\n"
            "        children += 1\nexcept OSError:\n    pass\n"
            "for _ in range(children):\n    os.wait()\n"
            "if children >= 1000:\n    leaks.append('no limit on processes')\n"
        ),
        "reaches_the_zygote": _escape_check(
            "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "if pids != [1, os.getpid()]:\n    leaks.append(f'sees {pids}')\n"
            "for path in ['/proc/1/environ', '/proc/1/mem']:\n    try:\n"
            "        open(path, 'rb').read(1)\n        leaks.append(path)\n"
            "    except OSError:\n        pass\n"
            "import ctypes\nlibc = ctypes.CDLL(None)\n"
            "if libc.mount(b'none', b'/usr', b'tmpfs', 0, None) == 0:\n"
            "    leaks.append('mounted over /usr')\n"
            "if libc.umount2(b'/proc', 2) == 0:\n    leaks.append('unmounted /proc')\n"
            "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')]\n"
            "if caps and int(caps[0].split()[1], 16):\n    leaks.append(caps[0])\n"
        ),
        "zz_forks_forever": _forker(marker),
    }


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _statuses(out: Path, student: str) -> dict[str, str]:
    result = json.loads((out / student / f"{LAB}.json").read_text())
    return {q: r["status"] for q, r in result["questions"].items()}


@pytest.fixture(scope="module")
def clean(sandbox_verified, tmp_path_factory):
    root = tmp_path_factory.mktemp("clean_submissions")
    _normal_class(root)
    out = tmp_path_factory.mktemp("clean_out")
    grade_folder(SOURCE, root, out, jobs=2, limits=Limits(question_seconds=20))
    return root, out


@pytest.fixture(scope="module")
def hostile(sandbox_verified, clean, tmp_path_factory):
    assert sandbox_verified is True and jail.sandbox_problem() is None  # never run this unsandboxed
    root = tmp_path_factory.mktemp("hostile_submissions")
    _normal_class(root)
    out = tmp_path_factory.mktemp("hostile_out")
    marker = f"dlcourse-hostile-{uuid.uuid4().hex}"
    for student, prelude in _hostile(out, marker).items():
        _write(root, student, _with_q1_prelude(prelude))
    argv = ["grade", str(SOURCE), "--submissions", str(root), "--out", str(out), "--jobs", "2"]
    code = cli(argv + ["--time-limit", "20"])
    return code, out, marker


def test_the_batch_completes(hostile):
    code, out, _ = hostile
    assert code == 0
    assert len(list(out.glob(f"*/{LAB}.json"))) == 3 + len(_hostile(out, "marker"))
    assert (out / f"{LAB}_gradebook.csv").read_text().count("\n") == 1 + 3 + len(_hostile(out, "m"))


def test_other_students_results_equal_a_clean_run(clean, hostile):
    _, clean_out = clean
    _, out, _ = hostile
    for student in ("alice", "bob", "carol"):
        for name in (f"{LAB}.json", f"{LAB}_feedback.md"):
            assert (out / student / name).read_bytes() == (clean_out / student / name).read_bytes()
    rows = (out / f"{LAB}_gradebook.csv").read_text().splitlines()
    clean_rows = (clean_out / f"{LAB}_gradebook.csv").read_text().splitlines()
    assert [r for r in rows if r.split(",")[0] in ("alice", "bob", "carol")] == clean_rows[1:]


def test_killing_the_parent_or_every_pid_changes_nothing(hostile):
    _, out, _ = hostile
    assert _statuses(out, "kill_parent") == ALL_PASSED
    assert _statuses(out, "kill_every_pid") == ALL_PASSED


def test_killing_its_own_group_crashes_only_that_question(hostile):
    _, out, _ = hostile
    assert _statuses(out, "kill_group") == {**ALL_PASSED, "q1": "crashed"}
    message = json.loads((out / "kill_group" / f"{LAB}.json").read_text())["questions"]["q1"]
    assert "SIGKILL" in message["message"]


ESCAPES = [
    "reads_solutions",
    "writes_results",
    "writes_outside",
    "network",
    "fork_bomb",
    "reaches_the_zygote",
]


@pytest.mark.parametrize("student", ESCAPES)
def test_escapes_fail_and_the_answer_still_counts(hostile, student):
    _, out, _ = hostile
    result = json.loads((out / student / f"{LAB}.json").read_text())
    assert "escaped the sandbox" not in result["questions"]["q1"]["message"]
    assert _statuses(out, student) == ALL_PASSED


def test_no_student_process_outlives_the_batch(hostile):
    _, out, marker = hostile
    assert _statuses(out, "zz_forks_forever") == ALL_PASSED
    assert gone(marker), f"left running: {processes_with(marker)}"
    assert not list(out.rglob("owned")) and not list(ROOT.glob("owned"))


# ---------------------------------------------------------------- stopped graders


def _grader(root: Path, out: Path, *extra: str) -> subprocess.Popen:
    argv = [sys.executable, "-m", "dlcourse", "grade", str(SOURCE), "--submissions", str(root)]
    argv += ["--out", str(out), "--jobs", "1", "--time-limit", "20", *extra]
    return subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_kill_9_mid_batch_then_the_same_command_resumes(sandbox_verified, clean, tmp_path):
    assert sandbox_verified is True
    root, clean_out = clean
    marker = f"dlcourse-orphan-{uuid.uuid4().hex}"
    submissions = tmp_path / "submissions"
    _write(submissions, "alice", _solution())
    _write(submissions, "bob_forks", _with_q1_prelude(_forker(marker)))
    out = tmp_path / "out"
    grader = _grader(submissions, out)
    alice = out / "alice" / f"{LAB}.json"
    _wait_for(lambda: alice.exists() and processes_with(marker), 120, "bob_forks's grading")
    grader.kill()
    grader.wait()
    assert gone(marker), "a student process outlived the grader"
    assert not (out / f"{LAB}_gradebook.csv").exists()
    inode = alice.stat().st_ino
    rerun = _grader(submissions, out)
    assert rerun.wait(timeout=240) == 0, rerun.stderr.read().decode() if rerun.stderr else ""
    assert alice.stat().st_ino == inode, "a finished result was graded again"
    reference = tmp_path / "uninterrupted"
    grade_folder(SOURCE, submissions, reference, jobs=2, limits=Limits(question_seconds=20))
    assert _files(out) == _files(reference)
    assert alice.read_bytes() == (clean_out / "alice" / f"{LAB}.json").read_bytes()
    assert _statuses(out, "bob_forks") == ALL_PASSED
    assert gone(marker)


def test_regrade_grades_one_student_again(clean, tmp_path):
    root, clean_out = clean
    out = tmp_path / "out"
    out.mkdir()
    for student in ("alice", "bob", "carol"):
        (out / student).mkdir()
        for path in (clean_out / student).iterdir():
            (out / student / path.name).write_bytes(path.read_bytes())
    for path in clean_out.glob(".*"):
        (out / path.name).write_bytes(path.read_bytes())
    (out / f"{LAB}_gradebook.csv").write_bytes((clean_out / f"{LAB}_gradebook.csv").read_bytes())
    before = {s: (out / s / f"{LAB}.json").stat().st_ino for s in ("alice", "bob", "carol")}
    argv = ["grade", str(SOURCE), "--submissions", str(root), "--out", str(out), "--jobs", "1"]
    assert cli(argv + ["--time-limit", "20", "--regrade", "bob"]) == 0
    after = {s: (out / s / f"{LAB}.json").stat().st_ino for s in ("alice", "bob", "carol")}
    assert [s for s in before if before[s] != after[s]] == ["bob"]
    assert _files(out) == _files(clean_out)
    assert cli(argv + ["--regrade", "nobody"]) == 2


def test_sigterm_stops_at_once_with_one_line(sandbox_verified, tmp_path):
    assert sandbox_verified is True
    marker = f"dlcourse-hangs-{uuid.uuid4().hex}"
    hangs = _with_q1_prelude(_forker(marker) + "while True: pass")
    _write(tmp_path / "submissions", "hangs", hangs)
    grader = _grader(tmp_path / "submissions", tmp_path / "out")
    _wait_for(lambda: processes_with(marker), 60, "the student's process")
    start = time.monotonic()
    grader.send_signal(signal.SIGTERM)
    _, err = grader.communicate(timeout=10)
    assert time.monotonic() - start < 5
    assert grader.returncode == 128 + signal.SIGTERM
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "stopped by SIGTERM" in lines[0], lines
    assert gone(marker)


@pytest.fixture
def no_bwrap(monkeypatch):
    """A machine without bubblewrap, as far as the grader can tell."""
    monkeypatch.setattr(jail.shutil, "which", lambda name: None)
    jail.sandbox_problem.cache_clear()
    yield
    jail.sandbox_problem.cache_clear()


def test_without_a_sandbox_grading_is_refused_unless_no_sandbox(no_bwrap, tmp_path, capsys):
    _write(tmp_path / "submissions", "alice", _solution())  # trusted code: the solution
    argv = ["grade", str(SOURCE), "--submissions", str(tmp_path / "submissions")]
    argv += ["--out", str(tmp_path / "out")]
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert "refusing to run student code" in err
    assert "apt-get install -y bubblewrap" in err and "--no-sandbox" in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(jail.SandboxUnavailable, match="bubblewrap"):
        Session(Limits()).start()
    assert cli(argv + ["--no-sandbox"]) == 0
    assert "WARNING: --no-sandbox" in capsys.readouterr().out
    assert _statuses(tmp_path / "out", "alice") == ALL_PASSED


# ---------------------------------------------------------------- results on disk


def test_a_result_changed_on_disk_is_reported_and_rewritten(tmp_path):
    from dlcourse.grading.batch import ResultsChanged, _check_written

    kept, tampered = tmp_path / "kept.json", tmp_path / "tampered.json"
    kept.write_text("as graded")
    tampered.write_text("changed by someone else")
    with pytest.raises(ResultsChanged, match="tampered.json: differs") as info:
        _check_written({kept: "as graded", tampered: "as graded"})
    assert "kept.json" not in str(info.value)
    assert tampered.read_text() == "as graded"


def test_only_a_complete_result_of_this_lab_counts_as_done(clean, tmp_path):
    from dlcourse.authoring.source import load_source
    from dlcourse.grading.resume import load_result

    source = load_source(SOURCE)
    good = clean[1] / "alice" / f"{LAB}.json"
    assert load_result(good, source, "alice").to_dict() == json.loads(good.read_text())
    assert load_result(good, source, "bob") is None
    text = good.read_text()
    data = json.loads(text)
    del data["questions"]["q4"]
    fewer = json.dumps(data)
    data = json.loads(text)
    data["questions"]["q1"]["max_points"] += 1
    other_points = json.dumps(data)
    data = json.loads(text)
    data["total"] += 1
    edited_total = json.dumps(data)
    for broken in (text[: len(text) // 2], "[]", fewer, other_points, edited_total):
        path = tmp_path / "broken.json"
        path.write_text(broken)
        assert load_result(path, source, "alice") is None, broken[:80]
    assert load_result(tmp_path / "absent.json", source, "alice") is None

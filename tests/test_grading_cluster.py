"""Grading on a Dask cluster gives exactly what the local pool gives.

A ``LocalCluster`` of two worker processes stands in for an instructor's cluster: the submissions
(the solution, the blank lab, a wrong answer, a hostile answer that kills its parent, a folder with
no notebook) are graded once with the local pool and once through ``--scheduler``; the results
and the gradebook must be identical, and each worker runs student code in the same sandbox.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from dlcourse.cli import main as cli
from dlcourse.grading.jail import sandbox_problem

pytestmark = pytest.mark.slow

LAB = "lab01_initialization"
SOURCE = Path("solutions") / f"{LAB}.ipynb"


def _submissions(root: Path) -> Path:
    folder = root / "submitted"
    for student in ("ada", "blank", "wrong", "hostile", "nobody"):
        (folder / student).mkdir(parents=True)
    shutil.copy(SOURCE, folder / "ada" / f"{LAB}.ipynb")
    shutil.copy(Path("labs") / f"{LAB}.ipynb", folder / "blank" / f"{LAB}.ipynb")
    for student, old, new in (
        ("wrong", "return fan_in, fan_out", "return fan_out, fan_in"),
        (
            "hostile",
            "    receptive_field = 1\n",
            "    import os, signal\n    os.kill(os.getppid(), signal.SIGKILL)\n"
            "    receptive_field = 1\n",
        ),
    ):
        nb = nbformat.read(SOURCE, as_version=4)
        cell = next(c for c in nb.cells if old in c.source)
        cell.source = cell.source.replace(old, new, 1)
        nbformat.write(nb, folder / student / f"{LAB}.ipynb")
    return folder


def _results(out: Path) -> dict:
    found = {p.parent.name: json.loads(p.read_text()) for p in out.glob(f"*/{LAB}.json")}
    found["gradebook"] = (out / f"{LAB}_gradebook.csv").read_text()
    return found


@pytest.fixture(scope="module")
def cluster():
    assert sandbox_problem() is None, "these tests grade hostile code: the sandbox must work"
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def test_the_cluster_grades_exactly_as_the_local_pool(cluster, tmp_path):
    submitted = _submissions(tmp_path)
    local, remote = tmp_path / "local", tmp_path / "remote"
    base = ["grade", LAB, "--submissions", str(submitted)]
    assert cli([*base, "--out", str(local), "--jobs", "2"]) == 0
    assert cli([*base, "--out", str(remote), "--scheduler", cluster.scheduler_address]) == 0
    here, there = _results(local), _results(remote)
    assert here == there
    assert here["ada"]["total"] == 10 and here["blank"]["total"] == 0
    assert here["wrong"]["questions"]["q1"]["status"] == "failed"
    # The kill reaches only the sandbox's own init, which ignores it: the answer is graded as the
    # correct code it otherwise is, and neither the grader nor a worker died.
    assert here["hostile"]["total"] == 10


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    submitted = _submissions(tmp_path)
    argv = ["grade", LAB, "--submissions", str(submitted), "--out", str(tmp_path / "out")]
    assert cli([*argv, "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in err and "dask scheduler" in err
    assert not (tmp_path / "out").exists()

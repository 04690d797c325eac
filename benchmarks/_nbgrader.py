"""nbgrader's side of ``benchmarks/grading.py``: its own venv, the lab in its format, its autograde.

The venv (``nbgrader==0.9.6``) is created once under ``benchmarks/.nbgrader-venv`` (git ignores
it). Its notebooks run in a kernel of *this* environment (the same torch and dlcourse as the
autograder's children), through a ``python3`` kernel spec on ``JUPYTER_PATH``.

The lab is converted cell by cell: the solution cells become nbgrader's autograded answers (the
``### BEGIN SOLUTION`` regions are nbgrader's syntax already), each question's tests cell becomes
an autograder tests cell worth the question's points, which registers the hidden tests (nbgrader's
``### BEGIN HIDDEN TESTS`` syntax too) and asserts that the public and hidden tests pass, as
``check`` runs them; the other code cells are read-only. Demo cells are left out: nbgrader would run
them, the autograder does not, and the comparison is about the graders.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from dlcourse.authoring.source import load_source

VERSION = "0.9.6"
VENV = Path(__file__).resolve().parent / ".nbgrader-venv"
ASSIGNMENT = "bench"


def ensure_venv() -> Path:
    """Nbgrader's venv, created on first use; its ``nbgrader`` executable."""
    exe = VENV / "bin" / "nbgrader"
    if not exe.exists():
        print(f"creating {VENV} with nbgrader=={VERSION} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
        install = [*pip, "--disable-pip-version-check", f"nbgrader=={VERSION}"]
        done = subprocess.run(install, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"installing nbgrader failed:\n{done.stdout}\n{done.stderr}")
    return exe


def _meta(grade_id: str, *, solution=False, grade=False, points=0.0, locked=False) -> dict:
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": locked}
    meta.update(schema_version=3, task=False)
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook(source_path: Path) -> nbformat.NotebookNode:
    """The lab's instructor notebook in nbgrader's format."""
    source = load_source(source_path)
    points = {q.id: q.points for q in source.questions}
    nb = nbformat.read(source_path, as_version=4)
    cells = []
    for index, cell in enumerate(nb.cells):
        info = cell.metadata.get("dlcourse", {})
        role = info.get("role")
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        if role == "demo":
            continue
        cell.outputs, cell.execution_count = [], None
        if role == "solution":
            cell.metadata.update(_meta(info["grade_id"], solution=True))
        elif role == "tests":
            question = info["question"]
            code = cell.source.replace(f'check("{question}")', "").rstrip()
            code += (
                "\nfrom dlcourse.grading.check import run_check\n"
                f'_result, _ = run_check("{question}")\n'
                "assert _result.status == 'passed', _result.message\n"
            )
            cell.source = code
            cell.metadata.update(_meta(f"tests-{question}", grade=True, points=points[question]))
            cell.metadata["nbgrader"]["locked"] = True
        else:
            cell.metadata.update(_meta(f"lab-cell-{index}", locked=True))
        cells.append(cell)
    nb.cells = cells
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kernelspec"] = kernel
    return nb


def _kernel_path(root: Path) -> Path:
    """A ``JUPYTER_PATH`` whose ``python3`` kernel is this environment's Python."""
    spec = root / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return root / "jupyter"


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"  # alembic
    env.update(JUPYTER_PATH=str(_kernel_path(root)), OMP_NUM_THREADS="1")
    env.update(OMP_WAIT_POLICY="PASSIVE", MPLBACKEND="Agg", PYTHONHASHSEED="0")
    return env


def _run(exe: Path, root: Path, *args: str) -> None:
    proc = subprocess.run(
        [str(exe), *args], cwd=root, env=_env(root), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def make_course(root: Path, source_path: Path, answers: dict[str, dict[str, str]]) -> None:
    """A course folder: the converted lab, released, and one submission per student.

    ``answers`` maps each student to their answer cells' code by ``grade_id`` (missing: blank).
    """
    exe = ensure_venv()
    lab = source_path.stem
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(source_notebook(source_path), root / "source" / ASSIGNMENT / f"{lab}.ipynb")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'dlcourse-bench'\n"
        "c.ExecutePreprocessor.timeout = 600\n"
        "c.Execute.timeout = 600\n"
    )
    _run(exe, root, "generate_assignment", ASSIGNMENT, "--force")
    release = nbformat.read(root / "release" / ASSIGNMENT / f"{lab}.ipynb", as_version=4)
    for student, cells in answers.items():
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in cells:
                cell.source = cells[grade_id]
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{lab}.ipynb")


def autograde(root: Path) -> float:
    """Run ``nbgrader autograde`` over every submission; the seconds it took."""
    exe = ensure_venv()
    start = time.perf_counter()
    _run(exe, root, "autograde", ASSIGNMENT, "--create", "--force")
    return time.perf_counter() - start


def scores(root: Path) -> dict[str, float]:
    """Each student's total as nbgrader's gradebook has it."""
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute(
            "SELECT submitted_assignment.student_id, "
            "SUM(COALESCE(grade.manual_score, grade.auto_score, 0)) "
            "FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = "
            "submitted_assignment.id GROUP BY submitted_assignment.student_id"
        ).fetchall()
    return {student: float(total) for student, total in rows}

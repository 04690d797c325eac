"""A student without the repository: the wheel, installed alone, runs a lab end to end.

``python -m build`` makes the wheel and the sdist; they must carry the package (with every lab's
public checks) and nothing an instructor keeps back: no ``solutions/``, no hidden tests. The wheel
is installed into a fresh virtual environment outside the repository, with the pinned CPU torch and
the ``student`` extra (JupyterLab and a kernel), as a student's laptop would have it. A lab from
``labs/`` is copied there twice: blank, where every ``check`` says the question is not implemented,
and with the solution's answers pasted into its answer cells, where every ``check`` passes. Both run
in that environment's own kernel, from a folder with nothing else in it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml

import dlcourse
from dlcourse.authoring.build import REPOSITORY
from dlcourse.authoring.source import BEGIN_HIDDEN, END_HIDDEN, regions

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
LAB = "lab01_initialization"


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT, cwd=out)
    return out


@pytest.fixture(scope="module")
def student_env(dist, tmp_path_factory) -> Path:
    """A fresh venv outside the repository: the wheel, its dependencies, the student extra."""
    venv = tmp_path_factory.mktemp("student") / "venv"
    _run(sys.executable, "-m", "venv", venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "-c", ROOT / "constraints.txt"]
    _run(*pip, "torch==2.13.0")
    wheel = next(dist.glob("*.whl"))
    _run(*pip, f"dlcourse[student] @ {wheel.as_uri()}")
    return venv


def test_version_has_release_notes():
    notes = (ROOT / "CHANGELOG.md").read_text()
    assert f"## {dlcourse.__version__}" in notes, "CHANGELOG.md has no entry for this version"


def test_labs_point_at_the_books_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == f"https://github.com/{REPOSITORY}"


def test_the_wheel_and_sdist_carry_the_package_and_no_solutions(dist):
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = wheel.namelist()
    assert f"dlcourse/labs/{LAB}.py" in names
    assert "dlcourse/grading/check.py" in names
    sdist = tarfile.open(next(dist.glob("*.tar.gz")))
    for archive, files in (("wheel", names), ("sdist", sdist.getnames())):
        assert not [n for n in files if "solutions/" in n or n.endswith(".ipynb")], archive
    code = "\n".join(wheel.read(n).decode() for n in names if n.endswith(".py"))
    hidden = _hidden_test_names()
    assert len(hidden) >= 8
    assert [name for name in hidden if f"def {name}(" in code] == []


def _hidden_test_names() -> list[str]:
    """The functions defined in every hidden-test region of the lab sources."""
    names = []
    for path in sorted((ROOT / "solutions").glob("lab*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for text, inside in regions(cell.source, BEGIN_HIDDEN, END_HIDDEN):
                names += re.findall(r"^def (\w+)\(", text, flags=re.M) if inside else []
    return names


def _answers() -> dict[str, str]:
    source = nbformat.read(ROOT / "solutions" / f"{LAB}.ipynb", as_version=4)
    return {
        c.metadata["dlcourse"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("dlcourse", {}).get("role") == "solution"
    }


def _execute(venv: Path, nb: nbformat.NotebookNode, folder: Path) -> list[str]:
    """Run ``nb`` in ``venv``'s kernel inside ``folder``; the text printed by each check cell."""
    folder.mkdir()
    path = folder / f"{LAB}.ipynb"
    nbformat.write(nb, path)
    _run(venv / "bin" / "jupyter", "execute", "--inplace", "--allow-errors", path.name, cwd=folder)
    done = nbformat.read(path, as_version=4)
    return [
        "".join(o.get("text", "") for o in c.outputs)
        for c in done.cells
        if c.cell_type == "code" and c.source.lstrip().startswith("check(")
    ]


def test_a_student_runs_a_lab_from_the_installed_wheel(student_env, tmp_path):
    blank = nbformat.read(ROOT / "labs" / f"{LAB}.ipynb", as_version=4)
    answers = _answers()
    for c in blank.cells:
        grade_id = c.metadata.get("dlcourse", {}).get("grade_id")
        if grade_id in answers:
            c.source = answers[grade_id]
    passed = _execute(student_env, blank, tmp_path / "answered")
    assert len(passed) == 4
    assert all("passed" in text and "failed" not in text for text in passed), passed


def test_the_blank_lab_says_not_implemented(student_env, tmp_path):
    blank = nbformat.read(ROOT / "labs" / f"{LAB}.ipynb", as_version=4)
    outputs = _execute(student_env, blank, tmp_path / "blank")
    assert len(outputs) == 4
    assert all("not implemented" in text for text in outputs), outputs

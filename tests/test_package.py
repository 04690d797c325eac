"""Tests of the package as a whole: one version, a light import, a README line for every module."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

from setuptools.config.pyprojecttoml import load_file  # tomllib is 3.11+, this reads 3.10 too

import dlcourse

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_has_one_home():
    project = load_file(ROOT / "pyproject.toml")
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dlcourse.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", dlcourse.__version__)
    assert importlib.metadata.version("dlcourse") == dlcourse.__version__


def test_import_dlcourse_loads_no_torch_and_sets_nothing():
    code = ("import os, sys; before = dict(os.environ); import dlcourse; "
            "print('torch' in sys.modules, dict(os.environ) == before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def _modules() -> list[str]:
    """Every top-level module and subpackage of dlcourse, private ones included."""
    package = ROOT / "dlcourse"
    names = [p.stem for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    names += [p.name for p in package.iterdir() if (p / "__init__.py").exists()]
    return sorted(names)


def test_the_readme_lists_every_module():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## The library, module by module", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `dlcourse\.(\w+)` \|", table, flags=re.M))
    assert len(_modules()) >= 14  # the walk found the package
    assert sorted(set(_modules()) - listed) == [], "add a line to the README's module table"
    assert sorted(listed - set(_modules())) == [], "the README lists a module that is gone"


def test_every_public_name_exists():
    """Each name a module lists in ``__all__`` is defined there (or is one of its submodules)."""
    import importlib.util
    import pkgutil

    missing = []
    for info in pkgutil.walk_packages(dlcourse.__path__, "dlcourse."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            full = f"{info.name}.{name}"
            if not hasattr(module, name) and importlib.util.find_spec(full) is None:
                missing.append(full)
    assert missing == []

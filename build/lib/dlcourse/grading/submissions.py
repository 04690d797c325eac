"""Finding the submitted notebooks in the folders that course platforms download.

Accepted layouts, for a lab ``LAB``:

* ``DIR/STUDENT/LAB.ipynb``, one folder per student (any name, spaces included), the notebook
  possibly one level deeper (nbgrader's ``submitted/STUDENT/LAB/LAB.ipynb``);
* ``DIR/submitted/STUDENT/...``: a course folder in nbgrader's layout;
* a flat folder ``DIR/jane.ipynb``: the student is the file's stem;
* a ``.zip`` of any of these (a single top folder inside it is looked through).

Hidden and system folders (``.ipynb_checkpoints``, ``__MACOSX``, dot-folders) are skipped with a
warning. In a student's folder, ``LAB.ipynb`` is taken; else one notebook under another name
(``Lab01 (1).ipynb``) is taken with a warning; of several, the one that looks like the lab (its
metadata names the lab, or its file name does), else the submission is ``invalid``.

See the book: the labs (README, "For instructors").
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from dlcourse.grading.status import SubmissionInvalid

__all__ = [
    "LAYOUTS",
    "Discovery",
    "Submission",
    "check_notebook",
    "is_hidden",
    "open_submissions",
]

LAYOUTS = (
    "DIR/STUDENT/{lab}.ipynb (one folder per student), DIR/submitted/STUDENT/{lab}.ipynb "
    "(nbgrader), a flat DIR/STUDENT.ipynb, or a .zip of one of these"
)
_SYSTEM = {"__MACOSX", "__pycache__", "$RECYCLE.BIN", "System Volume Information"}


@dataclass
class Submission:
    """One student's notebook: ``path`` (may not exist), notes on how it was found, or a problem."""

    student: str
    path: Path
    notes: list[str] = field(default_factory=list)
    invalid: str | None = None  # why no notebook could be chosen


@dataclass
class Discovery:
    """The submissions found, sorted by student, and the warnings for the instructor."""

    submissions: list[Submission]
    warnings: list[str]


def is_hidden(path: Path) -> bool:
    """Whether ``path`` names a hidden or system entry (``.x``, ``__MACOSX``, ...)."""
    return path.name.startswith((".", "~$")) or path.name in _SYSTEM


def _notebooks(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` and its visible subfolders, shallowest first."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        parts = path.relative_to(folder).parts
        if not any(is_hidden(Path(p)) for p in parts) and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), str(p)))


def _notebook_lab(path: Path) -> str | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        return str(meta.get("dlcourse", {}).get("lab"))
    except (OSError, ValueError, AttributeError):
        return None


def _looks_like(path: Path, lab: str) -> bool:
    """The notebook's metadata names ``lab``, or its name holds the lab's number or topic."""
    if _notebook_lab(path) == lab:
        return True
    stem = re.sub(r"[^a-z0-9]", "", path.stem.lower())
    number, _, topic = lab.partition("_")
    return number in stem or re.sub(r"[^a-z0-9]", "", topic) in stem


def choose(student: str, folder: Path, lab: str) -> Submission:
    """The notebook of ``lab`` in one student's ``folder`` (see the module's rules)."""
    expected = f"{lab}.ipynb"
    candidates = _notebooks(folder)
    exact = [p for p in candidates if p.name == expected]
    if exact:
        return Submission(student, exact[0])
    if not candidates:
        return Submission(student, folder / expected)
    if len(candidates) > 1:
        likely = [p for p in candidates if _looks_like(p, lab)]
        if len(likely) != 1:
            names = ", ".join(repr(str(p.relative_to(folder))) for p in candidates)
            return Submission(
                student,
                folder / expected,
                invalid=f"several notebooks were submitted ({names}) and none is clearly "
                f"{expected}: submit one notebook named {expected}",
            )
        candidates = likely
    name = str(candidates[0].relative_to(folder))
    return Submission(
        student, candidates[0], [f"graded {name!r} as {expected} (the notebook was renamed)"]
    )


def _root(folder: Path, unwrap: bool) -> Path:
    """Look through ``submitted/``, and through a single wrapping folder of a zip or of folders."""
    if (folder / "submitted").is_dir():
        return folder / "submitted"
    visible = [p for p in folder.iterdir() if not is_hidden(p)]
    if len(visible) == 1 and visible[0].is_dir():
        inner = visible[0]
        has_folders = any(p.is_dir() and not is_hidden(p) for p in inner.iterdir())
        if unwrap or (has_folders and not _notebooks_at(inner)):
            return _root(inner, False)
    return folder


def _notebooks_at(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not is_hidden(p))


def discover(folder: Path, lab: str, unwrap: bool = False) -> Discovery:
    """The submissions of ``lab`` in an unpacked ``folder`` (see the module's layouts)."""
    root = _root(folder, unwrap)
    warnings: list[str] = []
    found: dict[str, Submission] = {}
    for entry in sorted(root.iterdir()):
        if is_hidden(entry):
            warnings.append(f"skipped {entry.name!r}: a hidden or system entry, not a student")
        elif entry.is_dir():
            found[entry.name] = choose(entry.name, entry, lab)
    for path in _notebooks_at(root):
        if path.stem in found:
            warnings.append(f"skipped {path.name}: {path.stem!r} also has a folder, graded instead")
        else:
            found[path.stem] = Submission(path.stem, path)
            if path.name == f"{lab}.ipynb":
                warnings.append(
                    f"graded {path.name} as the notebook of a student called {path.stem!r} (a "
                    "flat folder); to grade one student's folder, pass the folder above it"
                )
    if not found:
        raise FileNotFoundError(
            f"{root} holds no submissions; accepted layouts: {LAYOUTS.format(lab=lab)}"
        )
    return Discovery([found[s] for s in sorted(found)], warnings)


def check_notebook(path: Path) -> None:
    """Raise :class:`SubmissionInvalid` when the file at ``path`` is there but not a notebook.

    Args:
        path: the submitted file; a file that does not exist passes (it is ``missing``).

    Raises:
        SubmissionInvalid: not valid JSON, not a JSON object with ``cells``, or not nbformat 4.
    """
    if not Path(path).is_file():
        return
    fix = "re-download it from Jupyter (File > Download) and submit that file"
    try:
        data = json.loads(Path(path).read_bytes())
    except (ValueError, OSError) as exc:
        raise SubmissionInvalid(
            f"the submitted notebook could not be read (not valid JSON, {type(exc).__name__}): "
            + fix
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        what = "has no cells" if isinstance(data, dict) else f"is a JSON {type(data).__name__}"
        raise SubmissionInvalid(f"the submitted file is not a Jupyter notebook (it {what}): {fix}")
    if data.get("nbformat") != 4:
        raise SubmissionInvalid(
            f"the submitted notebook has nbformat {data.get('nbformat')!r}, not 4: {fix}"
        )
    try:
        nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # nbformat's own checks, whatever they raise
        raise SubmissionInvalid(
            f"the submitted notebook could not be read ({type(exc).__name__}): {fix}"
        ) from None


def _extract(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = (into / info.filename).resolve()
            if not target.is_relative_to(into.resolve()):
                raise ValueError(
                    f"{archive}: entry {info.filename!r} points outside the archive; "
                    "unpack it yourself and pass the folder"
                )
        zf.extractall(into)


@contextlib.contextmanager
def open_submissions(path: str | Path, lab: str) -> Iterator[Discovery]:
    """The submissions of ``lab`` in the folder or ``.zip`` at ``path``; valid inside the block.

    Args:
        path: a folder in one of the accepted layouts, or a ``.zip`` of one.
        lab: the lab's name, e.g. ``"lab01_initialization"``.

    Returns:
        A context manager yielding a :class:`Discovery` (a zip is unpacked into a temporary
        folder that lives as long as the block).

    Raises:
        FileNotFoundError: nothing at ``path``, or no submissions in it (the message lists the
            accepted layouts).
        ValueError: a zip that is damaged or whose entries point outside it.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="dlcourse-submissions-") as tmp:
            try:
                _extract(path, Path(tmp))
            except zipfile.BadZipFile:
                raise ValueError(f"{path} is not a valid zip file; download it again") from None
            yield discover(Path(tmp), lab, unwrap=True)
        return
    if not path.is_dir():
        raise FileNotFoundError(
            f"no submissions folder at {path} (current directory {Path.cwd()}); accepted "
            f"layouts: {LAYOUTS.format(lab=lab)}"
        )
    yield discover(path, lab)

"""dlcourse: the helper library of the course *Training deep neural networks*.

Submodules, one concept each: :mod:`dlcourse.init` (weight initializers), :mod:`dlcourse.nn`
(model builders), :mod:`dlcourse.probes` (activation and gradient statistics of any model),
:mod:`dlcourse.viz` and :mod:`dlcourse.widgets` (figures and explorers), :mod:`dlcourse.data`,
:mod:`dlcourse.train`, :mod:`dlcourse.autograd` (a scalar autograd engine), :mod:`dlcourse.optim`
(optimizers and schedules), :mod:`dlcourse.regularize`, :mod:`dlcourse.augment`,
:mod:`dlcourse.search` (hyperparameter search),
:mod:`dlcourse.experiments` (the chapters' demos) and
:mod:`dlcourse.grading` (lab checks and the autograder). They load on first use, so
``import dlcourse`` imports neither torch nor anything else heavy, changes nothing in the process,
and ``dlcourse.init.kaiming_normal_`` just works. :func:`device`, :func:`generator`, :func:`seed`
and :func:`passive_omp` come from :mod:`dlcourse.runtime`.
"""

import importlib

__all__ = ["__version__", "device", "generator", "passive_omp", "seed"]
__version__ = "0.1.0"  # the only place: pyproject.toml reads it (dynamic = ["version"])

_SUBMODULES = (
    "augment", "autograd", "data", "experiments", "grading", "init", "labs", "nn", "optim",
    "probes", "regularize", "runtime", "search", "train", "viz", "widgets",
)
_RUNTIME = ("device", "generator", "passive_omp", "seed")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"dlcourse.{name}")
    if name in _RUNTIME:
        return getattr(importlib.import_module("dlcourse.runtime"), name)
    raise AttributeError(f"module 'dlcourse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, *_RUNTIME])

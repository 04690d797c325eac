"""dlcourse: the helper library of the course *Training deep neural networks*.

Submodules, one concept each: :mod:`dlcourse.init` (weight initializers), :mod:`dlcourse.nn`
(model builders), :mod:`dlcourse.probes` (activation and gradient statistics of any model),
:mod:`dlcourse.viz` and :mod:`dlcourse.widgets` (figures and explorers), :mod:`dlcourse.data`,
:mod:`dlcourse.train`, and :mod:`dlcourse.grading` (lab checks and the autograder). They load on
first use, so ``import dlcourse`` stays fast and ``dlcourse.init.kaiming_normal_`` just works.
"""

import importlib

from dlcourse.runtime import device, generator, seed

__all__ = ["device", "generator", "seed", "__version__"]
__version__ = "0.1.0"

_SUBMODULES = ("init", "nn", "probes", "viz", "widgets", "data", "train", "grading", "labs", "experiments")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"dlcourse.{name}")
    raise AttributeError(f"module 'dlcourse' has no attribute {name!r}")

"""Probes: what happens inside any ``nn.Module``, layer by layer.

* :mod:`dlcourse.probes.stats` — per-layer activation and gradient statistics collected with hooks
  (:class:`ActivationStats`, :class:`LayerStats`, :func:`select_modules`), with the per-tensor
  numbers in :mod:`dlcourse.probes.measures`;
* :mod:`dlcourse.probes.updates` — the update:data ratio (:func:`snapshot`,
  :func:`update_to_data_ratio`), also importable from :mod:`dlcourse.probes.stats`;
* :mod:`dlcourse.probes.stack` — the lecture's deep stack run through those probes
  (:class:`StackRun`, :func:`run_stack`, :func:`stack_output`), shared by the book and the widgets;
* :mod:`dlcourse.probes.dead` — dead units of every activation layer over a whole data set
  (:func:`dead_units`, :class:`DeadUnits`).

See the book: Weight initialization.
"""

from dlcourse.probes.dead import DeadUnits, dead_units, local_derivative
from dlcourse.probes.stack import StackRun, run_stack, stack_output
from dlcourse.probes.stats import (
    ActivationStats,
    LayerStats,
    select_modules,
    snapshot,
    update_to_data_ratio,
)

__all__ = [
    "ActivationStats", "DeadUnits", "dead_units", "local_derivative",
    "LayerStats", "StackRun", "run_stack", "select_modules", "snapshot",
    "stack_output", "update_to_data_ratio",
]

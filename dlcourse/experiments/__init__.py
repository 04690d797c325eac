"""The book's experiments: one module per chapter, and the claim log they share.

* :mod:`dlcourse.experiments.claims` — the lecture's number beside ours (:class:`ClaimLog`,
  :func:`verdict`, :func:`fmt`, :func:`text_table`), used by every chapter;
* :mod:`dlcourse.experiments.initialization` — the demos of the Weight initialization chapter;
* :mod:`dlcourse.experiments.initialization_theory` — its second page: forward and backward
  conditions, gain, depth and learning rate of He et al.'s claim;
* :mod:`dlcourse.experiments.guidelines` — the demos of the Practical guidelines chapter.

A chapter imports from its own module, e.g. ``from dlcourse.experiments.initialization import
glorot_table``, and the claim log from ``dlcourse.experiments.claims``; the deep-stack runner
the chapters share is :func:`dlcourse.probes.run_stack`.
"""

__all__ = ["claims", "guidelines", "initialization", "initialization_theory"]

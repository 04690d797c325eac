"""The book's experiments: one module per chapter, and the claim log they share.

* :mod:`dlcourse.experiments.claims` — the lecture's number beside ours (:class:`ClaimLog`,
  :func:`verdict`, :func:`fmt`, :func:`text_table`), used by every chapter;
* :mod:`dlcourse.experiments.backprop` — the demos of the Computational graphs and
  backpropagation chapter;
* :mod:`dlcourse.experiments.initialization` — the demos of the Weight initialization chapter;
* :mod:`dlcourse.experiments.initialization_theory` — its second page: forward and backward
  conditions, gain, depth and learning rate of He et al.'s claim;
* :mod:`dlcourse.experiments.batchnorm` — the demos of the Batch normalization chapter;
* :mod:`dlcourse.experiments.regularization` — the demos of the Regularization chapter: dropout's
  scaling and ensemble, weight penalties, early stopping;
* :mod:`dlcourse.experiments.schedules` — the demos of the Learning-rate schedules chapter;
* :mod:`dlcourse.experiments.clipping` — the demos of the Exploding gradients and clipping chapter;
* :mod:`dlcourse.experiments.preprocessing` — the demos of the Data preprocessing chapter;
* :mod:`dlcourse.experiments.activations` — the demos of the Activation functions chapter;
* :mod:`dlcourse.experiments.augmentation` — the demos of the Data augmentation chapter;
* :mod:`dlcourse.experiments.optimizers` — the demos of the Optimizers chapter;
* :mod:`dlcourse.experiments.guidelines` — the demos of the Practical guidelines chapter.

A chapter imports from its own module, e.g. ``from dlcourse.experiments.initialization import
glorot_table``, and the claim log from ``dlcourse.experiments.claims``; the deep-stack runner
the chapters share is :func:`dlcourse.probes.run_stack`.
"""

__all__ = [
    "activations",
    "augmentation",
    "backprop",
    "batchnorm",
    "claims",
    "clipping",
    "guidelines",
    "initialization",
    "initialization_theory",
    "optimizers",
    "preprocessing",
    "regularization",
    "schedules",
]

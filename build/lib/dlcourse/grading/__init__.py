"""Checks for students and the autograder for instructors.

Students: ``from dlcourse.grading import check, open_lab`` (see :mod:`dlcourse.grading.check`).
Lab authors: public tests in ``dlcourse/labs/<lab>.py`` on its :class:`Lab`, hidden tests with
:func:`hidden_test` in ``solutions/<lab>.ipynb``, assertions from :mod:`dlcourse.grading.expect`,
argument specs from :mod:`dlcourse.grading.wire`; reading sources and building ``labs/`` is
:mod:`dlcourse.authoring`. Instructors: ``dlcourse labs build``, ``dlcourse grade`` and
``dlcourse feedback`` (:mod:`dlcourse.cli`), or :func:`grade_folder`; the folder layouts accepted
are in :mod:`~dlcourse.grading.submissions`.

One home per concept: the statuses in :mod:`~dlcourse.grading.status`, the grader<->child
protocol in :mod:`~dlcourse.grading.protocol`, which cell defines a name in
:mod:`~dlcourse.grading.scope`.
"""

from dlcourse.grading.check import check, open_lab
from dlcourse.grading.expect import Failure, expect, expect_array, expect_close
from dlcourse.grading.registry import Lab, hidden_test
from dlcourse.grading.wire import empty, parameter, seeded, tensor


def grade_folder(*args, **kwargs):
    """See :func:`dlcourse.grading.batch.grade_folder` (imported lazily: students never need it)."""
    from dlcourse.grading.batch import grade_folder as _grade_folder

    return _grade_folder(*args, **kwargs)


__all__ = [
    "Failure",
    "Lab",
    "check",
    "empty",
    "expect",
    "expect_array",
    "expect_close",
    "grade_folder",
    "hidden_test",
    "open_lab",
    "parameter",
    "seeded",
    "tensor",
]

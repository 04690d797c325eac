"""Lab 8's tests catch real mistakes: plausible wrong optimizers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong (the lecture's velocity form of momentum, eps inside the square root, a missing bias
correction, ...). All are graded together through ``dlcourse grade``; each must lose exactly its
question, and the grader's message must name the mistake (the phrase in the table).
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab08_optimizers"
QUESTIONS = ["q1", "q2", "q3"]

SGD_BUF = "        buf = momentum * buf + grad"
RMS_STEP = "    return param - lr * grad / (torch.sqrt(square_avg) + eps), square_avg"
ADAM_STEP = "    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), exp_avg, exp_avg_sq"

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "momentum as the lecture's velocity (lr inside the buffer)": (
        "q1",
        [
            ("        buf = grad.clone()", "        buf = -lr * grad"),
            (SGD_BUF, "        buf = momentum * buf - lr * grad"),
            ("    return param - lr * update, buf", "    return param + update, buf"),
            (
                "    update = grad + momentum * buf if nesterov else buf",
                "    update = momentum * buf - lr * grad if nesterov else buf",
            ),
        ],
        "velocity form",
    ),
    "momentum buffer as an average": (
        "q1",
        [(SGD_BUF, "        buf = momentum * buf + (1 - momentum) * grad")],
        "an average",
    ),
    "Nesterov ignored": (
        "q1",
        [("    update = grad + momentum * buf if nesterov else buf", "    update = buf")],
        "nesterov=True is ignored",
    ),
    "RMSProp: eps inside the square root": (
        "q2",
        [(RMS_STEP, "    return param - lr * grad / torch.sqrt(square_avg + eps), square_avg")],
        "eps is inside the square root",
    ),
    "RMSProp: no square root": (
        "q2",
        [(RMS_STEP, "    return param - lr * grad / (square_avg + eps), square_avg")],
        "square root is missing",
    ),
    "RMSProp: alpha swapped": (
        "q2",
        [
            (
                "    square_avg = alpha * square_avg + (1 - alpha) * grad * grad",
                "    square_avg = (1 - alpha) * square_avg + alpha * grad * grad",
            )
        ],
        "swapped",
    ),
    "Adam without bias correction": (
        "q3",
        [
            ("    m_hat = exp_avg / (1 - beta1**step)", "    m_hat = exp_avg"),
            ("    v_hat = exp_avg_sq / (1 - beta2**step)", "    v_hat = exp_avg_sq"),
        ],
        "bias correction is missing",
    ),
    "Adam: only m corrected": (
        "q3",
        [("    v_hat = exp_avg_sq / (1 - beta2**step)", "    v_hat = exp_avg_sq")],
        "only the first moment",
    ),
    "Adam: eps inside the square root": (
        "q3",
        [
            (
                ADAM_STEP,
                "    return param - lr * m_hat / torch.sqrt(v_hat + eps), exp_avg, exp_avg_sq",
            )
        ],
        "eps is inside the square root",
    ),
    "Adam: step counted from 0": (
        "q3",
        [
            (
                "    m_hat = exp_avg / (1 - beta1**step)",
                "    m_hat = exp_avg / (1 - beta1**(step + 1))",
            ),
            (
                "    v_hat = exp_avg_sq / (1 - beta2**step)",
                "    v_hat = exp_avg_sq / (1 - beta2**(step + 1))",
            ),
        ],
        "torch.optim gives",
    ),
}

(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

"""Lab 8's tests catch real mistakes: plausible wrong optimizers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong (the lecture's velocity form of momentum, eps inside the square root, a missing bias
correction, ...). All are graded together through ``dlcourse grade``; each must lose exactly its
question, and the grader's message must name the mistake (the phrase in the table).
"""

from __future__ import annotations

import pytest

from dlcourse.authoring.mutants import Mutant, grade_mutants, mutant_table, mutant_verdict

pytestmark = pytest.mark.slow

LAB = "lab08_optimizers"
QUESTIONS = ["q1", "q2", "q3"]

SGD_BUF = "        buf = momentum * buf + grad"
RMS_STEP = "    return param - lr * grad / (torch.sqrt(square_avg) + eps), square_avg"
ADAM_STEP = "    return param - lr * m_hat / (torch.sqrt(v_hat) + eps), exp_avg, exp_avg_sq"

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: dict[str, tuple[str, list[tuple[str, str]], str]] = {
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

MUTANTS = {name: Mutant(q, tuple(edits), phrase) for name, (q, edits, phrase) in _TABLE.items()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    results = grade_mutants(LAB, MUTANTS, tmp_path_factory.mktemp("mutants"))
    print("\n" + mutant_table(results, MUTANTS))
    return results


def test_enough_mutants_for_every_question():
    assert len(MUTANTS) >= 8
    assert {m.question for m in MUTANTS.values()} == set(QUESTIONS)


def test_solution_scores_full_marks_and_the_untouched_lab_zero(graded):
    assert graded["solution"]["total"] == graded["solution"]["max_total"] == 10
    assert graded["untouched"]["total"] == 0


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_loses_exactly_its_question(graded, name):
    assert mutant_verdict(graded, name, MUTANTS[name]) is None

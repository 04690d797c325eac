"""Lab 1's tests catch real mistakes: plausible wrong answers, graded in one batch by the grader.

Each mutant is the solution notebook with one answer cell edited the way a student might get it
wrong. All are graded together through ``dlcourse grade`` (a module-scoped fixture); each must lose
exactly its question, and the grader's message must name the mistake in terms the student can act
on (the phrase in the table). ``pytest -s`` prints the table of messages.
"""

from __future__ import annotations

import pytest
from mutant_suite import Table, mutant_suite

pytestmark = pytest.mark.slow

LAB = "lab01_initialization"
QUESTIONS = ["q1", "q2", "q3", "q4"]

NORMAL_FILL = "        return tensor.normal_(0.0, std, generator=generator)"
XAVIER_STD = "std = gain * math.sqrt(2.0 / (fan_in + fan_out))"
XAVIER_BOUND = "bound = gain * math.sqrt(6.0 / (fan_in + fan_out))"
KAIMING_FAN = 'fan = fan_in if mode == "fan_in" else fan_out'
KAIMING_MODE_CHECK = (
    '    if mode not in ("fan_in", "fan_out"):\n'
    "        raise ValueError(f\"mode must be 'fan_in' or 'fan_out', got {mode!r}\")\n"
)
UNIFORM_DOC = (
    '"""Fill tensor with U(-r, r), r = sqrt(6 / fan), fan = fan_in or fan_out; return it."""\n'
    "    ### BEGIN SOLUTION\n"
)
Q4_LOOP = (
    "    stds = []\n"
    "    for _ in range(depth):\n"
    "        a = torch.randn(width, width, generator=generator) * weight_std\n"
)
Q4_CHECK = (
    "    if activation not in functions:\n"
    '        raise ValueError(f"activation must be one of {sorted(functions)}, '
    'got {activation!r}")\n'
)

# name: (question, [(text in the solution cell, replacement), ...], phrase the message must contain)
_TABLE: Table = {
    "fans swapped": ("q1", [("return fan_in, fan_out", "return fan_out, fan_in")], "swapped"),
    "conv fans without the receptive field": (
        "q1",
        [
            ("fan_in = tensor.shape[1] * receptive_field", "fan_in = tensor.shape[1]"),
            ("fan_out = tensor.shape[0] * receptive_field", "fan_out = tensor.shape[0]"),
        ],
        "receptive field of 25",
    ),
    "fans from torch.nn.init": (
        "q1",
        [
            (
                "    receptive_field = 1\n",
                "    return torch.nn.init._calculate_fan_in_and_fan_out(tensor)\n"
                "    receptive_field = 1\n",
            )
        ],
        "uses `torch.nn.init`",
    ),
    "Xavier with fan_in only (LeCun)": (
        "q2",
        [(XAVIER_STD, "std = gain * math.sqrt(1.0 / fan_in)")],
        "LeCun",
    ),
    "Xavier gain missing in both": (
        "q2",
        [
            (XAVIER_STD, "std = math.sqrt(2.0 / (fan_in + fan_out))"),
            (XAVIER_BOUND, "bound = math.sqrt(6.0 / (fan_in + fan_out))"),
        ],
        "gain is missing",
    ),
    "gain ignored in xavier_uniform_ only": (
        "q2",
        [(XAVIER_BOUND, "bound = math.sqrt(6.0 / (fan_in + fan_out))")],
        "gain is missing",
    ),
    "Xavier uniform bound without √3": (
        "q2",
        [(XAVIER_BOUND, "bound = gain * math.sqrt(2.0 / (fan_in + fan_out))")],
        "off by exactly √3",
    ),
    "Xavier variance used as std": (
        "q2",
        [(XAVIER_STD, "std = gain * 2.0 / (fan_in + fan_out)")],
        "variance 2/(fan_in + fan_out) was used as the standard deviation",
    ),
    "uniform U(0, r)": (
        "q2",
        [("tensor.uniform_(-bound, bound,", "tensor.uniform_(0.0, bound,")],
        "not U(0, r)",
    ),
    "normal values in xavier_uniform_": (
        "q2",
        [
            (
                "return tensor.uniform_(-bound, bound, generator=generator)",
                "return tensor.normal_(0.0, bound / math.sqrt(3.0), generator=generator)",
            )
        ],
        "tensor.uniform_(-r, r)",
    ),
    "global RNG instead of the generator": (
        "q2",
        [(NORMAL_FILL, "        return tensor.normal_(0.0, std)")],
        "not reproducible",
    ),
    "not in place (a new tensor)": (
        "q2",
        [
            (
                NORMAL_FILL,
                "        return torch.empty(tensor.shape).normal_(0.0, std, generator=generator)",
            )
        ],
        "in place",
    ),
    "no torch.no_grad()": (
        "q2",
        [(f"    with torch.no_grad():\n{NORMAL_FILL}", NORMAL_FILL[4:])],
        "outside `with torch.no_grad():`",
    ),
    "no torch.no_grad(), the fill in a helper": (
        "q2",
        [
            (
                f"    with torch.no_grad():\n{NORMAL_FILL}",
                "    return _fill(tensor, std, generator)\n\n\n"
                "def _fill(tensor, std, generator):\n"
                "    return tensor.normal_(0.0, std, generator=generator)",
            )
        ],
        "outside `with torch.no_grad():`",
    ),
    "float64 weights": (
        "q2",
        [(NORMAL_FILL, f"        tensor = tensor.double()\n{NORMAL_FILL}")],
        "float64",
    ),
    "torch.nn.init through an alias": (
        "q2",
        [
            ("def xavier_normal_(", "from torch.nn import init as I\n\n\ndef xavier_normal_("),
            (
                f"    fan_in, fan_out = calculate_fans(tensor)\n    {XAVIER_STD}",
                "    return I.xavier_normal_(tensor, gain, generator=generator)\n"
                f"    fan_in, fan_out = calculate_fans(tensor)\n    {XAVIER_STD}",
            ),
        ],
        "uses `torch.nn.init`",
    ),
    "Kaiming with fan_out always": (
        "q3",
        [(KAIMING_FAN, "fan = fan_out")] * 2,
        "did you use fan_out?",
    ),
    "Kaiming mode ignored": ("q3", [(KAIMING_FAN, "fan = fan_in")] * 2, "did you use fan_in?"),
    "mode ignored in kaiming_uniform_ only": (
        "q3",
        [(f"{KAIMING_FAN}\n    bound", "fan = fan_in\n    bound")],
        "did you use fan_in?",
    ),
    "Kaiming without the factor 2": (
        "q3",
        [("math.sqrt(2.0 / fan)", "math.sqrt(1.0 / fan)")],
        "factor 2 is missing",
    ),
    "Kaiming uniform bound without √3": (
        "q3",
        [("math.sqrt(6.0 / fan)", "math.sqrt(2.0 / fan)")],
        "off by exactly √3",
    ),
    "unknown mode accepted by kaiming_uniform_": (
        "q3",
        [(UNIFORM_DOC + KAIMING_MODE_CHECK, UNIFORM_DOC)],
        "should raise ValueError for mode='fan_avg'",
    ),
    "no torch.no_grad() in kaiming_uniform_": (
        "q3",
        [
            (
                "    with torch.no_grad():\n        return tensor.uniform_",
                "    return tensor.uniform_",
            )
        ],
        "outside `with torch.no_grad():`",
    ),
    "one weight matrix for every layer": (
        "q4",
        [
            (
                Q4_LOOP,
                (
                    "    a = torch.randn(width, width, generator=generator) * weight_std\n"
                    "    stds = []\n    for _ in range(depth):\n"
                ),
            )
        ],
        "reused for every layer",
    ),
    "pre-activation stds": (
        "q4",
        [
            (
                "x = f(a @ x)\n        stds.append(x.std().item())",
                "h = a @ x\n        x = f(h)\n        stds.append(h.std().item())",
            )
        ],
        "before the activation",
    ),
    "one layer too few": (
        "q4",
        [("for _ in range(depth):", "for _ in range(depth - 1):")],
        "list of 10 numbers",
    ),
    "activation ignored": ("q4", [("x = f(a @ x)", "x = a @ x")], "activation is not applied"),
    "unknown activation accepted": (
        "q4",
        [
            (Q4_CHECK, ""),
            ("f = functions[activation]", 'f = functions.get(activation, functions["none"])'),
        ],
        "should raise ValueError for activation='softmax'",
    ),
    "std of the input instead of each layer": (
        "q4",
        [
            (
                "x = torch.randn(width, generator=generator)",
                "x = x0 = torch.randn(width, generator=generator)",
            ),
            ("stds.append(x.std().item())", "stds.append(x0.std().item())"),
        ],
        "every std is that of the input",
    ),
    "seed ignored": ("q4", [("manual_seed(seed)", "manual_seed(0)")], "Seed one torch.Generator"),
    "weight_std ignored": (
        "q4",
        [("generator=generator) * weight_std", "generator=generator)")],
        "the question's draws give",
    ),
}


(
    MUTANTS,
    graded,
    test_enough_mutants_for_every_question,
    test_solution_scores_full_marks_and_the_untouched_lab_zero,
    test_each_mutant_loses_exactly_its_question,
) = mutant_suite(LAB, _TABLE, QUESTIONS)

"""The own-code check reads the syntax tree: every way to reach torch.nn.init, and innocent code."""

from __future__ import annotations

import importlib
import math

import pytest
import torch

import dlcourse.init
from dlcourse.grading.nograd import fills_outside_no_grad
from dlcourse.grading.owncode import find_library_use, library_calls
from dlcourse.grading.student import LocalStudent

# (source, the qualified name the check must report)
TRICKS = [
    ("def f(t):\n    return torch.nn.init.xavier_normal_(t)\n", "torch.nn.init.xavier_normal_"),
    ("def f(t):\n    return nn.init.xavier_normal_(t)\n", "torch.nn.init.xavier_normal_"),
    (
        "def f(t):\n    from torch import nn\n    return nn.init.kaiming_normal_(t)\n",
        "torch.nn.init.kaiming_normal_",
    ),
    (
        "def f(t):\n    from torch.nn import init as I\n    return I.normal_(t)\n",
        "torch.nn.init.normal_",
    ),
    (
        "def f(t):\n    import torch.nn.init as tni\n    return tni.xavier_uniform_(t)\n",
        "torch.nn.init.xavier_uniform_",
    ),
    (
        "def f(t):\n    from torch.nn.init import xavier_normal_ as x\n    return x(t)\n",
        "torch.nn.init.xavier_normal_",
    ),
    (
        "def f(t):\n    return getattr(torch.nn.init, 'xavier_normal_')(t)\n",
        "torch.nn.init.xavier_normal_",
    ),
    (
        "def f(t, name='xavier_normal_'):\n    return getattr(torch.nn.init, name)(t)\n",
        "torch.nn.init.<computed name>",
    ),
    (
        "def f(t):\n    import importlib\n    m = importlib.import_module('torch.nn.init')\n"
        "    return m.xavier_normal_(t)\n",
        "torch.nn.init",
    ),
    (
        "def f(t):\n    from importlib import import_module\n"
        "    return import_module('torch.nn.init').normal_(t)\n",
        "torch.nn.init.normal_",
    ),
    (
        "def f(t):\n    return __import__('torch.nn.init').nn.init.normal_(t)\n",
        "torch.nn.init.normal_",
    ),
    (
        "def f(t):\n    g = torch.nn\n    h = g.init\n    k = h.uniform_\n    return k(t)\n",
        "torch.nn.init",
    ),
    ("def f(t):\n    return dlcourse.init.xavier_normal_(t)\n", "dlcourse.init.xavier_normal_"),
    (
        "def f(t):\n    from dlcourse import init\n    return init.kaiming_uniform_(t)\n",
        "dlcourse.init.kaiming_uniform_",
    ),
    (
        "def f(t):\n    import dlcourse.init\n"
        "    return dlcourse.init.calculate_fan_in_and_fan_out(t)\n",
        "dlcourse.init.calculate_fan_in_and_fan_out",
    ),
    (
        "    def f(self, t):\n        return torch.nn.init.zeros_(t)\n",
        "torch.nn.init.zeros_",
    ),  # indented method
]

INNOCENT = '''
def xavier_normal_(tensor, gain=1.0, generator=None):
    """Like torch.nn.init.xavier_normal_, written by hand (dlcourse.init has one too)."""
    # torch.nn.init.xavier_normal_(tensor) would do it, but the formula is the point
    note = "nn.init.xavier_normal_ and getattr(torch.nn.init, 'x')"
    fan_in, fan_out = calculate_fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    init = std  # a local variable called init is not the module
    with torch.no_grad():
        return tensor.normal_(0.0, init, generator=generator)
'''


@pytest.mark.parametrize("source, name", TRICKS, ids=[f"trick{i}" for i in range(len(TRICKS))])
def test_every_way_of_reaching_the_library_is_found(source, name):
    found = library_calls(source)
    assert found, f"missed: {source}"
    assert found[0].name == name
    assert found[0].module in ("torch.nn.init", "dlcourse.init")
    assert found[0].code == source.splitlines()[found[0].line - 1].strip()


def test_comments_docstrings_strings_and_local_names_are_innocent():
    assert library_calls(INNOCENT) == []


def test_other_torch_modules_and_tensor_methods_are_not_flagged():
    source = ("def f(t):\n    torch.nn.functional.relu(t)\n    nn.Linear(2, 2)\n"
              "    return t.uniform_(-1, 1)\n")
    assert library_calls(source) == []


def test_unparsable_code_and_bad_arguments():
    assert library_calls("def f(:\n") == []
    with pytest.raises(TypeError, match="source must be a str"):
        library_calls(None)  # type: ignore[arg-type]


def test_free_names_are_resolved_by_the_callback():
    source = "def f(t):\n    return I.xavier_normal_(t) + x(t)\n"
    assert library_calls(source) == []  # without help, I and x are unknown
    found = library_calls(source, resolve={"I": "torch.nn.init", "x": "dlcourse.init.normal_"}.get)
    assert [c.name for c in found] == ["torch.nn.init.xavier_normal_", "dlcourse.init.normal_"]


# ---------------------------------------------------------------- through a student's namespace

CELL = '''
from torch.nn import init as I
from torch.nn.init import xavier_normal_ as x
import torch.nn.init as tni

def via_module_alias(tensor):
    return I.xavier_normal_(tensor)

def via_function_alias(tensor):
    return x(tensor)

def _helper(tensor):
    return tni.kaiming_normal_(tensor)

def via_helper(tensor):
    return _helper(tensor)

assigned = I.kaiming_uniform_  # the library's function under the answer's name

def own(tensor, generator=None):
    """Not torch.nn.init: the formula."""
    fan_in, fan_out = calculate_fans(tensor)  # a stand-in from dlcourse.init while graded
    with torch.no_grad():
        return tensor.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)), generator=generator)
'''


@pytest.fixture
def student(tmp_path):
    path = tmp_path / "cell.py"  # a real file, so that inspect.getsource finds the functions
    path.write_text(CELL)
    spec = importlib.util.spec_from_file_location("student_cell", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    namespace = dict(vars(module), torch=torch, math=math)
    namespace["calculate_fans"] = dlcourse.init.calculate_fan_in_and_fan_out
    return LocalStudent(namespace)


@pytest.mark.parametrize(
    "name, reached",
    [
        ("via_module_alias", "torch.nn.init.xavier_normal_"),
        ("via_function_alias", "torch.nn.init.xavier_normal_"),
        ("via_helper", "torch.nn.init.kaiming_normal_"),
        ("assigned", "torch.nn.init.kaiming_uniform_"),
    ],
)
def test_aliases_made_at_the_top_of_the_cell_are_resolved(student, name, reached):
    found = find_library_use(student, name)
    assert [c.name for c in found] == [reached]
    assert found[0].function == ("_helper" if name == "via_helper" else name)
    assert found[0].module == "torch.nn.init"


def test_own_code_passes_and_stand_ins_are_trusted(student):
    assert find_library_use(student, "own", trusted=["calculate_fans"]) == []
    # Untrusted, the stand-in is what it is: dlcourse.init's function.
    assert [c.name for c in find_library_use(student, "own")] == [
        "dlcourse.init.calculate_fan_in_and_fan_out"
    ]


# ---------------------------------------------------------------- in-place fills and autograd

GUARDED = [
    "def f(t, s):\n    with torch.no_grad():\n        return t.normal_(0, s)\n",
    "@torch.no_grad()\ndef f(t, s):\n    return t.normal_(0, s)\n",
    "def f(t, s):\n    with no_grad():\n        t.uniform_(-s, s)\n    return t\n",
    "def f(t, s):\n    with torch.inference_mode():\n        return t.normal_(0, s)\n",
    "def f(t, s):\n    with torch.set_grad_enabled(False):\n        return t.normal_(0, s)\n",
    "def f(t, s):\n    t.data.normal_(0, s)\n    return t\n",
    "def f(t, s):\n    t.detach().normal_(0, s)\n    return t\n",
]
UNGUARDED = [
    ("def f(t, s):\n    return t.normal_(0, s)\n", [2]),
    (
        "def f(t, s):\n    with torch.set_grad_enabled(True):\n        t.uniform_(-s, s)\n"
        "    return t\n",
        [3],
    ),
    ("def f(t, s):\n    with torch.no_grad():\n        pass\n    return t.mul_(s)\n", [4]),
]


@pytest.mark.parametrize("source", GUARDED)
def test_fills_under_no_grad_or_on_detached_weights_pass(source):
    assert fills_outside_no_grad(source) == []


@pytest.mark.parametrize("source, lines", UNGUARDED)
def test_fills_while_autograd_records_are_found(source, lines):
    assert fills_outside_no_grad(source) == lines


def test_the_static_verdict_agrees_with_pytorch_on_a_parameter():
    weight = torch.nn.Parameter(torch.empty(3, 3))
    for source in GUARDED[:2]:
        namespace = {"torch": torch}
        exec(source, namespace)
        namespace["f"](weight, 1.0)  # does not raise
    source, _ = UNGUARDED[0]
    namespace = {"torch": torch}
    exec(source, namespace)
    with pytest.raises(RuntimeError, match="in-place"):
        namespace["f"](weight, 1.0)

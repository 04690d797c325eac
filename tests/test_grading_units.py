"""Unit tests of the grading pieces: plain-data wire, regions and lab generation, check, reports."""

from __future__ import annotations

import json
import math
import os
import struct

import nbformat
import numpy as np
import pytest
import torch

from dlcourse.authoring.build import render_lab, strip_hidden, stub_source
from dlcourse.authoring.source import SourceError, load_source, regions
from dlcourse.grading import check, expect, open_lab, protocol, registry, scope, status
from dlcourse.grading.check import report, run_check
from dlcourse.grading.judge import QuestionResult
from dlcourse.grading.registry import Lab, get_lab
from dlcourse.grading.student import (
    LocalStudent,
    NotImplementedByStudent,
    StudentMissing,
    StudentRaised,
    resolve,
)
from dlcourse.grading.wire import (
    NotPlainData,
    decode,
    empty,
    encode,
    materialize,
    parameter,
    seeded,
    tensor,
    to_plain,
)

SOURCE = "solutions/lab01_initialization.ipynb"


# ---------------------------------------------------------------- wire


def test_encode_decode_round_trip_keeps_arrays_and_special_floats():
    data = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": [1, 2.5, float("nan"), float("-inf")],
        "c": None,
    }
    back = decode(encode(data)[8:])
    assert back["a"].dtype == np.float32 and np.array_equal(back["a"], data["a"])
    assert back["b"][:2] == [1, 2.5] and math.isnan(back["b"][2]) and back["b"][3] == float("-inf")
    assert back["c"] is None


def _frame(header: dict, *buffers: bytes) -> bytes:
    """A frame body as :func:`encode` writes it, with any header (for damaged messages)."""
    text = json.dumps(header).encode()
    parts = [struct.pack("<Q", len(text)), text]
    for buffer in buffers:
        parts += [struct.pack("<Q", len(buffer)), buffer]
    return b"".join(parts)


def test_decode_refuses_object_arrays_and_damaged_frames():
    assert decode(encode({"x": np.ones(3)})[8:])["x"].tolist() == [1.0, 1.0, 1.0]
    pickled = {"__ndarray__": 0, "dtype": "|O", "shape": [1]}
    with pytest.raises(NotPlainData, match="dtype object"):
        decode(_frame(pickled, b"\0" * 8))
    too_short = {"__ndarray__": 0, "dtype": "<f4", "shape": [4]}
    with pytest.raises(NotPlainData, match="does not fit its bytes"):
        decode(_frame(too_short, b"\0" * 8))
    with pytest.raises(NotPlainData, match="bad array index"):
        decode(_frame({"__ndarray__": 3, "dtype": "<f4", "shape": [2]}, b"\0" * 8))
    with pytest.raises(NotPlainData, match="damaged"):
        decode(b"\xff" * 12)


def test_to_plain_converts_tensors_and_refuses_objects():
    assert to_plain((torch.ones(2), 3, np.float64(1.5))) == [pytest.approx(np.ones(2)), 3, 1.5]
    assert isinstance(to_plain(torch.ones(2))[0], np.floating)
    with pytest.raises(NotPlainData, match="returned a function"):
        to_plain(lambda: 1)
    with pytest.raises(NotPlainData, match="string keys"):
        to_plain({1: 2})


def test_specs_materialize_into_real_objects():
    t = materialize(empty(3, 4, dtype="float64"))
    assert t.shape == (3, 4) and t.dtype == torch.float64
    g1, g2 = materialize(seeded(5)), materialize(seeded(5))
    assert torch.equal(torch.randn(3, generator=g1), torch.randn(3, generator=g2))
    assert torch.equal(materialize(tensor([1, 2])), torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"empty\(\): dtype='complex64': use one of 'float16'"):
        empty(2, dtype="complex64")


def test_a_parameter_spec_is_a_weight_that_refuses_in_place_changes_under_autograd():
    w = materialize(parameter(4, 3))
    assert isinstance(w, torch.nn.Parameter) and w.requires_grad and w.shape == (4, 3)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.normal_()
    with torch.no_grad():
        w.normal_()


def test_specs_refuse_bad_arguments_by_kind():
    with pytest.raises(TypeError,
                       match=r"empty\(\): each size of the shape must be a non-negative"):
        empty(2.0, 3)
    with pytest.raises(ValueError, match=r"parameter\(\): each size of the shape must be"):
        parameter(-1)
    with pytest.raises(TypeError, match=r"seeded\(\): seed must be an int, got float 1.5"):
        seeded(1.5)


# ---------------------------------------------------------------- regions and lab generation


def test_regions_split_and_report_bad_markers():
    src = "a\n### BEGIN SOLUTION\nb\n### END SOLUTION\nc"
    assert regions(src, "### BEGIN SOLUTION", "### END SOLUTION") == [
        ("a", False),
        ("b", True),
        ("c", False),
    ]
    with pytest.raises(SourceError, match="never closed"):
        regions("### BEGIN SOLUTION\nx", "### BEGIN SOLUTION", "### END SOLUTION", 3)
    with pytest.raises(SourceError, match="without a"):
        regions("x\n### END SOLUTION", "### BEGIN SOLUTION", "### END SOLUTION", 3)


def test_stub_keeps_indentation_and_says_what_to_do():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION"
    out = stub_source(src, "Lab 1, q9: implement f")
    assert (
        out == "def f(x):\n    y = 1\n    # YOUR CODE HERE\n"
        '    raise NotImplementedError("Lab 1, q9: implement f")'
    )
    compile(out, "stub", "exec")


def test_strip_hidden_removes_only_the_hidden_region():
    src = "### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\ncheck('q1')"
    assert strip_hidden(src) == "check('q1')"


def test_generated_lab_has_no_solutions_hidden_tests_or_outputs():
    text = render_lab(load_source(SOURCE))
    nb = nbformat.reads(text, as_version=4)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "hidden_test" not in text
    assert "receptive_field *= size" not in text and "math.sqrt(2.0 / fan)" not in text
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    stubs = [c for c in code if c.metadata.get("dlcourse", {}).get("role") == "solution"]
    assert len(stubs) == 4 and all('raise NotImplementedError("Lab 1, q' in c.source for c in stubs)


def test_labs_folder_is_in_sync_with_solutions():
    from dlcourse.authoring.build import build_labs

    stale = build_labs(check=True)
    assert stale == [], f"labs/ is stale: run `make labs` and commit ({stale})"


def test_source_validation_names_the_problem(tmp_path):
    nb = nbformat.read(SOURCE, as_version=4)
    nb.cells[3].metadata["dlcourse"]["question"] = "q9"
    bad = tmp_path / "lab01_initialization.ipynb"
    nbformat.write(nb, bad)
    with pytest.raises(SourceError, match="question 'q9' is not one of"):
        load_source(bad)
    nb.metadata.pop("dlcourse")
    nbformat.write(nb, bad)
    with pytest.raises(SourceError, match="metadata.dlcourse.lab is missing"):
        load_source(bad)


# ---------------------------------------------------------------- students and check


def _kaiming(fan_index):
    def kaiming_normal_(tensor, mode="fan_in", generator=None):
        if mode not in ("fan_in", "fan_out"):
            raise ValueError(mode)
        fan = tensor.shape[fan_index] if mode == "fan_in" else tensor.shape[1 - fan_index]
        with torch.no_grad():
            return tensor.normal_(0, math.sqrt(2 / fan), generator=generator)

    return kaiming_normal_


def kaiming_uniform_(tensor, mode="fan_in", generator=None):
    fan = tensor.shape[1] if mode == "fan_in" else tensor.shape[0]
    with torch.no_grad():
        return tensor.uniform_(-math.sqrt(6 / fan), math.sqrt(6 / fan), generator=generator)


def test_local_student_reports_problems_by_kind():
    def stub(x):
        raise NotImplementedError("Lab 1, q1: implement f")

    def broken(x):
        return x.nonexistent

    student = LocalStudent({"stub": stub, "broken": broken})
    with pytest.raises(NotImplementedByStudent, match="still raises NotImplementedError"):
        student.stub(1)
    with pytest.raises(StudentRaised, match="broken raised AttributeError"):
        student.broken(1)
    with pytest.raises(StudentMissing, match="not defined"):
        student.absent(1)


def test_check_explains_a_wrong_fan_in_teaching_terms(capsys):
    open_lab("lab01_initialization")
    result, _ = run_check("q3", _kaiming(0), kaiming_uniform_)
    assert result.status == "failed"
    assert (
        "is 0.0885" in result.message
        and "expected 0.0625" in result.message
        and "did you use fan_out?" in result.message
    )


def test_check_passes_a_right_answer_and_prints(capsys):
    open_lab("lab01_initialization")
    check("q3", _kaiming(1), kaiming_uniform_)
    out = capsys.readouterr().out
    assert (
        out.splitlines()[-1] == "q3: passed all 4 checks. The autograder runs more (hidden) tests."
    )


def test_check_names_unknown_questions():
    open_lab("lab01_initialization")
    with pytest.raises(ValueError, match="no question 'q7'; its questions are q1, q2, q3, q4"):
        run_check("q7")


def test_check_flags_library_calls():
    open_lab("lab01_initialization")

    def xavier_normal_(tensor, gain=1.0, generator=None):
        return torch.nn.init.xavier_normal_(tensor, gain=gain, generator=generator)

    def xavier_uniform_(tensor, gain=1.0, generator=None):
        return torch.nn.init.xavier_uniform_(tensor, gain=gain, generator=generator)

    result, _ = run_check("q2", xavier_normal_, xavier_uniform_)
    assert result.status == "failed" and "uses `torch.nn.init`" in result.message


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize("name", status.names())
def test_every_status_round_trips_through_the_table(name):
    row = status.get(name)
    assert row.name == name and row.label and row.meaning
    problem = status.problem(name, "why")
    if row.exception is None:  # passed and failed are not raised by student code
        assert type(problem) is StudentRaised
    else:
        assert (
            type(problem) is row.exception and problem.status == name and problem.message == "why"
        )
    result = QuestionResult("q1", name, 0.0, 1.0, "why", [])
    assert report(result).startswith("q1: ")
    from dlcourse.grading.report import feedback_markdown
    from dlcourse.grading.runner import SubmissionResult

    text = feedback_markdown(SubmissionResult("ada", "lab01_initialization", {"q1": result}))
    assert f"| {row.label} |" in text and f"Attempted {int(row.attempted)} of 1" in text


def test_status_table_refuses_unknown_names_and_matches_the_readme():
    with pytest.raises(ValueError, match="unknown grading status 'lost'; the statuses are passed"):
        status.get("lost")
    assert type(status.problem("lost", "x")) is StudentRaised
    readme = open("README.md", encoding="utf-8").read()
    table = readme.split("| status | meaning | counts as attempted |\n|---|---|---|\n", 1)[1]
    rows = table.split("\n\n", 1)[0].splitlines()
    expected = [
        f"| `{s.name}` | {s.meaning} | {'yes' if s.attempted else 'no'} |" for s in status.STATUSES
    ]
    assert rows == expected


# ---------------------------------------------------------------- the grader <-> child protocol


def test_protocol_requests_are_answered_by_the_child_dispatch_table():
    state = protocol.ChildState()

    def ask(request):  # through the wire both ways, as between the processes
        return decode(encode(protocol.dispatch(state, decode(encode(request)[8:])))[8:])

    cell = "def double(x):\n    return 2 * x\n\ndef todo(x):\n    raise NotImplementedError('q1')"
    assert ask(protocol.exec_request(cell, "your cell for q1")) == {"status": "ok", "message": ""}
    assert protocol.call_reply(
        ask(protocol.call_request("double", [tensor([1.0, 2.0])], {}))
    ).value.tolist() == [2, 4]
    assert "return 2 * x" in ask(protocol.source_request("double"))["ok"]
    with pytest.raises(NotImplementedByStudent, match="todo still raises"):
        protocol.call_reply(ask(protocol.call_request("todo", [1], {})))
    with pytest.raises(StudentMissing, match="absent is not defined"):
        protocol.call_reply(ask(protocol.call_request("absent", [], {})))
    assert ask(protocol.swap_request({"double": "math:sqrt"})) == {"ok": None}
    assert protocol.call_reply(ask(protocol.call_request("double", [16.0], {}))).value == 4.0
    ask(protocol.swap_request({}))
    assert protocol.call_reply(ask(protocol.call_request("double", [16.0], {}))).value == 32.0
    with pytest.raises(StudentRaised, match="unknown request 'dance'"):
        protocol.raise_problem(ask({"op": "dance"}))
    assert set(protocol.HANDLERS) | {protocol.EXIT} == {"exec", "call", "source", "swap", "exit"}


# ---------------------------------------------------------------- the open lab is the notebook's


def calculate_fans(tensor):
    receptive = tensor[0][0].numel() if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def test_open_lab_keeps_the_lab_and_its_hidden_tests_in_the_notebook_namespace(capsys):
    notebook: dict = {"calculate_fans": calculate_fans}
    exec(
        "from dlcourse.grading import hidden_test, open_lab\n"
        "open_lab('lab01_initialization')\n"
        "@hidden_test('q1')\n"
        "def strict(student):\n"
        "    raise AssertionError('the hidden test says no')\n",
        notebook,
    )
    lab = notebook[registry.LAB_KEY]
    try:
        assert lab is get_lab("lab01_initialization") and [t.name for t in lab.hidden_tests] == [
            "strict"
        ]
        assert "Lab 1 — Weight initialization: questions q1, q2, q3, q4" in capsys.readouterr().out
        result, n_hidden = run_check("q1", namespace=notebook)
        assert (result.status, n_hidden, result.message) == ("failed", 1, "the hidden test says no")
        public = len(lab.tests_for("q1"))
        assert [o.status for o in result.outcomes] == ["passed"] * public + ["failed"]
        with pytest.raises(RuntimeError, match="no lab is open: run the lab's setup cell"):
            run_check("q1", calculate_fans, namespace={})
    finally:
        lab.hidden_tests.clear()


# ---------------------------------------------------------------- lab metadata lives on Lab


def test_lab_number_comes_from_its_name():
    assert Lab("lab07_optimizers", title="Optimizers").number == 7
    assert Lab("lab07_optimizers", title="Optimizers", number=7).number == 7
    with pytest.raises(ValueError, match=r"number comes from the name \(lab07 is lab 7\)"):
        Lab("lab07_optimizers", title="Optimizers", number=8)
    with pytest.raises(ValueError, match="look like 'lab01_initialization'"):
        Lab("optimizers", title="Optimizers")


def test_source_reads_number_and_title_from_the_lab_and_refuses_contradictions(tmp_path):
    src = load_source(SOURCE)
    lab = get_lab("lab01_initialization")
    assert (src.number, src.title) == (lab.number, lab.title) == (1, "Weight initialization")
    nb = nbformat.read(SOURCE, as_version=4)
    bad = tmp_path / "lab01_initialization.ipynb"
    nb.metadata["dlcourse"]["title"] = lab.title  # repeating it is allowed
    nbformat.write(nb, bad)
    assert load_source(bad).title == lab.title
    nb.metadata["dlcourse"]["title"] = "Initialisation"
    nbformat.write(nb, bad)
    with pytest.raises(
        SourceError, match="metadata.dlcourse.title is 'Initialisation' but dlcourse/labs"
    ):
        load_source(bad)
    nb.metadata["dlcourse"] = {
        **nb.metadata["dlcourse"],
        "lab": "lab99_nothing",
        "title": lab.title,
    }
    nbformat.write(nb, bad)
    with pytest.raises(SourceError, match="has no dlcourse/labs/lab99_nothing.py defining LAB"):
        load_source(bad)


def test_share_takes_the_function_itself_or_its_reference():
    import dlcourse.init

    lab = Lab("lab42_sharing", title="Sharing")
    lab.share(
        "q1", fans=dlcourse.init.calculate_fan_in_and_fan_out, gain="dlcourse.init:calculate_gain"
    )
    refs = lab.stand_ins_for("q2")
    assert sorted(refs) == ["fans", "gain"] and refs["gain"] == "dlcourse.init:calculate_gain"
    assert (
        resolve(refs["fans"]) is dlcourse.init.calculate_fan_in_and_fan_out
    )  # its defining module
    assert lab.stand_ins_for("q1") == {}
    with pytest.raises(ValueError, match="is not an attribute of its module"):
        lab.share("q1", fans=lambda t: (1, 1))
    with pytest.raises(
        TypeError, match="must be a function or a 'module:attribute' string; got a int"
    ):
        lab.share("q1", fans=3)
    with pytest.raises(ValueError, match="must look like 'module:attribute'"):
        lab.share("q1", fans="dlcourse.init.calculate_gain")


# ---------------------------------------------------------------- check speaks to the student

SETUP = (
    "import math\n\nimport torch\n\nfrom dlcourse.grading import check, open_lab\n\n"
    "open_lab('lab01_initialization')"
)
FANS = "def calculate_fans(tensor):\n    return tensor.shape[1], tensor.shape[0]"
HELPER = (
    "def xavier_std(fan_in, fan_out, gain):\n    return gain * math.sqrt(2.0 / (fan_in + fan_out))"
)
XAVIER = """def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fans(tensor)
    with torch.no_grad():
        return tensor.normal_(0.0, xavier_std(fan_in, fan_out, gain), generator=generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = calculate_fans(tensor)
    bound = math.sqrt(3.0) * xavier_std(fan_in, fan_out, gain)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)"""


def _kernel(*cells: str) -> dict:
    """A fake kernel namespace: each cell run in turn (a cell that raises stops, as in Jupyter)."""
    import linecache

    namespace: dict = {"__name__": "__main__", "_ih": ["", *cells]}
    for number, cell in enumerate(cells, start=1):
        filename = f"<ipython-input-{number}>"
        linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
        try:
            exec(compile(cell, filename, "exec"), namespace)
        except Exception:
            pass
    return namespace


def test_check_warns_when_an_answer_uses_a_name_from_an_added_cell(capsys):
    kernel = _kernel(SETUP, FANS, HELPER, XAVIER, 'check("q2")')
    result, _ = run_check("q2", namespace=kernel)
    assert result.status == "passed"  # here it works; in the grader xavier_std would not exist
    assert result.warnings == [
        "`xavier_std` is defined outside the answer cells, which is all the grader runs: "
        "move it into the answer cell of q2."
    ]
    assert report(result).splitlines()[1].startswith("Warning: `xavier_std` is defined outside")
    inside = _kernel(SETUP, FANS, HELPER + "\n\n\n" + XAVIER, 'check("q2")')
    assert run_check("q2", namespace=inside)[0].warnings == []
    assert run_check("q2", namespace={**kernel, "_ih": None})[0].warnings == []  # not a kernel


def test_check_says_the_defining_cell_raised_rather_than_not_run():
    broken = XAVIER.replace(
        "def xavier_normal_(tensor, gain=1.0, generator=None):",
        "def xavier_normal_(tensor, gain=1.0, generator=None)",
    )
    kernel = _kernel(SETUP, FANS, HELPER + "\n\n\n" + broken)
    result, _ = run_check("q2", namespace=kernel)
    assert result.status == "missing"
    assert result.message == (
        "xavier_normal_ is not defined although you ran the cell that defines it (In [3]): "
        "that cell "
        "raised an error (see its output) before defining it; fix the error and run the cell again"
    )
    never_run = _kernel(SETUP, FANS)
    assert (
        run_check("q2", namespace=never_run)[0].message
        == "xavier_normal_ is not defined: run the cell that defines it first"
    )


def test_check_names_a_failing_check_by_place_and_description_not_by_test_name():
    open_lab("lab01_initialization")
    result, _ = run_check("q3", _kaiming(0), kaiming_uniform_)
    text = report(result)
    assert (
        text.startswith("q3: check 1 of 4 failed: the std of kaiming_normal_")
        and "kaiming_normal_fan_in" not in text
    )
    lab = Lab("lab42_words", title="Words")

    @lab.test("q1")
    def returns_two(student):
        """The answer is 2.

        More about it, not shown.
        """
        got = student.answer()
        expect(got == 2, f"answer() returned {got}; it should return 2")

    @lab.test("q1")
    def undocumented(student):
        student.answer()

    def answer():
        return 3

    def broken():
        return 1 / 0

    assert report(run_check("q1", answer, namespace={}, lab=lab)[0]) == (
        "q1: check 1 of 2 (the answer is 2) failed: answer() returned 3; it should return 2"
    )
    broken.__name__ = "answer"
    text = report(run_check("q1", broken, namespace={}, lab=lab)[0])
    assert text.startswith(
        "q1: your code raised an error in check 1 of 2 (the answer is 2): "
        "answer raised ZeroDivisionError"
    )


def test_scope_finds_definitions_uses_and_explains_name_errors():
    assert scope.defined_names(
        "import numpy as np\nfrom math import sqrt\nx, y = 1, 2\ndef f(): z = 3\nclass C: pass"
    ) == {"np", "sqrt", "x", "y", "f", "C"}
    assert scope.defined_names("def g(x)\n    return x\nh = 2") == {
        "g",
        "h",
    }  # a syntax error: line by line
    namespace: dict = {}
    exec(
        "import math\nK = 2\ndef f(x):\n    def inner():\n        return helper(K)\n"
        "    return math.sqrt(len([inner]))",
        namespace,
    )
    assert scope.globals_used(namespace["f"]) == {"math", "helper", "K"}
    assert scope.defining_cell(["", "K = 1", "x = 2", "K = 3"], "K") == 3
    message = (
        "xavier_normal_ raised NameError: name 'helper' is not defined "
        "(line 2 of your cell for q2: `helper()`)"
    )
    assert scope.explain_name_error(message, {"helper"}, "q2").endswith(
        "`helper` is defined outside the answer cells, which is all the grader runs: "
        "move it into the answer cell of q2"
    )
    assert scope.explain_name_error(message, {"other"}, "q2") == message


def test_a_graders_leftover_folders_are_removed_once_it_is_gone(tmp_path):
    from dlcourse.grading import session

    gone = tmp_path / "dlcourse-grade-999999999-abcd1234"
    alive = tmp_path / f"dlcourse-grade-{os.getpid()}-abcd1234"
    other = tmp_path / "dlcourse-grade-notapid-x"
    for folder in (gone, alive, other):
        (folder / "scratch").mkdir(parents=True)
    session._remove_stale_folders(str(tmp_path))
    assert not gone.exists() and alive.exists() and other.exists()

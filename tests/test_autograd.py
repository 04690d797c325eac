"""dlcourse.autograd: every gradient against PyTorch autograd (float64), properties, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcourse.autograd import Value, draw, layout

# Each op as (our Value function, the same on a float64 tensor, inputs where it is smooth).
UNARY = {
    "neg": (lambda a: -a, lambda a: -a, [-1.5, 0.3, 2.0]),
    "exp": (lambda a: a.exp(), torch.exp, [-1.5, 0.3, 2.0]),
    "log": (lambda a: a.log(), torch.log, [0.2, 1.0, 3.5]),
    "tanh": (lambda a: a.tanh(), torch.tanh, [-1.5, 0.3, 2.0]),
    "sigmoid": (lambda a: a.sigmoid(), torch.sigmoid, [-40.0, -1.5, 0.3, 2.0, 40.0]),
    "relu": (lambda a: a.relu(), torch.relu, [-1.5, 0.0, 0.3, 2.0]),
    "pow3": (lambda a: a**3, lambda a: a**3, [-1.5, 0.3, 2.0]),
    "pow-0.5": (lambda a: a**-0.5, lambda a: a**-0.5, [0.2, 1.0, 3.5]),
    "rsub": (lambda a: 2 - a, lambda a: 2 - a, [-1.5, 0.3]),
    "rdiv": (lambda a: 2 / a, lambda a: 2 / a, [-1.5, 0.3]),
}
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "max": (lambda a, b: a.max(b), torch.maximum),
}
PAIRS = [(-1.5, 0.7), (2.0, -3.0), (0.4, 0.4), (3.0, 1.25)]


def torch_grads(f, *values: float) -> tuple[float, list[float]]:
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out = f(*xs)
    out.backward()
    return out.item(), [x.grad.item() for x in xs]


def our_grads(f, *values: float) -> tuple[float, list[float]]:
    xs = [Value(v) for v in values]
    out = f(*xs)
    out.backward()
    return out.data, [x.grad for x in xs]


def test_the_lecture_example():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    f.backward()
    assert (q.data, f.data) == (3.0, -12.0)
    assert (x.grad, y.grad, z.grad, q.grad) == (-4.0, -4.0, 3.0, -4.0)


@pytest.mark.parametrize("name", list(UNARY))
def test_each_unary_op_matches_torch(name):
    ours, theirs, points = UNARY[name]
    for a in points:
        value, grads = our_grads(ours, a)
        t_value, t_grads = torch_grads(theirs, a)
        assert value == pytest.approx(t_value, rel=1e-12, abs=1e-300)
        assert grads == pytest.approx(t_grads, rel=1e-12, abs=1e-300), (name, a)


@pytest.mark.parametrize("name", list(BINARY))
def test_each_binary_op_matches_torch(name):
    ours, theirs = BINARY[name]
    for a, b in PAIRS:
        value, grads = our_grads(ours, a, b)
        t_value, t_grads = torch_grads(theirs, a, b)
        assert value == pytest.approx(t_value, rel=1e-12)
        assert grads == pytest.approx(t_grads, rel=1e-12), (name, a, b)


@pytest.mark.parametrize("name", [n for n in UNARY if n != "relu"])
def test_each_unary_gradient_matches_finite_differences(name):
    ours, _, points = UNARY[name]
    for a in points:
        _, (grad,) = our_grads(ours, a)
        h = 1e-6 * max(1.0, abs(a))
        numeric = (ours(Value(a + h)).data - ours(Value(a - h)).data) / (2 * h)
        assert grad == pytest.approx(numeric, rel=1e-5, abs=1e-8), (name, a)


def test_numbers_mix_with_values_on_either_side():
    a = Value(3.0)
    for out, want, grad in [
        (a + 1, 4.0, 1.0),
        (1 + a, 4.0, 1.0),
        (2 * a, 6.0, 2.0),
        (a * 2, 6.0, 2.0),
        (a - 1, 2.0, 1.0),
        (1 - a, -2.0, -1.0),
        (a / 2, 1.5, 0.5),
        (6 / a, 2.0, -6 / 9),
    ]:
        a.grad = 0.0
        out.backward()
        assert out.data == pytest.approx(want) and a.grad == pytest.approx(grad)


# ---- random expressions: the property that matters ------------------------------------------

SAFE_OPS = {  # every op, with inputs kept inside its domain so any program is valid
    "add": (2, lambda a, b: a + b),
    "sub": (2, lambda a, b: a - b),
    "mul": (2, lambda a, b: a * b),
    "div": (2, lambda a, b: a / (b * b + 1)),
    "max": (2, lambda a, b: a.max(b) if isinstance(a, Value) else torch.maximum(a, b)),
    "tanh": (1, lambda a: a.tanh()),
    "sigmoid": (1, lambda a: a.sigmoid()),
    "relu": (1, lambda a: a.relu()),
    "exp": (1, lambda a: (a.tanh() * 3).exp()),
    "log": (1, lambda a: (a * a + 0.5).log()),
    "pow": (1, lambda a: (a * a + 0.5) ** 1.5),
    "cube": (1, lambda a: a**3),
}

leaf_values = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)
steps = st.tuples(st.sampled_from(sorted(SAFE_OPS)), st.integers(0, 99), st.integers(0, 99))


def run_program(leaves: list, program: list) -> object:
    """Apply each (op, i, j) to nodes picked among all so far; nodes are reused (a DAG)."""
    nodes = list(leaves)
    for op, i, j in program:
        arity, fn = SAFE_OPS[op]
        args = [nodes[i % len(nodes)], nodes[j % len(nodes)]][:arity]
        nodes.append(fn(*args))
    return nodes[-1]


@settings(max_examples=200, deadline=None)
@given(st.lists(leaf_values, min_size=1, max_size=4), st.lists(steps, min_size=1, max_size=10))
def test_random_expressions_have_pytorchs_gradients(values, program):
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    expected = run_program(xs, program)
    if not math.isfinite(expected.item()) or abs(expected.item()) > 1e100:
        return  # a cube of a cube of ...: floats overflow in both engines alike
    leaves = [Value(v) for v in values]
    out = run_program(leaves, program)
    out.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-9, abs=1e-12)
    if not expected.requires_grad:
        return
    expected.backward()
    for ours, theirs in zip(leaves, xs):
        want = 0.0 if theirs.grad is None else theirs.grad.item()
        assert ours.grad == pytest.approx(want, rel=1e-8, abs=1e-10)


@settings(max_examples=50, deadline=None)
@given(st.lists(leaf_values, min_size=1, max_size=4), st.lists(steps, min_size=1, max_size=8))
def test_topological_order_puts_children_first(values, program):
    out = run_program([Value(v) for v in values], program)
    order = out.topological_order()
    place = {id(node): i for i, node in enumerate(order)}
    assert order[-1] is out and len(place) == len(order)
    assert all(place[id(c)] < place[id(n)] for n in order for c in n.children)


# ---- accumulation, reuse, depth ---------------------------------------------------------------


def test_a_node_used_twice_sums_both_paths():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0
    b = Value(2.0)
    c = b + 1
    (c * c + c).backward()  # d/db (c² + c) = 2c + 1 = 7
    assert b.grad == 7.0


def test_backward_accumulates_like_pytorch_and_zero_grad_resets():
    x = Value(2.0)
    y = (x * x).tanh()
    y.backward()
    first = x.grad
    y.backward()
    assert x.grad == pytest.approx(2 * first)
    y.zero_grad()
    assert x.grad == 0.0 and y.grad == 0.0
    y.backward(gradient=3.0)
    assert x.grad == pytest.approx(3 * first)


def test_a_deep_chain_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000)


def test_max_routes_and_splits_a_tie_like_torch_maximum():
    a, b = Value(1.0), Value(2.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.0, 1.0)
    c, d = Value(2.0), Value(2.0)
    c.max(d).backward()
    assert (c.grad, d.grad) == (0.5, 0.5)


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: Value("1.0"), TypeError, "data must be a real number"),
        (lambda: Value(True), TypeError, "data must be a real number"),
        (lambda: Value(math.nan), ValueError, "data must be finite"),
        (lambda: Value(1.0, label=3), TypeError, "label must be a str"),
        (lambda: Value(1.0) + "2", TypeError, "wrap the number in Value"),
        (lambda: Value(1.0) * None, TypeError, "got NoneType"),
        (lambda: [1.0] - Value(1.0), TypeError, "got list"),
        (lambda: Value(1.0).max("a"), TypeError, "max combines"),
        (lambda: Value(2.0) ** Value(2.0), TypeError, "exponent must be a constant"),
        (lambda: Value(-2.0) ** 0.5, ValueError, "negative base"),
        (lambda: Value(0.0) ** -1, ValueError, "away from 0"),
        (lambda: Value(1.0) / 0, ValueError, "division by a Value of 0"),
        (lambda: Value(0.0).log(), ValueError, "log needs a positive input"),
        (lambda: Value(800.0).exp(), ValueError, "overflows"),
        (lambda: Value(1e200) * 1e200, ValueError, "overflow"),
        (lambda: Value(1.0).backward("1"), TypeError, "gradient must be a real number"),
        (lambda: draw(1.0), TypeError, "value must be a Value"),
        (lambda: draw(Value(1.0), digits=0), ValueError, "digits must be a positive int"),
    ],
)
def test_bad_input_raises_a_clear_error(make, error, words):
    with pytest.raises(error, match=words):
        make()


# ---- drawing ----------------------------------------------------------------------------------


def test_layout_puts_inputs_left_and_the_output_right():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    f = q * z
    pos = layout(f)
    assert pos[id(f)] == (2.0, 0.0)
    assert pos[id(q)][0] == pos[id(z)][0] == 1.0 and pos[id(x)][0] == pos[id(y)][0] == 0.0
    assert len(set(pos.values())) == 5


def test_draw_shows_values_and_local_and_upstream_gradients():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    f.backward()
    fig = draw(f)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.startswith("x\ndata -2\ngrad -4") for t in texts)
    assert "local -4\nupstream 1" in texts  # the edge q -> f: ∂f/∂q = z
    assert "local 1\nupstream -4" in texts  # the edges x -> q and y -> q
    forward_only = draw(f, grads=False)
    assert not any(
        "grad" in t.get_text() or "local" in t.get_text() for t in forward_only.axes[0].texts
    )

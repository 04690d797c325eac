r"""A scalar computational graph: :class:`Value`, its operations and backpropagation.

Each operation computes its output *and* its local gradients :math:`\partial\,\text{out} /
\partial\,\text{in}` in the same few lines; :meth:`Value.backward` then applies the chain rule,
node by node in reverse topological order,

.. math::

    \frac{\partial L}{\partial\,\text{in}} \mathrel{+}=
    \underbrace{\frac{\partial\,\text{out}}{\partial\,\text{in}}}_{\text{local}}
    \cdot \underbrace{\frac{\partial L}{\partial\,\text{out}}}_{\text{upstream}},

the reverse-mode automatic differentiation of Rumelhart et al. (1986) that every deep learning
framework performs on tensors. The design follows Karpathy's micrograd.

See the book: Computational graphs and backpropagation.
"""

from __future__ import annotations

import math
import numbers
from typing import Union

from dlcourse._validate import check_real

__all__ = ["Value"]

Number = Union[int, float]


def _as_value(other: object, op: str) -> Value:
    """``other`` as a :class:`Value` (numbers become constants); a TypeError names the fix."""
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real) and not isinstance(other, bool):
        return Value(float(other))
    raise TypeError(
        f"{op} combines a Value with a Value or a real number, got {type(other).__name__} "
        f"{other!r}: wrap the number in Value(...) or pass an int or a float"
    )


class Value:
    r"""One scalar of a computational graph: its value, its gradient and how it was made.

    ``Value(2.0) * Value(3.0)`` builds a node ``*`` with two children; ``out.backward()`` fills
    ``grad`` (:math:`\partial\,\text{out} / \partial\,\text{node}`) of every node it depends on.
    Gradients accumulate, as PyTorch's ``.grad`` does: call :meth:`zero_grad` between steps.

    Attributes:
        data: the forward value, a float.
        grad: :math:`\partial L / \partial\,\text{this}` after ``L.backward()``, else 0.
        label: a name for drawings (``"x"``); empty by default.
        op: the operation that made this node (``"+"``, ``"tanh"``, ...; ``""`` for a leaf).
        children: the nodes it was computed from, in argument order.
        local_grads: :math:`\partial\,\text{this} / \partial\,\text{child}`, one per child.

    See the book: Computational graphs and backpropagation.
    """

    __slots__ = ("data", "grad", "label", "op", "children", "local_grads")

    def __init__(self, data: Number, label: str = "") -> None:
        """A leaf holding ``data`` (a finite real number), named ``label``."""
        self.data = check_real("data", data)
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: pass a name")
        self.label = label
        self.op = ""
        self.children: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    @classmethod
    def _node(
        cls, data: float, op: str, children: tuple[Value, ...], local_grads: tuple[float, ...]
    ) -> Value:
        """The output of ``op``: its value, its inputs and its local gradients."""
        if not math.isfinite(data):
            raise ValueError(f"{op} gave {data} (overflow): the inputs are too large for floats")
        out = cls(data)
        out.op, out.children, out.local_grads = op, children, local_grads
        return out

    def __repr__(self) -> str:
        name = f"label={self.label!r}, " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- arithmetic: each op's local gradients sit next to its forward value -------------------

    def __add__(self, other: Value | Number) -> Value:
        """:math:`a + b`; local gradients 1 and 1 (add distributes the upstream gradient)."""
        o = _as_value(other, "+")
        return Value._node(self.data + o.data, "+", (self, o), (1.0, 1.0))

    def __mul__(self, other: Value | Number) -> Value:
        """:math:`a b`; local gradients :math:`b` and :math:`a` (multiply swaps the inputs)."""
        o = _as_value(other, "*")
        return Value._node(self.data * o.data, "*", (self, o), (o.data, self.data))

    def __pow__(self, exponent: Number) -> Value:
        """:math:`a^k` for a constant :math:`k`; local gradient :math:`k a^{k-1}`."""
        if isinstance(exponent, Value):
            raise TypeError(
                "the exponent must be a constant int or float, got a Value: "
                "write (b * a.log()).exp() for a^b with both in the graph"
            )
        k = check_real("exponent", exponent)
        if self.data == 0 and k < 1:
            raise ValueError(f"0 ** {k} has no finite derivative: keep the base away from 0")
        if self.data < 0 and not k.is_integer():
            raise ValueError(
                f"{self.data} ** {k} is not real: a negative base needs an int exponent"
            )
        return Value._node(self.data**k, f"**{k:g}", (self,), (k * self.data ** (k - 1),))

    def __neg__(self) -> Value:
        r""":math:`-a`, as :math:`a \cdot (-1)`."""
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:
        """:math:`a - b = a + (-b)`."""
        return self + (-_as_value(other, "-"))

    def __truediv__(self, other: Value | Number) -> Value:
        r""":math:`a / b = a \cdot b^{-1}`; a zero divisor raises ValueError."""
        o = _as_value(other, "/")
        if o.data == 0:
            raise ValueError(
                "division by a Value of 0: the quotient and its gradient are "
                "undefined; keep the divisor away from 0"
            )
        return self * o**-1

    def __radd__(self, other: Number) -> Value:
        return _as_value(other, "+") + self

    def __rmul__(self, other: Number) -> Value:
        return _as_value(other, "*") * self

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other, "-") - self

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other, "/") / self

    # ---- functions --------------------------------------------------------------------------

    def exp(self) -> Value:
        """:math:`e^a`; local gradient :math:`e^a` (the output itself)."""
        if self.data > 709.0:
            raise ValueError(f"exp({self.data:g}) overflows a float: keep the input below 709")
        out = math.exp(self.data)
        return Value._node(out, "exp", (self,), (out,))

    def log(self) -> Value:
        r""":math:`\ln a` for :math:`a > 0`; local gradient :math:`1 / a`."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive input, got {self.data:g}")
        return Value._node(math.log(self.data), "log", (self,), (1.0 / self.data,))

    def tanh(self) -> Value:
        r""":math:`\tanh a`; local gradient :math:`1 - \tanh^2 a`."""
        t = math.tanh(self.data)
        return Value._node(t, "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        r""":math:`\sigma(a) = 1 / (1 + e^{-a})`; local gradient :math:`\sigma(a)(1-\sigma(a))`."""
        a = self.data  # the two branches avoid exp overflow for large |a|
        s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        return Value._node(s, "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        r""":math:`\max(0, a)`; local gradient 1 for :math:`a > 0`, else 0 (PyTorch's at 0)."""
        return Value._node(max(self.data, 0.0), "relu", (self,), (float(self.data > 0),))

    def max(self, other: Value | Number) -> Value:
        r""":math:`\max(a, b)`; the larger input gets local gradient 1, the other 0 (max routes).

        At a tie both get 1/2, as ``torch.maximum`` does.
        """
        o = _as_value(other, "max")
        if self.data == o.data:
            local = (0.5, 0.5)
        else:
            local = (1.0, 0.0) if self.data > o.data else (0.0, 1.0)
        return Value._node(max(self.data, o.data), "max", (self, o), local)

    # ---- backpropagation --------------------------------------------------------------------

    def topological_order(self) -> list[Value]:
        """Every node this one depends on, itself last, each after all of its children."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
        return order

    def backward(self, gradient: Number = 1.0) -> None:
        r"""Backpropagate: add :math:`\partial\,\text{self}/\partial\,\text{node}` to each ``grad``.

        Args:
            gradient: the upstream gradient of this node, :math:`\partial L / \partial\,
                \text{self}` (1 when this node is the loss itself).

        Nodes are visited in reverse topological order, so a node's gradient is complete (every
        path through it summed) before it is passed on to its children. Each call adds only its
        own gradients: calling it twice doubles every ``grad``, as PyTorch's accumulation does.
        """
        grads = {id(self): check_real("gradient", gradient)}
        for node in reversed(self.topological_order()):
            upstream = grads.get(id(node), 0.0)
            node.grad += upstream
            for child, local in zip(node.children, node.local_grads):
                grads[id(child)] = grads.get(id(child), 0.0) + local * upstream

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on this node and every node it depends on."""
        for node in self.topological_order():
            node.grad = 0.0

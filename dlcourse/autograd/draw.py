r"""Drawing a computational graph with matplotlib, laid out by depth (no graphviz needed).

Inputs stand on the left, the output on the right. A node shows its name, the operation that
made it, its forward value and its gradient; an edge from an input to an output shows the local
gradient :math:`\partial\,\text{out} / \partial\,\text{in}` and the upstream gradient
:math:`\partial L / \partial\,\text{out}`, whose product is the edge's share of
:math:`\partial L / \partial\,\text{in}`.

See the book: Computational graphs and backpropagation.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from dlcourse._validate import check_int
from dlcourse.autograd.engine import Value

__all__ = ["draw", "layout"]


def _fmt(x: float, digits: int) -> str:
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def layout(value: Value) -> dict[int, tuple[float, float]]:
    """Positions of the graph's nodes, keyed by ``id(node)``: ``x`` by depth, ``y`` within it.

    A node's column is the length of the longest path from it to ``value`` (the output is in the
    rightmost column, inputs to the left); nodes of one column are ordered by the mean height of
    the nodes they feed, so edges cross little, and spread one unit apart around it.

    Args:
        value: the graph's output.

    Returns:
        ``{id(node): (x, y)}`` for every node ``value`` depends on.

    See the book: Computational graphs and backpropagation.
    """
    if not isinstance(value, Value):
        raise TypeError(f"value must be a Value, got {type(value).__name__}: pass the output")
    order = value.topological_order()
    depth = {id(value): 0}
    for node in reversed(order):  # parents before children: the longest path to the output
        for child in node.children:
            depth[id(child)] = max(depth.get(id(child), 0), depth[id(node)] + 1)
    deepest = max(depth.values())
    parents: dict[int, list[int]] = {}
    for node in order:
        for child in node.children:
            parents.setdefault(id(child), []).append(id(node))
    pos: dict[int, tuple[float, float]] = {id(value): (float(deepest), 0.0)}
    for d in range(1, deepest + 1):
        column = [n for n in dict.fromkeys(id(n) for n in order) if depth[n] == d]
        column.sort(
            key=lambda n: (
                -sum(pos[p][1] for p in parents[n] if p in pos)
                / max(1, sum(p in pos for p in parents[n]))
            )
        )  # top to bottom
        for i, n in enumerate(column):
            pos[n] = (float(deepest - d), (len(column) - 1) / 2 - i)
    return pos


def _node_text(node: Value, digits: int, grads: bool) -> str:
    name = node.label or node.op or "const"
    head = f"{name} = {node.op}" if node.label and node.op else name
    text = f"{head}\ndata {_fmt(node.data, digits)}"
    return text + (f"\ngrad {_fmt(node.grad, digits)}" if grads else "")


def draw(value: Value, grads: bool = True, digits: int = 3, ax: Any = None) -> Figure:
    r"""Draw the computational graph of ``value``: forward values, gradients, local gradients.

    Args:
        value: the output node; call ``value.backward()`` first to show gradients.
        grads: show each node's ``grad`` and, on each edge, the local gradient
            :math:`\partial\,\text{out}/\partial\,\text{in}` and the upstream gradient
            :math:`\partial L/\partial\,\text{out}`; ``False`` shows the forward pass only.
        digits: significant digits of the numbers shown.
        ax: matplotlib axes to draw into; a new figure when ``None``.

    Returns:
        The figure holding the drawing.

    See the book: Computational graphs and backpropagation.
    """
    import matplotlib.pyplot as plt

    digits = check_int("digits", digits, min=1)
    pos = layout(value)
    if ax is None:
        width = max(xy[0] for xy in pos.values()) + 1
        height = max(abs(xy[1]) for xy in pos.values()) * 2 + 1
        fig = plt.figure(figsize=(2.6 * width + 1, 1.4 * height + 0.6), dpi=100)
        plt.close(fig)  # the caller owns it; pyplot neither keeps nor auto-displays it
        ax = fig.add_axes((0, 0, 1, 1))
    for node in value.topological_order():
        x, y = pos[id(node)]
        for k, (child, local) in enumerate(zip(node.children, node.local_grads)):
            cx, cy = pos[id(child)]
            ax.annotate(
                "",
                xy=(x - 0.33, y),
                xytext=(cx + 0.33, cy),
                arrowprops={"arrowstyle": "->", "color": "0.4"},
            )
            if grads:
                shift = 0.18 * k if child in node.children[:k] else 0.0  # x * x: two edges
                ax.text(
                    (x + cx) / 2,
                    (y + cy) / 2 + 0.08 + shift,
                    f"local {_fmt(local, digits)}\nupstream {_fmt(node.grad, digits)}",
                    ha="center",
                    va="bottom",
                    fontsize=7.5,
                    color="tab:red",
                )
        color = "#dbe9f6" if not node.children else "#f2f2f2"
        ax.text(
            x,
            y,
            _node_text(node, digits, grads),
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "fc": color, "ec": "0.3"},
        )
    xs = [xy[0] for xy in pos.values()]
    ys = [xy[1] for xy in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()
    return ax.figure

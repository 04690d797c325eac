"""A tiny scalar autograd engine, to see backpropagation happen one number at a time.

* :class:`Value` (:mod:`dlcourse.autograd.engine`): a scalar node with ``+ - * / **``, ``exp``,
  ``log``, ``tanh``, ``sigmoid``, ``relu`` and ``max``; each operation records its local
  gradients, and :meth:`Value.backward` applies the chain rule in reverse topological order;
* :func:`draw` and :func:`layout` (:mod:`dlcourse.autograd.draw`): the graph drawn with
  matplotlib, forward values on the nodes, local and upstream gradients on the edges.

The engine needs neither torch nor NumPy (the drawing needs matplotlib): PyTorch is its oracle
in the tests.

See the book: Computational graphs and backpropagation.
"""

from dlcourse.autograd.draw import draw, layout
from dlcourse.autograd.engine import Value

__all__ = ["Value", "draw", "layout"]

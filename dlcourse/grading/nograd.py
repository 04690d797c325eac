"""In-place fills outside ``torch.no_grad()``: the error an initializer meets on a layer's weight.

Read from the answer's source, never run; lab 1's checks use it to explain the ``RuntimeError``
before a student meets it. See the book: Weight initialization.
"""

from __future__ import annotations

import ast
import textwrap

__all__ = ["fills_outside_no_grad"]

_GRAD_OFF = ("no_grad", "inference_mode", "set_grad_enabled")


def _turns_grad_off(node: ast.AST) -> bool:
    """``torch.no_grad()`` or ``no_grad()``, ``inference_mode()``, ``set_grad_enabled(False)``."""
    call = node if isinstance(node, ast.Call) else None
    func = call.func if call else node
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name == "set_grad_enabled":
        return bool(
            call
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and call.args[0].value is False
        )
    return name in _GRAD_OFF


def _detached(receiver: ast.AST) -> bool:
    """``w.data`` and ``w.detach()`` share the weight's memory but are not tracked by autograd."""
    if isinstance(receiver, ast.Attribute) and receiver.attr == "data":
        return True
    return (
        isinstance(receiver, ast.Call)
        and isinstance(receiver.func, ast.Attribute)
        and receiver.func.attr == "detach"
    )


def fills_outside_no_grad(source: str) -> list[int]:
    """Lines of ``source`` that change a tensor in place (``t.normal_()``) while autograd records.

    An in-place method (a name ending in one underscore) on a weight that requires grad, such as a
    layer's ``nn.Parameter``, raises ``RuntimeError: a leaf Variable that requires grad is being
    used in an in-place operation`` unless it runs under ``torch.no_grad()`` (a ``with`` block or a
    decorator), ``torch.inference_mode()``, ``torch.set_grad_enabled(False)``, or on ``w.data`` /
    ``w.detach()``. This reads the code; it does not run it.

    Args:
        source: the source of one function.

    Returns:
        The line numbers (1-based) of in-place calls outside such a block; empty when none.

    See the book: Weight initialization.
    """
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return []
    lines: list[int] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            guarded = guarded or any(_turns_grad_off(d) for d in node.decorator_list)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            guarded = guarded or any(_turns_grad_off(item.context_expr) for item in node.items)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not guarded:
            method = node.func.attr
            inplace = (
                method.endswith("_") and not method.endswith("__") and not method.startswith("_")
            )
            if inplace and not _detached(node.func.value):
                lines.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return sorted(set(lines))

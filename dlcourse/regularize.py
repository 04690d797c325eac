r"""Weight penalties: L1 and L2, which parameters they cover, and L2 as SGD's weight decay.

A penalty is added to the data loss, :math:`J(\theta) = L(\theta) + \lambda\,\Omega(w)`, with

.. math::

    \Omega_{L2}(w) = \tfrac12 \sum_i w_i^2, \qquad \Omega_{L1}(w) = \sum_i |w_i| .

The factor :math:`\tfrac12` makes the L2 gradient :math:`\lambda w`, so one SGD step on
:math:`J` is

.. math::

    w \leftarrow w - \eta(\nabla L + \lambda w) = (1 - \eta\lambda)\,w - \eta\nabla L,

exactly ``torch.optim.SGD(..., weight_decay=λ)`` ("weight decay"). For adaptive optimizers such as
Adam the two differ: the penalty's gradient is divided by the running RMS of the gradients like
any other, whereas decoupled weight decay (AdamW; Loshchilov and Hutter, 2019) shrinks every
weight by the same factor :math:`1 - \eta\lambda`. L1's gradient :math:`\lambda\,\mathrm{sign}(w)`
has the same size for every weight, which pushes small weights to zero (sparsity), while L2
shrinks each weight in proportion to its size.

Only weights are penalized, not biases: a bias does not multiply an input, so shrinking it does not
make the function smoother, and :func:`penalized` skips it.

See the book: Regularization.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from dlcourse._validate import check_real

__all__ = ["l1_penalty", "l2_penalty", "penalized"]


def penalized(model: nn.Module | Iterable[Tensor], include_bias: bool = False) -> list[Tensor]:
    """The parameters a weight penalty covers: every weight of ``model``, not its biases.

    Args:
        model: a module (its ``named_parameters`` ending in ``bias`` are skipped unless
            ``include_bias``), or an iterable of tensors, all used as given.
        include_bias: penalize biases too (rarely wanted).

    Returns:
        The list of tensors to penalize.

    Raises:
        TypeError: ``model`` is neither a module nor an iterable of tensors.

    See the book: Regularization.
    """
    if isinstance(model, nn.Module):
        return [
            p
            for name, p in model.named_parameters()
            if include_bias or not name.rsplit(".", 1)[-1].startswith("bias")
        ]
    if isinstance(model, Tensor):
        return [model]
    params = list(model) if isinstance(model, Iterable) else None
    if params is None or not all(isinstance(p, Tensor) for p in params):
        raise TypeError(
            "model must be an nn.Module or an iterable of tensors (its weights), "
            f"got {type(model).__name__}"
        )
    return params


def _total(terms: Iterable[Tensor]) -> Tensor:
    """The sum of scalar tensors (a float32 zero when there are none)."""
    total: Tensor | None = None
    for term in terms:
        total = term if total is None else total + term
    return torch.zeros(()) if total is None else total


def l2_penalty(
    model: nn.Module | Iterable[Tensor], weight_decay: float, include_bias: bool = False
) -> Tensor:
    r"""The L2 penalty :math:`\frac{\lambda}{2}\sum_i w_i^2` over the weights of ``model``.

    Added to the loss, its gradient is :math:`\lambda w`: with plain SGD the same as
    ``torch.optim.SGD(..., weight_decay=λ)``.

    Args:
        model: a module (biases skipped, see :func:`penalized`) or an iterable of tensors.
        weight_decay: :math:`\lambda \ge 0`.
        include_bias: penalize biases too.

    Returns:
        A scalar tensor that autograd can differentiate.

    See the book: Regularization.
    """
    lam = check_real("weight_decay", weight_decay, min=0.0)
    params = penalized(model, include_bias)
    return 0.5 * lam * _total(p.pow(2).sum() for p in params)


def l1_penalty(
    model: nn.Module | Iterable[Tensor], weight_decay: float, include_bias: bool = False
) -> Tensor:
    r"""The L1 penalty :math:`\lambda\sum_i |w_i|` over the weights of ``model``.

    Its (sub)gradient :math:`\lambda\,\mathrm{sign}(w)` has the same size for every weight, which
    drives small weights to zero: L1 makes weights sparse where L2 only shrinks them.

    Args:
        model: a module (biases skipped, see :func:`penalized`) or an iterable of tensors.
        weight_decay: :math:`\lambda \ge 0`.
        include_bias: penalize biases too.

    Returns:
        A scalar tensor that autograd can differentiate.

    See the book: Regularization.
    """
    lam = check_real("weight_decay", weight_decay, min=0.0)
    params = penalized(model, include_bias)
    return lam * _total(p.abs().sum() for p in params)

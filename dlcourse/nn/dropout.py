r"""Dropout in its two forms: inverted (PyTorch's) and classic (the lectures' and the paper's).

During training each unit is kept with probability :math:`q` and zeroed otherwise, with an
independent mask :math:`m_i \sim \mathrm{Bernoulli}(q)` per unit and per sample. The two forms
differ only in *where* the factor :math:`q` goes, so that a unit's expected contribution to the
next layer is the same in training and at test time:

.. math::

    \text{inverted:}\quad y = \frac{m \odot x}{q} \text{ in training},\ y = x \text{ at test};
    \qquad
    \text{classic:}\quad y = m \odot x \text{ in training},\ y = q\,x \text{ at test}.

Both give :math:`\mathbb E[y_\text{train}] = y_\text{test}`. The lecture texts and the literature
name the probability differently: PyTorch's and Keras's ``p``/``rate`` is the *drop* probability
:math:`1 - q`, while Srivastava et al. (2014) and the first lecture text call the *keep*
probability :math:`p`. Here the argument names say which one is meant: :class:`Dropout` takes
``p``, the drop probability, exactly like :class:`torch.nn.Dropout`; :class:`ClassicDropout` takes
``keep_prob``.

Masks are drawn on the CPU from ``generator`` (the global generator when ``None``) and moved to the
input's device, so a seeded model gives the same masks on any device.

See the book: Regularization.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from dlcourse._validate import check_generator, check_real, check_tensor

__all__ = ["ClassicDropout", "Dropout", "classic_dropout", "dropout", "keep_mask"]


def keep_mask(
    shape: torch.Size | tuple[int, ...], keep_prob: float, generator: torch.Generator | None = None
) -> Tensor:
    r"""A float mask of ones (kept units) and zeros, each one with probability ``keep_prob``.

    :math:`m_i = [u_i < q]` with :math:`u_i \sim \mathcal U[0, 1)` drawn on the CPU.

    Args:
        shape: the mask's shape (that of the activations).
        keep_prob: :math:`q \in [0, 1]`, the probability that a unit is kept.
        generator: a seeded CPU ``torch.Generator``, or ``None`` for the global one.

    Returns:
        A float32 CPU tensor of 0.0 and 1.0.

    See the book: Regularization.
    """
    keep_prob = check_real("keep_prob", keep_prob, min=0.0, max=1.0)
    check_generator("generator", generator)
    return (torch.rand(tuple(shape), generator=generator) < keep_prob).float()


def _masked(input: Tensor, keep_prob: float, generator: torch.Generator | None) -> Tensor:
    mask = keep_mask(input.shape, keep_prob, generator).to(device=input.device, dtype=input.dtype)
    return input * mask


def dropout(
    input: Tensor, p: float = 0.5, training: bool = True, generator: torch.Generator | None = None
) -> Tensor:
    r"""Inverted dropout with *drop* probability ``p``, as :func:`torch.nn.functional.dropout`.

    In training, :math:`y = m \odot x / (1 - p)` with :math:`m_i \sim \mathrm{Bernoulli}(1 - p)`;
    otherwise :math:`y = x`. With ``p = 1`` every unit is dropped and the output is zero.

    Args:
        input: the activations, any shape.
        p: the probability of *dropping* a unit, in [0, 1] (PyTorch's and Keras's convention).
        training: apply the mask; ``False`` returns ``input`` unchanged.
        generator: a seeded CPU ``torch.Generator`` for the mask, or ``None``.

    Returns:
        A new tensor of the input's shape.

    See the book: Regularization.
    """
    check_tensor("input", input, floating=True)
    p = check_real("p", p, min=0.0, max=1.0)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return torch.zeros_like(input)
    return _masked(input, 1.0 - p, generator) / (1.0 - p)


def classic_dropout(
    input: Tensor,
    keep_prob: float = 0.5,
    training: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""The lectures' dropout: keep each unit with probability ``keep_prob``, scale at test time.

    In training, :math:`y = m \odot x` with :math:`m_i \sim \mathrm{Bernoulli}(q)`; at test time
    :math:`y = q\,x`, which is the same as the first lecture text's "replace the weights
    :math:`w` with :math:`p w`" for the next layer (Srivastava et al., 2014).

    Args:
        input: the activations, any shape.
        keep_prob: :math:`q \in (0, 1]`, the probability of *keeping* a unit (the paper's
            :math:`p`).
        training: apply the mask; ``False`` multiplies by ``keep_prob``.
        generator: a seeded CPU ``torch.Generator`` for the mask, or ``None``.

    Returns:
        A new tensor of the input's shape.

    See the book: Regularization.
    """
    check_tensor("input", input, floating=True)
    keep_prob = check_real("keep_prob", keep_prob, min=0.0, max=1.0, min_open=True)
    if not training:
        return input * keep_prob
    if keep_prob == 1.0:
        return input
    return _masked(input, keep_prob, generator)


class Dropout(nn.Module):
    r"""Inverted dropout, a drop-in for :class:`torch.nn.Dropout` with a seeded generator.

    Training: :math:`y = m \odot x / (1 - p)`, :math:`m_i \sim \mathrm{Bernoulli}(1 - p)`;
    evaluation (``model.eval()``): :math:`y = x`. See :func:`dropout`.

    Args:
        p: the probability of *dropping* a unit, in [0, 1]; default 0.5 (the lectures' "typically
            set at 50%").
        generator: a seeded CPU ``torch.Generator`` for the masks, or ``None`` for the global one.

    See the book: Regularization.
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = check_real("p", p, min=0.0, max=1.0)
        self.generator = check_generator("generator", generator)

    def forward(self, input: Tensor) -> Tensor:
        """Drop and rescale in training mode; the identity in eval mode."""
        return dropout(input, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        """``p=0.5``, as :class:`torch.nn.Dropout` prints it."""
        return f"p={self.p}"


class ClassicDropout(nn.Module):
    r"""The lectures' dropout: keep with probability ``keep_prob`` in training, scale at test.

    Training: :math:`y = m \odot x`, :math:`m_i \sim \mathrm{Bernoulli}(q)`; evaluation:
    :math:`y = q\,x`. See :func:`classic_dropout`.

    Args:
        keep_prob: :math:`q \in (0, 1]`, the probability of *keeping* a unit; default 0.5.
        generator: a seeded CPU ``torch.Generator`` for the masks, or ``None`` for the global one.

    See the book: Regularization.
    """

    def __init__(self, keep_prob: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.keep_prob = check_real("keep_prob", keep_prob, min=0.0, max=1.0, min_open=True)
        self.generator = check_generator("generator", generator)

    def forward(self, input: Tensor) -> Tensor:
        """Drop in training mode; multiply by ``keep_prob`` in eval mode."""
        return classic_dropout(input, self.keep_prob, self.training, self.generator)

    def extra_repr(self) -> str:
        """``keep_prob=0.5``."""
        return f"keep_prob={self.keep_prob}"

r"""Activation modules named and shaped like :mod:`torch.nn`'s, plus maxout.

Each elementwise module runs its function from :mod:`dlcourse.nn.functional` forward and *its own
derivative* backward (a :class:`torch.autograd.Function`), so a model built from these modules
trains with the course's derivatives, and the gradient checks test them. Class names match
PyTorch's (``ReLU``, ``LeakyReLU``...), which is also how :mod:`dlcourse.probes` recognises them.

:class:`Maxout` (Goodfellow et al., 2013) is a layer, not an elementwise function: it owns
:math:`k` affine maps and keeps the largest, :math:`\max_j (w_j^\top x + b_j)`.

See the book: Activation functions.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor, nn

from dlcourse._validate import check_int
from dlcourse.nn import functional as F

__all__ = ["ELU", "GELU", "LeakyReLU", "Maxout", "ReLU", "SELU", "Sigmoid", "Tanh"]

Fn = Callable[[Tensor], Tensor]


class _Elementwise(torch.autograd.Function):
    """``y = f(x)`` forward, ``dL/dx = f'(x) · dL/dy`` backward, with the given ``f`` and ``f'``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, f: Fn, df: Fn) -> Tensor:
        ctx.save_for_backward(x)
        ctx.df = df
        return f(x)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        return grad_output * ctx.df(x), None, None


class _Activation(nn.Module):
    """An elementwise activation: subclasses define ``_f`` (function) and ``_df`` (derivative)."""

    def _f(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _df(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation elementwise; its backward pass multiplies by the derivative."""
        return _Elementwise.apply(x, self._f, self._df)


class Sigmoid(_Activation):
    r""":math:`\sigma(x) = 1/(1+e^{-x})`, backward :math:`\sigma(1-\sigma)`.

    See the book: Activation functions.
    """

    def _f(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)

    def _df(self, x: Tensor) -> Tensor:
        return F.sigmoid_grad(x)


class Tanh(_Activation):
    r""":math:`\tanh x`, backward :math:`1 - \tanh^2 x`.

    See the book: Activation functions.
    """

    def _f(self, x: Tensor) -> Tensor:
        return F.tanh(x)

    def _df(self, x: Tensor) -> Tensor:
        return F.tanh_grad(x)


class ReLU(_Activation):
    r""":math:`\max(0, x)`, backward 1 for :math:`x > 0`.

    See the book: Activation functions.
    """

    def _f(self, x: Tensor) -> Tensor:
        return F.relu(x)

    def _df(self, x: Tensor) -> Tensor:
        return F.relu_grad(x)


class LeakyReLU(_Activation):
    r""":math:`\max(a x, x)` with ``negative_slope`` :math:`0 \le a < 1` (checked at construction).

    See the book: Activation functions.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        F.leaky_relu(torch.zeros(1), negative_slope)  # validates the slope now, not at forward
        self.negative_slope = float(negative_slope)

    def _f(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def _df(self, x: Tensor) -> Tensor:
        return F.leaky_relu_grad(x, self.negative_slope)

    def extra_repr(self) -> str:
        """The arguments shown by ``repr``."""
        return f"negative_slope={self.negative_slope}"


class ELU(_Activation):
    r""":math:`x` for :math:`x>0`, :math:`\alpha(e^x-1)` below.

    See the book: Activation functions.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        F.elu(torch.zeros(1), alpha)  # validates alpha
        self.alpha = float(alpha)

    def _f(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def _df(self, x: Tensor) -> Tensor:
        return F.elu_grad(x, self.alpha)

    def extra_repr(self) -> str:
        """The arguments shown by ``repr``."""
        return f"alpha={self.alpha}"


class SELU(_Activation):
    r""":math:`\lambda\,\mathrm{ELU}_\alpha(x)`, Klambauer et al.

    See the book: Activation functions.
    """

    def _f(self, x: Tensor) -> Tensor:
        return F.selu(x)

    def _df(self, x: Tensor) -> Tensor:
        return F.selu_grad(x)


class GELU(_Activation):
    r""":math:`x\,\Phi(x)` (``approximate="none"`` or ``"tanh"``).

    See the book: Activation functions.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        F.gelu(torch.zeros(1), approximate)  # validates approximate
        self.approximate = approximate

    def _f(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def _df(self, x: Tensor) -> Tensor:
        return F.gelu_grad(x, self.approximate)

    def extra_repr(self) -> str:
        """The arguments shown by ``repr``."""
        return f"approximate={self.approximate!r}"


class Maxout(nn.Module):
    r"""Maxout units: :math:`y_i = \max_{j=1..k} \big(W_{ij} x + b_{ij}\big)` with ``pieces`` = k.

    Goodfellow et al. (2013). Each output unit owns :math:`k` affine pieces and outputs the largest,
    a convex piecewise-linear function of :math:`x` that it learns. ReLU is the special case
    :math:`k = 2` with one piece fixed at 0; the price is :math:`k` times the parameters. The
    gradient flows only into the winning piece of each unit.

    Args:
        in_features: size of each input sample.
        out_features: number of maxout units.
        pieces: :math:`k \ge 2`, the affine pieces per unit.
        bias: learn the biases :math:`b_{ij}`.

    Attributes:
        linear: one :class:`torch.nn.Linear` with ``out_features * pieces`` outputs; unit ``i``'s
            pieces are rows ``i*k`` to ``i*k + k - 1``.

    See the book: Activation functions.
    """

    def __init__(
        self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True
    ) -> None:
        super().__init__()
        check_int("in_features", in_features, min=1)
        check_int("out_features", out_features, min=1)
        check_int("pieces", pieces, min=2)
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        """``(..., in_features) -> (..., out_features)``: the largest piece of each unit."""
        z = self.linear(x)  # (..., out * k)
        z = z.view(*z.shape[:-1], self.out_features, self.pieces)  # (..., out, k)
        return z.amax(dim=-1)  # (..., out)

    def extra_repr(self) -> str:
        """The arguments shown by ``repr``."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"pieces={self.pieces}"
        )

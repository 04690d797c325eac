r"""Activation functions and their derivatives, written from scratch.

Each activation :math:`f` comes with its derivative :math:`f'`, named ``<name>_grad``: the factor
the chain rule multiplies an upstream gradient by, :math:`\partial L/\partial x = f'(x)\,
\partial L/\partial f`. The functions mirror :mod:`torch.nn.functional` (names, arguments and the
value of the derivative at the kinks: ``relu_grad(0) = 0``, ``leaky_relu_grad(0) = a``), and the
tests check values and derivatives against PyTorch's autograd in float64.

See the book: Activation functions.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from dlcourse._validate import check_choice, check_real, check_tensor

__all__ = [
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "relu",
    "relu_grad",
    "selu",
    "selu_grad",
    "sigmoid",
    "sigmoid_grad",
    "tanh",
    "tanh_grad",
]

#: SELU's constants (Klambauer et al., 2017), as in :class:`torch.nn.SELU`.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_GELU_C = math.sqrt(2.0 / math.pi)


def sigmoid(x: Tensor) -> Tensor:
    r"""The logistic sigmoid :math:`\sigma(x) = 1/(1 + e^{-x})`, squashing into :math:`(0, 1)`.

    Computed as :math:`e^{x}/(1 + e^{x})` for :math:`x < 0`, so that no :math:`e^{-x}` overflows.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    # exp of a non-positive number never overflows; clamp (not abs) keeps autograd right at 0
    e_pos, e_neg = torch.exp(-x.clamp(min=0.0)), torch.exp(x.clamp(max=0.0))
    return torch.where(x >= 0, 1.0 / (1.0 + e_pos), e_neg / (1.0 + e_neg))


def sigmoid_grad(x: Tensor) -> Tensor:
    r"""The derivative :math:`\sigma'(x) = \sigma(x)\,(1 - \sigma(x))`, at most 1/4 (at 0).

    It tends to 0 for large :math:`|x|`: a saturated unit passes almost no gradient back.

    See the book: Activation functions.
    """
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: Tensor) -> Tensor:
    r"""The hyperbolic tangent :math:`\tanh x = 2\sigma(2x) - 1`, zero-centred, in :math:`(-1, 1)`.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    return 2.0 * sigmoid(2.0 * x) - 1.0


def tanh_grad(x: Tensor) -> Tensor:
    r"""The derivative :math:`\tanh'(x) = 1 - \tanh^2 x`, 1 at 0 and 0 when saturated.

    See the book: Activation functions.
    """
    t = tanh(x)
    return 1.0 - t * t


def relu(x: Tensor) -> Tensor:
    r"""The rectified linear unit :math:`\max(0, x)`.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    return torch.where(x > 0, x, torch.zeros_like(x))


def relu_grad(x: Tensor) -> Tensor:
    r"""The derivative of ReLU: 1 for :math:`x > 0`, else 0 (PyTorch's choice at 0).

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    return (x > 0).to(x.dtype)


def _check_slope(negative_slope: float) -> float:
    slope = check_real("negative_slope", negative_slope)
    if not 0.0 <= slope < 1.0:
        raise ValueError(
            f"negative_slope must be in [0, 1), got {negative_slope!r}: leaky ReLU is "
            "max(a·x, x) only for a < 1. At a = 1 it is the identity, a linear unit (a stack of "
            "linear units is one linear map); for a > 1 max(a·x, x) is a·x for x > 0 and x for "
            "x < 0, a different function from x for x > 0, a·x for x < 0; a < 0 makes it |x|-like. "
            "Typical slopes are 0.01 and 0.1"
        )
    return slope


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r"""Leaky ReLU :math:`\max(a x, x)`: :math:`x` for :math:`x \ge 0`, :math:`a x` below.

    Maas et al. (2013). The small slope :math:`0 \le a < 1` keeps a gradient :math:`a` for negative
    inputs, so a unit that is pushed below zero on every example can still recover.

    Raises:
        ValueError: ``negative_slope`` outside :math:`[0, 1)`, where :math:`\max(ax, x)` is no
            longer a leaky ReLU.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    slope = _check_slope(negative_slope)
    return torch.where(x >= 0, x, slope * x)


def leaky_relu_grad(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    r"""The derivative of leaky ReLU: 1 for :math:`x > 0`, :math:`a` otherwise (as PyTorch, at 0).

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    slope = _check_slope(negative_slope)
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, slope))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    r"""The exponential linear unit: :math:`x` for :math:`x > 0`, :math:`\alpha(e^x - 1)` below.

    Clevert et al. (2015). Negative outputs down to :math:`-\alpha` pull the mean activation
    towards 0, and the curve is smooth at 0 when :math:`\alpha = 1`.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    a = check_real("alpha", alpha, min=0.0, min_open=True)
    return torch.where(x > 0, x, a * torch.expm1(torch.clamp(x, max=0.0)))


def elu_grad(x: Tensor, alpha: float = 1.0) -> Tensor:
    r"""The derivative of ELU: 1 for :math:`x > 0`, :math:`\alpha e^x` otherwise.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    a = check_real("alpha", alpha, min=0.0, min_open=True)
    return torch.where(x > 0, torch.ones_like(x), a * torch.exp(torch.clamp(x, max=0.0)))


def selu(x: Tensor) -> Tensor:
    r"""The scaled ELU :math:`\lambda\,\mathrm{ELU}_\alpha(x)`, :math:`\lambda \approx 1.0507`.

    Here :math:`\alpha \approx 1.6733`.
    Klambauer et al. (2017) chose the constants so that, with LeCun-normal weights, activations
    keep mean 0 and variance 1 from layer to layer.

    See the book: Activation functions.
    """
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x: Tensor) -> Tensor:
    r"""The derivative of SELU: :math:`\lambda` for :math:`x > 0`, :math:`\lambda\alpha e^x` below.

    See the book: Activation functions.
    """
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


def _normal_cdf_pdf(x: Tensor) -> tuple[Tensor, Tensor]:
    cdf = 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
    pdf = torch.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return cdf, pdf


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    r"""The Gaussian error linear unit :math:`x\,\Phi(x)` (Hendrycks and Gimpel, 2016).

    With ``approximate="tanh"``:
    :math:`\tfrac12 x \big(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715 x^3))\big)`, as PyTorch.

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    check_choice("approximate", approximate, ("none", "tanh"))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + tanh(_GELU_C * (x + 0.044715 * x**3)))
    return x * _normal_cdf_pdf(x)[0]


def gelu_grad(x: Tensor, approximate: str = "none") -> Tensor:
    r"""The derivative of GELU: :math:`\Phi(x) + x\,\varphi(x)` (or that of the tanh form).

    See the book: Activation functions.
    """
    check_tensor("x", x, floating=True)
    check_choice("approximate", approximate, ("none", "tanh"))
    if approximate == "tanh":
        t = tanh(_GELU_C * (x + 0.044715 * x**3))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * x * x)
    cdf, pdf = _normal_cdf_pdf(x)
    return cdf + x * pdf

r"""Weight initializers written from scratch, with :mod:`torch.nn.init`'s signatures and semantics.

Every initializer fills its tensor in place, returns the same tensor object, and takes a
``generator=``. Given generators seeded alike, each produces bit-identical values to its
``torch.nn.init`` namesake, so a student's code transfers to PyTorch unchanged.
:func:`lecun_normal_` has no PyTorch namesake.

See the book: Weight initialization.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch

from dlcourse._fans import FanMode, calculate_fan_in_and_fan_out, calculate_gain, fan
from dlcourse._validate import check_generator, check_real, check_tensor

__all__ = [
    "calculate_gain",
    "calculate_fan_in_and_fan_out",
    "zeros_",
    "constant_",
    "normal_",
    "uniform_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "lecun_normal_",
]


def _check_tensor(tensor: object, floating: bool = True) -> torch.Tensor:
    return check_tensor("tensor", tensor, floating=floating)


def _draw_(
    tensor: torch.Tensor,
    dist: Literal["normal", "uniform"],
    p: float,
    q: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Fill ``tensor`` from N(p, q²) or U(p, q) with the tensor's own in-place sampler.

    Using ``Tensor.normal_``/``Tensor.uniform_`` (not a formula of our own) is what makes the
    values bit-identical to ``torch.nn.init``'s. When the generator lives elsewhere (a CUDA tensor,
    a CPU generator) we draw on the generator's device and copy in, so the course's CPU-seeded
    numbers are the same whatever device the weights live on.
    """
    check_generator("generator", generator)
    with torch.no_grad():
        target = tensor
        if generator is not None and generator.device != tensor.device:
            # empty_like keeps the strides, so a transposed weight gets its draws in the
            # same order as the in-place CPU draw would give it.
            target = torch.empty_like(tensor, device=generator.device)
        if dist == "normal":
            target.normal_(p, q, generator=generator)
        else:
            target.uniform_(p, q, generator=generator)
        if target is not tensor:
            tensor.copy_(target)
    return tensor


def _is_empty(tensor: torch.Tensor) -> bool:
    # A zero-size dimension makes a fan zero; torch warns and returns rather than divide by it.
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def zeros_(tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Fill ``tensor`` with :math:`0` in place (the usual start for biases).

    Args:
        tensor: any tensor.
        generator: accepted and unused (nothing is random), so that every initializer here can be
            called as ``init(weight, generator=...)``, as :func:`dlcourse.nn.mlp` does.

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    check_generator("generator", generator)
    with torch.no_grad():
        return _check_tensor(tensor, floating=False).zero_()


def constant_(
    tensor: torch.Tensor, val: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with the constant :math:`\text{val}` in place.

    Args:
        tensor: any tensor.
        val: the value to fill it with.
        generator: accepted and unused, as in :func:`zeros_`.

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization (a constant weight never breaks the symmetry).
    """
    _check_tensor(tensor, floating=False)
    check_generator("generator", generator)
    if not isinstance(val, bool):  # True/False fill a bool mask, as in torch
        check_real("val", val, finite=False)
    with torch.no_grad():
        return tensor.fill_(val)


def normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` in place with draws from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Args:
        tensor: a floating-point tensor.
        mean: the mean of the normal distribution.
        std: its standard deviation, :math:`\ge 0`.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization (the seeds' ``0.01 * randn`` demo).
    """
    _check_tensor(tensor)
    check_real("mean", mean)
    check_real("std", std, min=0.0)
    return _draw_(tensor, "normal", mean, std, generator)


def uniform_(
    tensor: torch.Tensor,
    a: float = 0.0,
    b: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` in place with draws from :math:`\mathcal{U}(a, b)`.

    Args:
        tensor: a floating-point tensor.
        a: the lower bound.
        b: the upper bound, :math:`\ge a`.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    _check_tensor(tensor)
    check_real("a", a)
    check_real("b", b)
    if a > b:
        raise ValueError(f"uniform_ needs a <= b, got a={a!r} > b={b!r} — swap them")
    return _draw_(tensor, "uniform", a, b, generator)


def xavier_uniform_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` in place with Xavier (Glorot) uniform draws :math:`\mathcal{U}(-r, r)`.

    .. math::
        r = \text{gain} \cdot \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}

    which gives the variance :math:`\text{gain}^2 \cdot 2 / (\text{fan\_in} + \text{fan\_out})`.
    Glorot, X. & Bengio, Y. (2010), *Understanding the difficulty of training deep feedforward
    neural networks*, AISTATS.

    Args:
        tensor: a floating-point weight, ``(out_features, in_features, *kernel)``.
        gain: a scaling factor, e.g. ``calculate_gain("tanh")``.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    std = _xavier_std(tensor, gain)
    if std is None:
        return tensor
    # Same operation order as torch (std first, then sqrt(3)) so the bound matches to the last bit.
    bound = math.sqrt(3.0) * std
    return _draw_(tensor, "uniform", -bound, bound, generator)


def xavier_normal_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` in place with Xavier (Glorot) normal draws :math:`\mathcal{N}(0, \sigma^2)`.

    .. math::
        \sigma = \text{gain} \cdot \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    Glorot, X. & Bengio, Y. (2010), *Understanding the difficulty of training deep feedforward
    neural networks*, AISTATS.

    Args:
        tensor: a floating-point weight, ``(out_features, in_features, *kernel)``.
        gain: a scaling factor, e.g. ``calculate_gain("tanh")``.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    std = _xavier_std(tensor, gain)
    if std is None:
        return tensor
    return _draw_(tensor, "normal", 0.0, std, generator)


def _xavier_std(tensor: torch.Tensor, gain: float) -> float | None:
    """Glorot's σ = gain·√(2/(fan_in + fan_out)), arguments checked; None for an empty tensor."""
    _check_tensor(tensor)
    check_real("gain", gain, min=0.0)
    if _is_empty(tensor):
        return None
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def _kaiming_std(tensor: torch.Tensor, a: float, mode: FanMode, nonlinearity: str) -> float:
    check_real("a", a)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan(tensor, mode))


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: FanMode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` in place with Kaiming (He) uniform draws :math:`\mathcal{U}(-b, b)`.

    .. math::
        b = \text{gain} \cdot \sqrt{\frac{3}{\text{fan\_mode}}}

    He, K., Zhang, X., Ren, S. & Sun, J. (2015), *Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification*, ICCV.

    Args:
        tensor: a floating-point weight, ``(out_features, in_features, *kernel)``.
        a: the negative slope of the leaky ReLU after this layer (used with ``"leaky_relu"``).
        mode: ``"fan_in"`` keeps the forward variance, ``"fan_out"`` the backward one.
        nonlinearity: a name :func:`calculate_gain` knows. The default ``"leaky_relu"`` with
            ``a=0`` gives :math:`\sqrt{2}`, the ReLU gain, exactly as in PyTorch.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    _check_tensor(tensor)
    if _is_empty(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _draw_(tensor, "uniform", -bound, bound, generator)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: FanMode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` in place with Kaiming (He) normal draws :math:`\mathcal{N}(0, \sigma^2)`.

    .. math::
        \sigma = \frac{\text{gain}}{\sqrt{\text{fan\_mode}}}

    He, K., Zhang, X., Ren, S. & Sun, J. (2015), *Delving Deep into Rectifiers: Surpassing
    Human-Level Performance on ImageNet Classification*, ICCV.

    Args:
        tensor: a floating-point weight, ``(out_features, in_features, *kernel)``.
        a: the negative slope of the leaky ReLU after this layer (used with ``"leaky_relu"``).
        mode: ``"fan_in"`` keeps the forward variance, ``"fan_out"`` the backward one.
        nonlinearity: a name :func:`calculate_gain` knows. The default ``"leaky_relu"`` with
            ``a=0`` gives :math:`\sqrt{2}`, the ReLU gain, exactly as in PyTorch.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    _check_tensor(tensor)
    if _is_empty(tensor):
        return tensor
    return _draw_(tensor, "normal", 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def lecun_normal_(tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Fill ``tensor`` in place with LeCun normal draws :math:`\mathcal{N}(0, 1/\text{fan\_in})`.

    .. math::
        \sigma = \frac{1}{\sqrt{\text{fan\_in}}}

    This is the lecture's ``np.random.randn(Din, Dout) / np.sqrt(Din)`` ("Xavier with fan_in
    only"). LeCun, Y., Bottou, L., Orr, G. & Müller, K.-R. (1998), *Efficient BackProp*.
    PyTorch has no such function; it equals ``kaiming_normal_(w, nonlinearity="linear")``.

    Args:
        tensor: a floating-point weight, ``(out_features, in_features, *kernel)``.
        generator: the :class:`torch.Generator` to draw from (``None``: the global one).

    Returns:
        ``tensor`` itself.

    See the book: Weight initialization.
    """
    _check_tensor(tensor)
    if _is_empty(tensor):
        return tensor
    fan_in, _ = calculate_fan_in_and_fan_out(tensor)
    return _draw_(tensor, "normal", 0.0, 1.0 / math.sqrt(fan_in), generator)

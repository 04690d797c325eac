r"""Model builders for the demos and labs: an MLP, the lecture's 100-layer stack, a small CNN.

Every builder takes ``init`` (how weights start) and ``generator`` (where the random numbers come
from), so the same seed builds the same model on any machine:

* ``init=None`` keeps PyTorch's default, :math:`W \sim U(-1/\sqrt{n_{in}}, 1/\sqrt{n_{in}})`
  (``kaiming_uniform_`` with ``a=sqrt(5)``), drawn from ``generator`` when one is given;
* ``init="xavier_normal"`` / ``"xavier_uniform"``: Glorot & Bengio (2010),
  :math:`\mathrm{Var}(W) = 2 / (n_{in} + n_{out})` (gain 1, the paper's);
* ``init="kaiming_normal"`` / ``"kaiming_uniform"``: He et al. (2015),
  :math:`\mathrm{Var}(W) = 2 / ((1 + a^2) n_{in})`, with ``a`` the leaky ReLU slope of the model's
  activation (0 for every other activation);
* ``init="lecun_normal"``: LeCun et al. (1998), :math:`\mathrm{Var}(W) = 1 / n_{in}`;
* or a callable ``init(weight, generator=None)`` that fills ``weight`` in place (or returns a
  tensor of its shape), with :mod:`torch.nn.init`'s signature: every ``torch.nn.init`` and
  :mod:`dlcourse.init` initializer fits, and so does ``lambda w, generator=None: ...``.

When ``init`` is given, biases start at zero (the lecture: "it's safe to initialize the biases to
zero"). The named initializers are :mod:`dlcourse.init`'s.

See the book: Weight initialization.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar, Union, get_args

import torch
from torch import Tensor, nn

from dlcourse import init as dlinit
from dlcourse._validate import check_callable, check_int, check_real
from dlcourse.nn.activations import ActivationSpec, get_activation

__all__ = ["INIT_NAMES", "InitSpec", "deep_stack", "init_module_", "mlp", "small_cnn"]

InitName = Literal["xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform",
                   "lecun_normal"]
#: The named initializers, each :mod:`dlcourse.init`'s function of that name with a trailing ``_``.
INIT_NAMES: tuple[str, ...] = get_args(InitName)
#: ``None`` (PyTorch's default), an init name, or a callable ``(weight, generator=None) -> weight``.
InitSpec = Union[InitName, Callable[..., Tensor], None]
Initializer = Callable[[Tensor, Union[torch.Generator, None]], object]
_M = TypeVar("_M", bound=nn.Module)
_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_INIT_HELP = ("None (PyTorch's default), one of {names}, or a callable "
              "init(weight, generator=None) such as dlcourse.init.xavier_normal_")


def _check_user_init(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """Check once that ``fn`` can be called as ``fn(weight, generator=...)``; return it."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: trust it
        return fn
    try:
        signature.bind(None, generator=None)
    except TypeError:
        raise TypeError(
            f"init={fn!r} takes {signature}, but an init callable is called as "
            "init(weight, generator=generator): add a generator parameter and draw from it, e.g. "
            "lambda w, generator=None: w.normal_(0, 0.01, generator=generator)") from None
    return fn


def _call_user_init(fn: Callable[..., Tensor], weight: Tensor, gen: torch.Generator | None) -> None:
    """Call ``fn(weight, generator=gen)``; a returned new tensor is copied into ``weight``."""
    out = fn(weight, generator=gen)
    if isinstance(out, Tensor) and out is not weight:
        if out.shape != weight.shape:
            raise ValueError(f"init callable returned shape {tuple(out.shape)}, "
                             f"expected {tuple(weight.shape)}")
        weight.copy_(out)


def _initializer(init: InitSpec, activation: nn.Module | None) -> Initializer | None:
    """Check ``init`` once and turn it into ``f(weight, generator)``.

    Kaiming reads its leaky ReLU slope from ``activation``.
    """
    names = ", ".join(repr(n) for n in INIT_NAMES)
    if init is None:
        return None
    if not isinstance(init, str):
        user_init = _check_user_init(check_callable("init", init, _INIT_HELP.format(names=names)))
        return lambda w, g: _call_user_init(user_init, w, g)
    if init not in INIT_NAMES:
        raise ValueError(f"init={init!r} is unknown; use " + _INIT_HELP.format(names=names))
    # He et al. derived the gain for (leaky) ReLU; other activations keep nonlinearity="relu".
    slope = float(activation.negative_slope) if isinstance(activation, nn.LeakyReLU) else 0.0
    nonlinearity = "leaky_relu" if slope else "relu"
    table: dict[str, Initializer] = {
        "xavier_normal": lambda w, g: dlinit.xavier_normal_(w, gain=1.0, generator=g),
        "xavier_uniform": lambda w, g: dlinit.xavier_uniform_(w, gain=1.0, generator=g),
        "kaiming_normal": lambda w, g: dlinit.kaiming_normal_(
            w, a=slope, mode="fan_in", nonlinearity=nonlinearity, generator=g),
        "kaiming_uniform": lambda w, g: dlinit.kaiming_uniform_(
            w, a=slope, mode="fan_in", nonlinearity=nonlinearity, generator=g),
        "lecun_normal": lambda w, g: dlinit.lecun_normal_(w, generator=g),
    }
    return table[init]


def _normal(std: float) -> Initializer:
    """``w ~ N(0, std^2)`` drawn from the generator: ``deep_stack``'s ``weight_std``."""

    def fill(w: Tensor, g: torch.Generator | None) -> None:
        w.normal_(0.0, std, generator=g)

    return fill


def _torch_default_(weight: Tensor, bias: Tensor | None, gen: torch.Generator) -> None:
    """PyTorch's own ``reset_parameters`` for Linear/Conv, but drawing from ``gen``."""
    nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=gen)
    if bias is not None:
        fan_in = weight.shape[1] * math.prod(weight.shape[2:])
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        nn.init.uniform_(bias, -bound, bound, generator=gen)


def init_module_(module: _M, init: InitSpec = None,
                 generator: torch.Generator | None = None,
                 activation: nn.Module | None = None) -> _M:
    """Initialize every Linear and Conv layer of ``module`` in place, in ``modules()`` order.

    Args:
        module: any model.
        init: ``None``, a name from :data:`INIT_NAMES`, or a callable (see the module docstring).
        generator: the CPU generator all weights are drawn from (``None``: the global one).
        activation: the model's activation module; Kaiming uses its leaky ReLU slope.

    Returns:
        ``module``. With ``init`` given, biases are zero.

    See the book: Weight initialization.
    """
    return _apply_init_(module, _initializer(init, activation), generator)


def _apply_init_(module: _M, fn: Initializer | None, generator: torch.Generator | None) -> _M:
    """Fill every Linear/Conv weight with ``fn`` (biases zero), or PyTorch's default.

    ``fn`` comes checked from :func:`_initializer`; without it, a ``generator`` redraws PyTorch's
    default initialization from that generator.
    """
    with torch.no_grad():
        for layer in module.modules():
            if not isinstance(layer, _LAYERS):
                continue
            weight, bias = layer.weight, layer.bias
            if fn is not None:
                fn(weight, generator)
                if bias is not None:
                    bias.zero_()
            elif generator is not None:
                _torch_default_(weight, bias, generator)
    return module


def _fills_every_weight(init: InitSpec, generator: torch.Generator | None) -> bool:
    """True when our own init overwrites every weight and bias.

    Then PyTorch's default draw can be skipped; a user callable might not fill anything
    (``lambda w, generator=None: w``), so its layers start from the default.
    """
    return isinstance(init, str) or (init is None and generator is not None)


def _layer(cls: type, *args: int, skip: bool, **kwargs: object) -> nn.Module:
    # skip_init builds on the meta device: no wasted default draw when we initialize right after.
    return nn.utils.skip_init(cls, *args, **kwargs) if skip else cls(*args, **kwargs)


def mlp(in_features: int, out_features: int, width: int = 64, depth: int = 2,
        activation: ActivationSpec = "relu", init: InitSpec = None, bias: bool = True,
        norm: Callable[[int], nn.Module] | None = None, dropout: float = 0.0,
        generator: torch.Generator | None = None) -> nn.Sequential:
    """A multilayer perceptron: ``depth`` hidden layers of ``width`` units, then a Linear output.

    Each hidden layer is ``Linear -> [norm(width)] -> activation -> [Dropout(dropout)]``; the
    identity activation adds no module, and Dropout appears only when ``dropout > 0``.

    Args:
        in_features: input size (>= 1).
        out_features: output size (>= 1).
        width: units per hidden layer (>= 1).
        depth: number of hidden layers (>= 0).
        activation: a name or factory, see :func:`dlcourse.nn.get_activation`.
        init: how weights start, see the module docstring.
        bias: whether Linear layers have biases.
        norm: a callable ``width -> nn.Module`` such as ``nn.BatchNorm1d``, or ``None``.
        dropout: drop probability in [0, 1).
        generator: the seeded CPU generator for every weight.

    Returns:
        An :class:`torch.nn.Sequential`.

    See the book: Weight initialization.
    """
    check_int("in_features", in_features, min=1)
    check_int("out_features", out_features, min=1)
    check_int("width", width, min=1)
    check_int("depth", depth, min=0)
    check_real("dropout", dropout, min=0.0, max=1.0, max_open=True)
    if norm is not None:
        check_callable("norm", norm, "None or a callable width -> nn.Module, e.g. nn.BatchNorm1d")
    act = get_activation(activation)
    fn = _initializer(init, act)  # checks init before anything is built
    skip = _fills_every_weight(init, generator)
    layers: list[nn.Module] = []
    fan_in = in_features
    for _ in range(depth):
        layers.append(_layer(nn.Linear, fan_in, width, skip=skip, bias=bias))
        if norm is not None:
            layers.append(norm(width))
        if not isinstance(act, nn.Identity):
            layers.append(get_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        fan_in = width
    layers.append(_layer(nn.Linear, fan_in, out_features, skip=skip, bias=bias))
    return _apply_init_(nn.Sequential(*layers), fn, generator)


def deep_stack(depth: int = 100, width: int = 512, activation: ActivationSpec = None,
               weight_std: float | None = None, init: InitSpec = None, bias: bool = False,
               generator: torch.Generator | None = None) -> nn.Sequential:
    r"""The lecture's deep network: ``depth`` x (``Linear(width, width)`` -> activation).

    With ``weight_std`` every weight is drawn from :math:`N(0, \sigma^2)` with
    :math:`\sigma` = ``weight_std`` (the lecture tries 1, 0.01 and :math:`1/\sqrt{512}`). One layer
    multiplies the activation variance by :math:`n_{in}\,\sigma^2`, so after ``depth`` layers of the
    identity activation the signal scales by :math:`(n_{in}\sigma^2)^{depth/2}`: it explodes for
    :math:`\sigma = 1` and vanishes for :math:`\sigma = 0.01`.

    Args:
        depth: number of layers (>= 1).
        width: units per layer (>= 1).
        activation: a name or factory; ``None`` means no activation (no module is added).
        weight_std: standard deviation of the weights (>= 0; 0 is the all-zero pitfall), or
            ``None``.
        init: used when ``weight_std`` is ``None``, as in :func:`mlp`; give at most one of the two.
        bias: whether layers have biases (the lecture's have none).
        generator: the seeded CPU generator for every weight.

    Returns:
        An :class:`torch.nn.Sequential`; 100 x 512 x 512 builds in a fraction of a second.

    See the book: Weight initialization.
    """
    check_int("depth", depth, min=1)
    check_int("width", width, min=1)
    if weight_std is not None and init is not None:
        raise ValueError("give either weight_std or init, not both")
    act = get_activation(activation)
    fn = _initializer(init, act)  # checks init before anything is built
    skip = weight_std is not None or _fills_every_weight(init, generator)
    if weight_std is not None:
        fn = _normal(check_real("weight_std", weight_std, min=0.0))
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers.append(_layer(nn.Linear, width, width, skip=skip, bias=bias))
        if not isinstance(act, nn.Identity):
            layers.append(get_activation(activation))
    return _apply_init_(nn.Sequential(*layers), fn, generator)


def small_cnn(in_channels: int = 1, num_classes: int = 10, channels: Sequence[int] = (16, 32),
              image_size: int = 8, activation: ActivationSpec = "relu", init: InitSpec = None,
              generator: torch.Generator | None = None) -> nn.Sequential:
    r"""A small CNN for 8x8 digits: conv blocks, then ``Flatten -> Linear`` to the logits.

    Each entry of ``channels`` adds a block ``Conv2d(3x3, padding 1) -> act -> MaxPool2d(2)``.

    For conv layers the fan-in is :math:`k^2 \cdot C_{in}` (the lecture: "D_in is
    kernel_size^2 * input_channels"), which :mod:`dlcourse.init` uses for every named scheme.

    Args:
        in_channels: image channels.
        num_classes: output logits.
        channels: output channels of each conv block (at least one).
        image_size: input height = width; each block halves it (floor), and it must stay >= 1.
        activation: as in :func:`mlp`.
        init: as in :func:`mlp`.
        generator: as in :func:`mlp`.

    Returns:
        An :class:`torch.nn.Sequential` mapping ``(N, in_channels, S, S)`` to ``(N, num_classes)``.

    See the book: Weight initialization.
    """
    check_int("in_channels", in_channels, min=1)
    check_int("num_classes", num_classes, min=1)
    check_int("image_size", image_size, min=1)
    channels = tuple(channels)
    if not channels:
        raise ValueError("channels must name at least one conv block, e.g. (16, 32)")
    for c in channels:
        check_int("each entry of channels", c, min=1)
    size = image_size
    for _ in channels:
        size //= 2
    if size < 1:
        raise ValueError(f"image_size={image_size} is too small for {len(channels)} pooling "
                         f"blocks; it needs at least {2 ** len(channels)}")
    act = get_activation(activation)
    fn = _initializer(init, act)
    skip = _fills_every_weight(init, generator)
    layers: list[nn.Module] = []
    c_in = in_channels
    for c_out in channels:
        layers.append(_layer(nn.Conv2d, c_in, c_out, skip=skip, kernel_size=3, padding=1))
        if not isinstance(act, nn.Identity):
            layers.append(get_activation(activation))
        layers.append(nn.MaxPool2d(2))
        c_in = c_out
    layers.append(nn.Flatten())  # (N, C, s, s) -> (N, C*s*s)
    layers.append(_layer(nn.Linear, c_in * size * size, num_classes, skip=skip))
    return _apply_init_(nn.Sequential(*layers), fn, generator)

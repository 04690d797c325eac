"""Activation modules by name, so model builders and widgets can say ``activation="tanh"``.

The names are the lecture's: identity (no activation, the "linear" network of the 100-layer demo),
sigmoid, tanh, ReLU, leaky ReLU (slope 0.01), ELU, SELU and GELU. Each name maps to the ``torch.nn``
module of the same name, so a model built here is an ordinary PyTorch model.

See the book: Weight initialization (and the chapter on activation functions).
"""

from __future__ import annotations

from typing import Callable, Union

from torch import nn

__all__ = ["ACTIVATIONS", "ActivationSpec", "get_activation"]

#: An activation given by name, by a zero-argument callable returning a module (``nn.Tanh``), or
#: ``None`` for no activation.
ActivationSpec = Union[str, Callable[[], nn.Module], None]

#: name -> zero-argument factory. Leaky ReLU uses PyTorch's default negative slope, 0.01.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity,
    "linear": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(negative_slope=0.01),
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
}

def get_activation(name: ActivationSpec) -> nn.Module:
    """Return a fresh activation module for ``name``.

    Args:
        name: one of ``"identity"``/``"linear"``/``None`` (no activation:
            :class:`torch.nn.Identity`),
            ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"`` (slope 0.01), ``"elu"``,
            ``"selu"``, ``"gelu"`` (case-insensitive); or a zero-argument callable returning a
            module, such as the class ``nn.Tanh`` or ``lambda: nn.LeakyReLU(0.2)``.

    Returns:
        A new :class:`torch.nn.Module`; each call returns a distinct instance, so every layer of a
        model has its own activation module (which is what :mod:`dlcourse.probes` hooks onto).

    Raises:
        ValueError: unknown name.
        TypeError: a module instance (pass its class instead) or a callable that does not return a
            module.

    See the book: Weight initialization.
    """
    if name is None:
        return nn.Identity()
    if isinstance(name, str):
        factory = ACTIVATIONS.get(name.lower())
        if factory is None:
            allowed = ", ".join(repr(k) for k in ACTIVATIONS)
            raise ValueError(f"activation={name!r} is unknown; use one of {allowed}, None, "
                             "or a zero-argument callable returning an nn.Module")
        return factory()
    if isinstance(name, nn.Module):
        raise TypeError(f"activation={name!r} is a module instance; pass its class "
                        f"(nn.{type(name).__name__}) or a zero-argument callable, so that each "
                        "layer gets its own module")
    if callable(name):
        module = name()
        if not isinstance(module, nn.Module):
            raise TypeError(f"activation callable returned {type(module).__name__}, "
                            "expected an nn.Module")
        return module
    raise TypeError(f"activation must be a name, None or a callable, got {type(name).__name__}")


r"""The update:data ratio, cs231n's check of the learning rate.

:func:`snapshot` copies the parameters before ``optimizer.step()``; :func:`update_to_data_ratio`
then gives :math:`\lVert \Delta\theta \rVert / \lVert \theta \rVert` per parameter, which should
be about :math:`10^{-3}` per step for a healthy learning rate.

See the book: Weight initialization.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

__all__ = ["snapshot", "update_to_data_ratio"]


def snapshot(model: nn.Module) -> dict[str, Tensor]:
    """Detached copies of every parameter, keyed by ``named_parameters()`` name.

    Take one before ``optimizer.step()`` and pass it to :func:`update_to_data_ratio` after.
    """
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def update_to_data_ratio(model: nn.Module, before: dict[str, Tensor]) -> dict[str, float]:
    r"""The update:data ratio of each parameter in ``before``.

    The ratio is
    :math:`\lVert \theta_{now} - \theta_{before} \rVert_2 / \lVert \theta_{before} \rVert_2`.

    cs231n's rule of thumb: about :math:`10^{-3}`; much lower means the learning rate is too
    small, much higher too large. A parameter that starts at zero (a zero-initialised bias) gives
    ``inf`` once it moves and 0 while it does not.

    Args:
        model: the model after the update.
        before: the :func:`snapshot` taken before it.

    Returns:
        ``{name: ratio}`` as Python floats, in ``before``'s order.

    See the book: Weight initialization.
    """
    params = dict(model.named_parameters())
    ratios: dict[str, float] = {}
    for name, old in before.items():
        if name not in params:
            raise ValueError(f"before has {name!r}, which is not a parameter of the model; "
                             "take it with snapshot(model)")
        new = params[name].detach()
        if new.shape != old.shape:
            raise ValueError(f"{name}: shape {tuple(new.shape)} != snapshot {tuple(old.shape)}")
        update = (new.double() - old.to(new.device).double()).norm().item()
        data = old.double().norm().item()
        ratios[name] = update / data if data > 0 else (math.inf if update > 0 else 0.0)
    return ratios

r"""The lecture's hard cases for a linear classifier: 2-D, two classes, seeded.

* :func:`quadrants` — class 1 in the first and third quadrants, class 0 in the second and fourth
  (the XOR pattern);
* :func:`ring` — class 1 where :math:`1 \le \lVert x \rVert_2 \le 2`, class 0 everywhere else;
* :func:`three_modes` — class 1 around three centres, class 0 everywhere else.

No straight line separates any of them; a small MLP with a non-linear activation does. Each
function returns ``(X, y)``: ``X`` of shape ``(n, 2)`` (float32, points in :math:`[-3, 3]^2`) and
``y`` of shape ``(n,)`` (int64 labels 0/1). Labels come from the rule, not from noise, so an
accuracy of 100 % is reachable.

See the book: Activation functions.
"""

from __future__ import annotations

import torch
from torch import Tensor

from dlcourse._validate import check_int, check_real

__all__ = ["HARD_CASES", "MODE_CENTRES", "quadrants", "ring", "three_modes"]

#: The three modes' centres (class 1 within ``radius`` of one of them).
MODE_CENTRES = ((-1.5, -1.0), (1.5, -1.0), (0.0, 1.6))


def _points(n: int, seed: int, low: float = -3.0, high: float = 3.0) -> Tensor:
    check_int("n", n, min=1)
    check_int("seed", seed)
    g = torch.Generator(device="cpu").manual_seed(seed)
    return low + (high - low) * torch.rand(n, 2, generator=g)  # (n, 2), uniform in the square


def quadrants(n: int = 512, seed: int = 0) -> tuple[Tensor, Tensor]:
    r"""Opposite quadrants: :math:`y = 1` when :math:`x_1 x_2 > 0`.

    Args:
        n: number of points, drawn uniformly in :math:`[-3, 3]^2`.
        seed: seeds the draw.

    Returns:
        ``(X, y)``, shapes ``(n, 2)`` and ``(n,)``.

    See the book: Activation functions.
    """
    X = _points(n, seed)
    return X, (X[:, 0] * X[:, 1] > 0).long()


def ring(
    n: int = 512, seed: int = 0, inner: float = 1.0, outer: float = 2.0
) -> tuple[Tensor, Tensor]:
    r"""A ring: :math:`y = 1` when :math:`\text{inner} \le \lVert x \rVert_2 \le \text{outer}`.

    Args:
        n: number of points, drawn uniformly in :math:`[-3, 3]^2`.
        seed: seeds the draw.
        inner: the inner radius (lecture: 1).
        outer: the outer radius (lecture: 2), larger than ``inner``.

    Returns:
        ``(X, y)``, shapes ``(n, 2)`` and ``(n,)``.

    See the book: Activation functions.
    """
    r_in = check_real("inner", inner, min=0.0)
    r_out = check_real("outer", outer, min=r_in, min_open=True)
    X = _points(n, seed)
    norm = X.norm(dim=1)
    return X, ((norm >= r_in) & (norm <= r_out)).long()


def three_modes(n: int = 512, seed: int = 0, radius: float = 0.9) -> tuple[Tensor, Tensor]:
    r"""Three modes: :math:`y = 1` within ``radius`` of one of :data:`MODE_CENTRES`.

    Args:
        n: number of points, drawn uniformly in :math:`[-3, 3]^2`.
        seed: seeds the draw.
        radius: the radius of each mode (> 0).

    Returns:
        ``(X, y)``, shapes ``(n, 2)`` and ``(n,)``.

    See the book: Activation functions.
    """
    rad = check_real("radius", radius, min=0.0, min_open=True)
    X = _points(n, seed)
    centres = torch.tensor(MODE_CENTRES, dtype=X.dtype)  # (3, 2)
    distance = torch.cdist(X, centres)  # (n, 3)
    return X, (distance.min(dim=1).values <= rad).long()


#: name -> generator, in the lecture's order.
HARD_CASES = {"quadrants": quadrants, "ring": ring, "three modes": three_modes}

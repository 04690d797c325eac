"""Optimizers and learning-rate schedules written from scratch, mirroring :mod:`torch.optim`.

See the book: Optimizers, and Learning-rate schedules.
"""

__all__: list[str] = []

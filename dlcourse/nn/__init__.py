"""Neural-network building blocks that mirror :mod:`torch.nn`.

Activations by name, model builders, and dropout in its inverted and classic forms.

See the book: Weight initialization; Regularization.
"""

from dlcourse.nn.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcourse.nn.builders import INIT_NAMES, InitSpec, deep_stack, init_module_, mlp, small_cnn
from dlcourse.nn.dropout import ClassicDropout, Dropout, classic_dropout, dropout, keep_mask

__all__ = [
    "ACTIVATIONS",
    "ActivationSpec",
    "ClassicDropout",
    "Dropout",
    "INIT_NAMES",
    "InitSpec",
    "classic_dropout",
    "deep_stack",
    "dropout",
    "get_activation",
    "init_module_",
    "keep_mask",
    "mlp",
    "small_cnn",
]

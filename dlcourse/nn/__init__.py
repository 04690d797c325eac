"""Neural-network building blocks that mirror :mod:`torch.nn`.

Activations by name, model builders, batch normalization from scratch and its folding into the
previous layer.

See the book: Weight initialization; Batch normalization.
"""

from dlcourse.nn.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcourse.nn.batchnorm import BatchNorm1d, BatchNorm2d, BatchNormFunction, batch_norm
from dlcourse.nn.builders import INIT_NAMES, InitSpec, deep_stack, init_module_, mlp, small_cnn
from dlcourse.nn.fuse import fuse

__all__ = [
    "ACTIVATIONS",
    "ActivationSpec",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormFunction",
    "INIT_NAMES",
    "InitSpec",
    "batch_norm",
    "deep_stack",
    "fuse",
    "get_activation",
    "init_module_",
    "mlp",
    "small_cnn",
]

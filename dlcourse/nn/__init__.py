"""Neural-network building blocks that mirror :mod:`torch.nn`.

Activations by name, model builders, batch normalization from scratch and its folding into the
previous layer, and dropout in its inverted and classic forms.

See the book: Weight initialization; Batch normalization; Regularization.
"""

from dlcourse.nn.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcourse.nn.batchnorm import BatchNorm1d, BatchNorm2d, BatchNormFunction, batch_norm
from dlcourse.nn.builders import INIT_NAMES, InitSpec, deep_stack, init_module_, mlp, small_cnn
from dlcourse.nn.clip import clip_grad_norm_, clip_grad_value_
from dlcourse.nn.dropout import ClassicDropout, Dropout, classic_dropout, dropout, keep_mask
from dlcourse.nn.fuse import fuse

__all__ = [
    "ACTIVATIONS",
    "ActivationSpec",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormFunction",
    "ClassicDropout",
    "Dropout",
    "INIT_NAMES",
    "InitSpec",
    "batch_norm",
    "classic_dropout",
    "clip_grad_norm_",
    "clip_grad_value_",
    "deep_stack",
    "dropout",
    "fuse",
    "get_activation",
    "init_module_",
    "keep_mask",
    "mlp",
    "small_cnn",
]

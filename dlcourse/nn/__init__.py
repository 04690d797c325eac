"""Neural-network building blocks that mirror :mod:`torch.nn`.

* :mod:`dlcourse.nn.functional` — activation functions and their derivatives (``sigmoid``,
  ``sigmoid_grad``, ``leaky_relu``, ``elu``, ``selu``, ``gelu``...);
* :mod:`dlcourse.nn.layers` — the same as modules (``ReLU``, ``LeakyReLU``, ``ELU``...) whose
  backward pass uses those derivatives, and :class:`Maxout`;
* :mod:`dlcourse.nn.activations` — torch activation modules by name (``get_activation``);
* :mod:`dlcourse.nn.builders` — ``mlp``, ``deep_stack``, ``small_cnn``;
* :mod:`dlcourse.nn.batchnorm`, :mod:`dlcourse.nn.fuse` — batch normalization from scratch, and
  its folding into the previous layer;
* :mod:`dlcourse.nn.dropout` — dropout in its inverted and classic forms;
* :mod:`dlcourse.nn.clip` — gradient clipping by value and by norm.

See the book: Weight initialization; Activation functions; Batch normalization; Regularization.
"""

from dlcourse.nn.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcourse.nn.batchnorm import BatchNorm1d, BatchNorm2d, BatchNormFunction, batch_norm
from dlcourse.nn.builders import INIT_NAMES, InitSpec, deep_stack, init_module_, mlp, small_cnn
from dlcourse.nn.clip import clip_grad_norm_, clip_grad_value_
from dlcourse.nn.dropout import ClassicDropout, Dropout, classic_dropout, dropout, keep_mask
from dlcourse.nn.fuse import fuse
from dlcourse.nn.layers import ELU, GELU, SELU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh

__all__ = [
    "ACTIVATIONS",
    "ActivationSpec",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNormFunction",
    "ClassicDropout",
    "Dropout",
    "ELU",
    "GELU",
    "INIT_NAMES",
    "InitSpec",
    "LeakyReLU",
    "Maxout",
    "ReLU",
    "SELU",
    "Sigmoid",
    "Tanh",
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

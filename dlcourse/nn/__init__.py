"""Neural-network building blocks that mirror :mod:`torch.nn`: activations, model builders.

* :mod:`dlcourse.nn.functional` — activation functions and their derivatives (``sigmoid``,
  ``sigmoid_grad``, ``leaky_relu``, ``elu``, ``selu``, ``gelu``...);
* :mod:`dlcourse.nn.layers` — the same as modules (``ReLU``, ``LeakyReLU``, ``ELU``...) whose
  backward pass uses those derivatives, and :class:`Maxout`;
* :mod:`dlcourse.nn.activations` — torch activation modules by name (``get_activation``);
* :mod:`dlcourse.nn.builders` — ``mlp``, ``deep_stack``, ``small_cnn``.

See the book: Weight initialization, and Activation functions.
"""

from dlcourse.nn.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcourse.nn.builders import INIT_NAMES, InitSpec, deep_stack, init_module_, mlp, small_cnn
from dlcourse.nn.layers import ELU, GELU, SELU, LeakyReLU, Maxout, ReLU, Sigmoid, Tanh

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "LeakyReLU",
    "Maxout",
    "ReLU",
    "SELU",
    "Sigmoid",
    "Tanh",
    "ActivationSpec",
    "INIT_NAMES",
    "InitSpec",
    "deep_stack",
    "get_activation",
    "init_module_",
    "mlp",
    "small_cnn",
]

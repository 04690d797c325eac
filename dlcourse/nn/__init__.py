"""Neural-network building blocks that mirror :mod:`torch.nn`: activations by name, model builders.

See the book: Weight initialization.
"""

from dlcourse.nn.activations import ACTIVATIONS, ActivationSpec, get_activation
from dlcourse.nn.builders import INIT_NAMES, InitSpec, deep_stack, init_module_, mlp, small_cnn
from dlcourse.nn.clip import clip_grad_norm_, clip_grad_value_

__all__ = [
    "ACTIVATIONS",
    "ActivationSpec",
    "INIT_NAMES",
    "InitSpec",
    "clip_grad_norm_",
    "clip_grad_value_",
    "deep_stack",
    "get_activation",
    "init_module_",
    "mlp",
    "small_cnn",
]

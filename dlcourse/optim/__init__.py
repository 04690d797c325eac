"""Optimizers and learning-rate schedules written from scratch, mirroring :mod:`torch.optim`.

See the book: Optimizers, and Learning-rate schedules.
"""

from dlcourse.optim import lr_scheduler
from dlcourse.optim.adagrad import Adagrad
from dlcourse.optim.adam import Adam
from dlcourse.optim.adamax import Adamax
from dlcourse.optim.nadam import NAdam
from dlcourse.optim.rmsprop import RMSprop
from dlcourse.optim.sgd import SGD

__all__: list[str] = ["SGD", "Adagrad", "Adam", "Adamax", "NAdam", "RMSprop", "lr_scheduler"]

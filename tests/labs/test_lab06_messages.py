"""Lab 6's public checks, in-process: the library passes them and each mistake gets its hint.

The lab's early-stopping rule is also checked against ``dlcourse.train``'s.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from dlcourse.grading import open_lab
from dlcourse.grading.check import run_check
from dlcourse.labs.lab06_regularization import reference_stopping
from dlcourse.nn import classic_dropout as lib_classic
from dlcourse.nn import dropout as lib_dropout
from dlcourse.regularize import l2_penalty as lib_l2
from dlcourse.train import EarlyStopping, fit


@pytest.fixture(autouse=True)
def lab():
    open_lab("lab06_regularization")


def inverted_dropout(x, p, training=True, generator=None):
    return lib_dropout(x, p, training, generator)


def classic_dropout(x, keep_prob, training=True, generator=None):
    return lib_classic(x, keep_prob, training, generator)


def l2_penalty(params, weight_decay):
    return lib_l2([v for k, v in params.items() if not k.endswith("bias")], weight_decay)


def _renamed(func, name):
    func.__name__ = name
    return func


@pytest.mark.parametrize(
    "function, question, phrase",
    [
        (inverted_dropout, "q1", None),
        (classic_dropout, "q2", None),
        (l2_penalty, "q3", None),
        (
            _renamed(
                lambda x, p, training=True, generator=None: (
                    lib_dropout(x, p, training, generator) * (1 - p) / p if training else x
                ),
                "inverted_dropout",
            ),
            "q1",
            "divided by p",
        ),
        (
            _renamed(
                lambda x, p, training=True, generator=None: lib_dropout(x, p, True, generator),
                "inverted_dropout",
            ),
            "q1",
            "still active",
        ),
        (
            _renamed(
                lambda x, k, training=True, generator=None: lib_dropout(
                    x, 1 - k, training, generator
                ),
                "classic_dropout",
            ),
            "q2",
            "that is inverted dropout",
        ),
        (
            _renamed(
                lambda params, weight_decay: lib_l2(list(params.values()), weight_decay),
                "l2_penalty",
            ),
            "q3",
            "biases are penalized",
        ),
    ],
)
def test_library_passes_and_mistakes_get_their_hint(function, question, phrase):
    result, _ = run_check(question, function)
    if phrase is None:
        assert result.status == "passed", result.message
    else:
        assert result.status == "failed" and phrase in result.message, result.message


@pytest.mark.parametrize("patience", [1, 2, 4])
def test_reference_stopping_is_the_library_rule(patience):
    losses = [1.0, 0.8, 0.8, 0.9, 0.7, 0.75, 0.72, 0.71, 0.74, 0.9, 0.95]

    class Replay(nn.Module):
        """A model whose validation loss follows ``losses``, epoch by epoch."""

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(()))
            self.epoch = 0

        def forward(self, X):
            if not self.training:
                self.epoch += 1
                return torch.full((len(X), 1), losses[self.epoch - 1]) + 0 * self.w
            return self.w * X

    model = Replay()
    X, y = torch.ones(4, 1), torch.zeros(4, 1)
    history = fit(
        model,
        (X, y),
        loss_fn=lambda y_hat, t: y_hat.mean(),
        epochs=len(losses),
        valid=(X, y),
        early_stopping=EarlyStopping(patience=patience),
    )
    assert (history.epochs_run, history.best_epoch) == reference_stopping(losses, patience)

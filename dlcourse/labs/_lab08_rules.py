r"""Lab 8's optimizers as plain NumPy rules: the bowl they run on, PyTorch's paths, known mistakes.

A *rule* is ``(p, g, state, t, lr) -> (p, state)`` on float64 arrays, ``t`` counting from 0. The
lab's bowl is :math:`f(p) = \tfrac12 \sum_i a_i (p_i - c_i)^2` with curvatures ``CURVATURE``; the
gradient is computed here, never by student code. :data:`MISTAKES` maps, per question, a hint to
the rule that makes that mistake. See the book: Optimizers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = ["CURVATURE", "MISTAKES", "START", "Rule", "grad_at", "run_rule", "torch_path"]

CURVATURE = np.array([0.5, 4.0, 0.05])
CENTER = np.array([1.0, -0.5, 2.0])
START = np.array([-2.0, 1.0, -3.0])
Rule = Callable[[np.ndarray, np.ndarray, list, int, float], tuple[np.ndarray, list]]


def grad_at(p: np.ndarray) -> np.ndarray:
    r"""The bowl's gradient :math:`a \odot (p - c)`."""
    return CURVATURE * (p - CENTER)


def _initial_state(question: str) -> list:
    return [None] if question == "q1" else [np.zeros(3)] * (1 if question == "q2" else 2)


def run_rule(rule: Rule, question: str, steps: int, lr_at: Callable[[int], float]) -> np.ndarray:
    """Run a rule from :data:`START` for ``steps`` steps; the visited points, ``(steps + 1, 3)``."""
    p, state, path = START.copy(), _initial_state(question), [START.copy()]
    for t in range(steps):
        p, state = rule(p, grad_at(p), state, t, lr_at(t))
        path.append(np.asarray(p, dtype=np.float64).copy())
    return np.stack(path)


def torch_path(
    question: str, steps: int, lr_at: Callable[[int], float], **hyper: Any
) -> np.ndarray:
    """The same run with :mod:`torch.optim` (SGD, RMSprop or Adam) in float64."""
    p = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    make = {"q1": torch.optim.SGD, "q2": torch.optim.RMSprop, "q3": torch.optim.Adam}[question]
    opt = make([p], lr=lr_at(0), **hyper)
    path = [START.copy()]
    for t in range(steps):
        opt.param_groups[0]["lr"] = lr_at(t)
        p.grad = torch.as_tensor(grad_at(p.detach().numpy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.stack(path)


# ----------------------------------------------------------------------- known mistakes


def _velocity(momentum: float = 0.9, nesterov: bool = False) -> Rule:
    """The lecture's form: m = βm − lr·g, p += m (agrees with PyTorch only for a constant lr)."""

    def rule(p, g, state, t, lr):
        m = -lr * g if state[0] is None else momentum * state[0] - lr * g
        return p + (momentum * m - lr * g if nesterov else m), [m]

    return rule


def _ema(momentum: float = 0.9, nesterov: bool = False) -> Rule:
    """An average b = βb + (1 − β)g instead of PyTorch's sum."""

    def rule(p, g, state, t, lr):
        b = g.copy() if state[0] is None else momentum * state[0] + (1 - momentum) * g
        return p - lr * (g + momentum * b if nesterov else b), [b]

    return rule


def _no_nesterov(momentum: float = 0.9, nesterov: bool = False) -> Rule:
    """Nesterov ignored: always p −= lr·b."""

    def rule(p, g, state, t, lr):
        b = g.copy() if state[0] is None else momentum * state[0] + g
        return p - lr * b, [b]

    return rule


def _rms(inside: bool = False, no_sqrt: bool = False, swapped: bool = False) -> Callable[..., Rule]:
    def make(alpha: float = 0.99, eps: float = 1e-8) -> Rule:
        def rule(p, g, state, t, lr):
            a = 1 - alpha if swapped else alpha
            s = a * state[0] + (1 - a) * g * g
            denom = s + eps if no_sqrt else (np.sqrt(s + eps) if inside else np.sqrt(s) + eps)
            return p - lr * g / denom, [s]

        return rule

    return make


def _adam(
    correct_m: bool = True, correct_v: bool = True, inside: bool = False
) -> Callable[..., Rule]:
    def make(betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> Rule:
        b1, b2 = betas

        def rule(p, g, state, t, lr):
            m = b1 * state[0] + (1 - b1) * g
            v = b2 * state[1] + (1 - b2) * g * g
            m_hat = m / (1 - b1 ** (t + 1)) if correct_m else m
            v_hat = v / (1 - b2 ** (t + 1)) if correct_v else v
            denom = np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps
            return p - lr * m_hat / denom, [m, v]

        return rule

    return make


#: question -> {hint naming the mistake: the rule that makes it}
MISTAKES: dict[str, dict[str, Callable[..., Rule]]] = {
    "q1": {
        "this is the lecture's velocity form m = βm − lr·g, p += m; it agrees with PyTorch only "
        "while lr is constant: keep lr out of the buffer (buf = momentum·buf + grad) and "
        "multiply by lr in the step": _velocity,
        "the buffer is an average, buf = momentum·buf + (1 − momentum)·grad; PyTorch's buffer is "
        "a sum, buf = momentum·buf + grad": _ema,
        "nesterov=True is ignored: with Nesterov the step uses "
        "grad + momentum·buf, not buf": _no_nesterov,
    },
    "q2": {
        "eps is inside the square root; PyTorch divides by sqrt(square_avg) + eps": _rms(
            inside=True
        ),
        "the square root is missing: divide by sqrt(square_avg) + eps": _rms(no_sqrt=True),
        "alpha and 1 − alpha are swapped: square_avg = alpha·square_avg + (1 − alpha)·grad²": _rms(
            swapped=True
        ),
    },
    "q3": {
        "the bias correction is missing: divide exp_avg by 1 − beta1^step and exp_avg_sq by "
        "1 − beta2^step (step counts from 1)": _adam(correct_m=False, correct_v=False),
        "only the first moment is bias-corrected: exp_avg_sq needs 1 − beta2^step too": _adam(
            correct_v=False
        ),
        "only the second moment is bias-corrected: exp_avg needs 1 − beta1^step too": _adam(
            correct_m=False
        ),
        "eps is inside the square root; Adam divides by sqrt(v̂) + eps": _adam(inside=True),
    },
}

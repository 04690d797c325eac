r"""Seeded hyperparameter search: grid, random, coarse-to-fine, and stopping bad runs early.

A search space maps each hyperparameter name to a dimension: :class:`LogUniform` for scales such
as the learning rate (:math:`\log x \sim U(\log a, \log b)`), :class:`Uniform` and
:class:`Choice`. :func:`random_search` draws ``n_trials`` points from it with one seeded
``random.Random``, so the same seed gives the same trials on any machine; :func:`grid_search`
tries every combination of given values; :func:`coarse_to_fine` runs a second random round in a box
narrowed around the best point of the first.

Bergstra & Bengio (2012) argue for random search: when only a few hyperparameters matter, a grid
of :math:`k^d` points tries only :math:`k` values of each, while :math:`k^d` random points try
:math:`k^d` distinct values of every one.

An objective takes a dict of hyperparameters and returns its loss curve (an iterable of losses,
one per epoch, lower is better) or a single loss. A trial's score is the lowest loss of its curve.
With a :class:`MedianRule` the search stops a trial as soon as its best loss so far is worse than
the median of the earlier trials' best losses at the same epoch (the median stopping rule of
Golovin et al., 2017), so a bad run costs a few epochs instead of all of them.

See the book: Practical guidelines.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, Union

from dlcourse._validate import check_int, check_real

__all__ = [
    "Choice",
    "LogUniform",
    "MedianRule",
    "Trial",
    "Uniform",
    "best_trial",
    "coarse_to_fine",
    "grid",
    "grid_search",
    "narrow",
    "random_search",
    "sample",
]


class _Rng(Protocol):
    """What the dimensions draw from: a ``random.Random``."""

    def random(self) -> float: ...


Objective = Callable[[dict[str, Any]], Union[float, Iterable[float]]]


@dataclass(frozen=True)
class Uniform:
    r"""A real hyperparameter drawn as :math:`x \sim U(\mathrm{low}, \mathrm{high})`."""

    low: float
    high: float

    def __post_init__(self) -> None:
        check_real("low", self.low)
        check_real("high", self.high)
        if not self.low < self.high:
            raise ValueError(f"Uniform needs low < high, got low={self.low}, high={self.high}")

    def sample(self, rng: _Rng) -> float:
        """One draw from ``rng``."""
        return self.low + (self.high - self.low) * rng.random()

    def around(self, center: float, shrink: float) -> Uniform:
        """The box of width ``shrink · (high - low)`` centred on ``center``, clipped to this one."""
        half = 0.5 * shrink * (self.high - self.low)
        return Uniform(max(self.low, center - half), min(self.high, center + half))


@dataclass(frozen=True)
class LogUniform:
    r"""A positive hyperparameter with :math:`\log x \sim U(\log \mathrm{low}, \log \mathrm{high})`.

    Every decade between ``low`` and ``high`` gets the same share of the draws, which suits
    scales such as the learning rate or the weight decay.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        check_real("low", self.low, min=0, min_open=True)
        check_real("high", self.high, min=0, min_open=True)
        if not self.low < self.high:
            raise ValueError(f"LogUniform needs low < high, got low={self.low}, high={self.high}")

    def sample(self, rng: _Rng) -> float:
        """One draw from ``rng``."""
        lo, hi = math.log(self.low), math.log(self.high)
        return math.exp(lo + (hi - lo) * rng.random())

    def around(self, center: float, shrink: float) -> LogUniform:
        """The box spanning ``shrink`` of this one's decades centred on ``center`` (log scale)."""
        half = 0.5 * shrink * math.log(self.high / self.low)
        lo = max(math.log(self.low), math.log(center) - half)
        hi = min(math.log(self.high), math.log(center) + half)
        return LogUniform(math.exp(lo), math.exp(hi))


@dataclass(frozen=True)
class Choice:
    """A categorical hyperparameter drawn uniformly from ``options``."""

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence):
            raise TypeError("options must be a tuple of values, e.g. Choice(('relu', 'elu'))")
        if not self.options:
            raise ValueError("Choice needs at least one option")
        object.__setattr__(self, "options", tuple(self.options))

    def sample(self, rng: _Rng) -> Any:
        """One draw from ``rng``."""
        return self.options[min(int(rng.random() * len(self.options)), len(self.options) - 1)]

    def around(self, center: Any, shrink: float) -> Choice:
        """The best option alone: a category has no neighbourhood."""
        return Choice((center,))


Dimension = Union[Uniform, LogUniform, Choice]


@dataclass(frozen=True)
class MedianRule:
    """Stop a trial whose best loss so far is worse than the median of earlier trials'.

    Attributes:
        warmup: epochs every trial runs before it may be stopped (at least 1).
        min_trials: how many earlier curves must reach an epoch before the rule applies there.
    """

    warmup: int = 2
    min_trials: int = 3

    def __post_init__(self) -> None:
        check_int("warmup", self.warmup, min=1)
        check_int("min_trials", self.min_trials, min=1)

    def should_stop(self, curve: Sequence[float], others: Sequence[Sequence[float]]) -> bool:
        r"""Whether to stop a run whose losses so far are ``curve``.

        With :math:`t` = ``len(curve)``: stop when :math:`t \ge` ``warmup``, at least
        ``min_trials`` of ``others`` have :math:`t` values, and
        :math:`\min_{s \le t} \ell_s > \operatorname{median}_j \min_{s \le t} \ell^{(j)}_s`.
        A nan loss (a diverged run) is worse than any number.
        """
        t = len(curve)
        peers = [_best(c[:t]) for c in others if len(c) >= t]
        if t < self.warmup or len(peers) < self.min_trials:
            return False
        return _best(curve) > statistics.median(peers)


def _best(curve: Sequence[float]) -> float:
    """The lowest loss, with nan counted as +inf."""
    return min(math.inf if math.isnan(v) else float(v) for v in curve)


@dataclass
class Trial:
    """One evaluated point of a search.

    Attributes:
        params: the hyperparameters.
        curve: the losses the objective reported, one per epoch run.
        stopped: whether a :class:`MedianRule` ended it early.
    """

    params: dict[str, Any]
    curve: list[float] = field(default_factory=list)
    stopped: bool = False

    @property
    def score(self) -> float:
        """The lowest loss of the curve (nan counts as +inf)."""
        return _best(self.curve)


def _check_space(space: object) -> Mapping[str, Dimension]:
    if not isinstance(space, Mapping) or not space:
        raise TypeError("space must be a non-empty dict {name: LogUniform | Uniform | Choice}")
    for name, dim in space.items():
        if not isinstance(dim, (Uniform, LogUniform, Choice)):
            raise TypeError(
                f"space[{name!r}] is {type(dim).__name__}: use LogUniform(a, b), "
                "Uniform(a, b) or Choice((...))"
            )
    return space


def sample(space: Mapping[str, Dimension], n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` points drawn independently from ``space`` with ``random.Random(seed)``."""
    space = _check_space(space)
    check_int("n", n, min=1)
    rng = random.Random(check_int("seed", seed))
    return [{name: dim.sample(rng) for name, dim in space.items()} for _ in range(n)]


def grid(values: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``values`` (the first name varies slowest), as a list of dicts."""
    if not isinstance(values, Mapping) or not values:
        raise TypeError("values must be a non-empty dict {name: [value, ...]}")
    for name, vals in values.items():
        if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence) or not vals:
            raise ValueError(f"values[{name!r}] must be a non-empty list of values")
    names = list(values)
    return [dict(zip(names, combo)) for combo in itertools.product(*values.values())]


def _run(
    objective: Objective, params: dict[str, Any], rule: MedianRule | None, done: list[Trial]
) -> Trial:
    """Evaluate one point, consuming its curve and stopping it when ``rule`` says so."""
    out = objective(dict(params))
    trial = Trial(dict(params))
    for loss in [out] if isinstance(out, (int, float)) else out:
        trial.curve.append(float(loss))
        if rule is not None and rule.should_stop(trial.curve, [t.curve for t in done]):
            trial.stopped = True
            break
    if not trial.curve:
        raise ValueError(f"the objective returned no loss for {params}")
    return trial


def _evaluate(
    objective: Objective,
    points: Iterable[dict[str, Any]],
    rule: MedianRule | None,
    done: list[Trial] | None = None,
) -> list[Trial]:
    if not callable(objective):
        raise TypeError("objective must be a callable params -> loss or loss curve")
    done = list(done or [])
    trials: list[Trial] = []
    for params in points:
        trials.append(_run(objective, params, rule, done + trials))
    return trials


def grid_search(
    objective: Objective, values: Mapping[str, Sequence[Any]], early_stop: MedianRule | None = None
) -> list[Trial]:
    """Evaluate ``objective`` on every point of :func:`grid` ``(values)``, in order."""
    return _evaluate(objective, grid(values), early_stop)


def random_search(
    objective: Objective,
    space: Mapping[str, Dimension],
    n_trials: int,
    seed: int = 0,
    early_stop: MedianRule | None = None,
) -> list[Trial]:
    """Evaluate ``objective`` on the points of :func:`sample` ``(space, n_trials, seed)``."""
    return _evaluate(objective, sample(space, n_trials, seed), early_stop)


def best_trial(trials: Sequence[Trial]) -> Trial:
    """The trial with the lowest score (the first one on ties)."""
    if not trials:
        raise ValueError("no trials: run a search first")
    return min(trials, key=lambda t: t.score)


def narrow(
    space: Mapping[str, Dimension], center: Mapping[str, Any], shrink: float = 0.25
) -> dict[str, Dimension]:
    """A box around ``center`` for the fine round of :func:`coarse_to_fine`.

    Each dimension keeps ``shrink`` of its range (of its log range for :class:`LogUniform`),
    clipped to the original; a :class:`Choice` keeps the center's option.
    """
    space = _check_space(space)
    check_real("shrink", shrink, min=0, max=1, min_open=True)
    missing = set(space) - set(center)
    if missing:
        raise ValueError(f"center has no value for {sorted(missing)}")
    return {name: dim.around(center[name], shrink) for name, dim in space.items()}


def coarse_to_fine(
    objective: Objective,
    space: Mapping[str, Dimension],
    n_coarse: int,
    n_fine: int,
    seed: int = 0,
    shrink: float = 0.25,
    early_stop: MedianRule | None = None,
) -> list[Trial]:
    """A random round of ``n_coarse`` trials, then ``n_fine`` in :func:`narrow` ``(space, best)``.

    Returns:
        All ``n_coarse + n_fine`` trials, the coarse round first. The fine round draws with
        ``seed + 1`` and its early stopping compares with every earlier trial.
    """
    coarse = random_search(objective, space, n_coarse, seed, early_stop)
    box = narrow(space, best_trial(coarse).params, shrink)
    fine = _evaluate(
        objective, sample(box, check_int("n_fine", n_fine, min=1), seed + 1), early_stop, coarse
    )
    return coarse + fine

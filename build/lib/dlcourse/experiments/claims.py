"""The lecture's number beside ours: formatting, verdicts and the chapter's claim log.

Every chapter records its claims in a :class:`ClaimLog`: each claim prints one line as the cell
runs (``claim — lecture: a · ours: b``) and the log renders as the chapter's summary table.
:func:`verdict` compares the lecture's number with ours; :func:`fmt` and :func:`text_table` print
numbers the same way everywhere.

A lecture's number from one random draw is judged against our spread over several seeds, not
against our one draw: :func:`spread_verdict` says whether it lies inside the range of our values
and at which percentile, and :meth:`ClaimLog.add_spread` records such a claim.

See the book: Weight initialization.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

__all__ = [
    "Claim", "ClaimLog", "fmt", "percentile_of", "spread_verdict", "text_table", "verdict",
]


def fmt(value: Any, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits; tuples as ``(a, b)``; strings unchanged."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(fmt(v, digits) for v in value) + ")"
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return str(value)
    return format(float(value), f".{digits}g")


def _log_ratio(lecture: Any, ours: Any) -> float:
    """|log(ours / lecture)|: 0 for equal values (nan included), inf when not comparable."""
    if isinstance(lecture, str) or isinstance(ours, str):
        return 0.0 if lecture == ours else math.inf
    a, b = float(lecture), float(ours)
    if math.isnan(a) or math.isnan(b):
        return 0.0 if math.isnan(a) and math.isnan(b) else math.inf
    if a == b:
        return 0.0
    if a == 0 or b == 0 or (a > 0) != (b > 0):
        return math.inf
    return abs(math.log(b / a))


def verdict(lecture: Any, ours: Any) -> str:
    """How ``ours`` compares with ``lecture``: a verdict word.

    ``"match"`` (within 5 %, both nan, or equal strings), ``"close"`` (within 15 %), ``"ours ×k"``
    (``ours = k · lecture``) or ``"differs"`` (nan against a number, opposite signs, zero against
    non-zero, different strings). Equal-length tuples get the verdict of their most different
    entry.
    """
    pairs = list(zip(lecture, ours)) if isinstance(lecture, (tuple, list)) else [(lecture, ours)]
    a, b = max(pairs, key=lambda pair: _log_ratio(*pair))
    worst = _log_ratio(a, b)
    if worst <= math.log(1.05):
        return "match"
    if worst <= math.log(1.15):
        return "close"
    return "differs" if math.isinf(worst) else f"ours ×{fmt(float(b) / float(a), 2)}"


def percentile_of(value: float, ours: Sequence[float]) -> float:
    r"""Where ``value`` falls among ``ours``, in percent.

    The share of our values below it, with ties counted half,
    :math:`100\,(\#\{v < x\} + \tfrac12 \#\{v = x\}) / n`.

    Args:
        value: the lecture's number.
        ours: our values, one per seed (at least one, none nan).

    Returns:
        The percentage, from 0 (below all of ours) to 100 (above all of them).

    See the book: Weight initialization.
    """
    values = _seed_values(ours)
    below = sum(v < value for v in values)
    equal = sum(v == value for v in values)
    return 100.0 * (below + 0.5 * equal) / len(values)


def _seed_values(ours: Any) -> list[float]:
    if isinstance(ours, (str, bytes)) or not isinstance(ours, Sequence):
        raise TypeError(f"ours must be a list of numbers, one per seed, got {type(ours).__name__}")
    if not ours:
        raise ValueError("ours is empty: pass our value for each seed")
    values = [float(v) for v in ours]
    if any(math.isnan(v) for v in values):
        raise ValueError("ours contains nan: judge nan results with verdict(), not a spread")
    return values


def _spread_one(lecture: float, ours: Sequence[float]) -> tuple[str, bool]:
    """(verdict fragment, inside?) for one number against our values."""
    values, x = _seed_values(ours), float(lecture)
    lo, hi = min(values), max(values)
    if lo <= x <= hi:
        return f"percentile {percentile_of(x, values):.0f}", True
    side, edge, word = ("below", lo, "lowest") if x < lo else ("above", hi, "highest")
    if edge != 0 and (x > 0) == (edge > 0):  # a ratio only where it means something
        return f"{side}: lecture = {fmt(x / edge, 2)} × our {word}", False
    return f"{side}: our {word} is {fmt(edge, 3)}", False


def spread_verdict(lecture: Any, ours: Sequence[Any]) -> str:
    """Judge the lecture's one draw against our draws over several seeds.

    ``"inside our 10-seed range (percentile 40)"`` when ``lecture`` lies between our smallest and
    largest value, else e.g. ``"outside our 10-seed range (below: lecture = 0.5 × our lowest)"``.
    A tuple (a lecture's ``(mean, std)``) is judged entry by entry against the same entries of our
    tuples; it is inside only when every entry is.

    Args:
        lecture: the lecture's number, or a tuple of numbers.
        ours: our values, one per seed (tuples of the same length when ``lecture`` is a tuple).

    Returns:
        The verdict, a short string.

    Raises:
        TypeError: ``ours`` is not a list or tuple.
        ValueError: ``ours`` is empty, holds nan, or holds tuples of another length.

    See the book: Weight initialization.
    """
    if isinstance(ours, (str, bytes)) or not isinstance(ours, Sequence):
        raise TypeError(f"ours must be a list of values, one per seed, got {type(ours).__name__}")
    if not ours:
        raise ValueError("ours is empty: pass our value for each seed")
    if isinstance(lecture, (tuple, list)):
        if any(not isinstance(o, (tuple, list)) or len(o) != len(lecture) for o in ours):
            raise ValueError(f"ours must hold tuples of length {len(lecture)}, like lecture; "
                             "pass one tuple per seed")
        parts = [_spread_one(a, [o[i] for o in ours]) for i, a in enumerate(lecture)]
    else:
        parts = [_spread_one(lecture, ours)]
    if all(inside for _, inside in parts):
        label = "percentiles" if len(parts) > 1 else "percentile"
        numbers = ", ".join(text.removeprefix("percentile ") for text, _ in parts)
        return f"inside our {len(ours)}-seed range ({label} {numbers})"
    return f"outside our {len(ours)}-seed range ({'; '.join(text for text, _ in parts)})"


def _range_text(ours: Sequence[Any], digits: int) -> str:
    """``[lo, hi]`` of our values (entry by entry for tuples)."""
    if ours and isinstance(ours[0], (tuple, list)):
        return "(" + ", ".join(_range_text([o[i] for o in ours], digits)
                               for i in range(len(ours[0]))) + ")"
    values = _seed_values(ours)
    return f"[{fmt(min(values), digits)}, {fmt(max(values), digits)}]"


@dataclass
class Claim:
    """One claim of the lectures: what it says, the lecture's number, ours, the verdict, a note.

    ``seeds`` holds our values over several seeds when ``ours`` shows their range.
    """

    claim: str
    lecture: Any
    ours: Any
    verdict: str
    note: str = ""
    seeds: list[Any] | None = None


@dataclass
class ClaimLog:
    """The chapter's claims, printed one by one as ``claim — lecture: a · ours: b``.

    They are shown at the end as a table (HTML in a notebook or the book, plain text elsewhere).
    ``digits``: the significant digits of our numbers, few enough that they are the same on any
    machine.
    """

    claims: list[Claim] = field(default_factory=list)
    digits: int = 4

    def add(self, claim: str, lecture: Any, ours: Any, note: str = "",
            verdict_: str | None = None) -> Claim:
        """Record a claim and print the comparison line.

        ``verdict_`` overrides :func:`verdict` (for claims that are not numbers).
        """
        item = Claim(claim, lecture, ours, verdict_ or verdict(lecture, ours), note)
        self.claims.append(item)
        print(f"{claim} — lecture: {fmt(lecture)} · ours: {fmt(ours, self.digits)}")
        return item

    def add_spread(self, claim: str, lecture: Any, ours: Sequence[Any], note: str = "") -> Claim:
        """Record a claim whose lecture number is one random draw, and print it.

        The claim is judged against ``ours``, our values over several seeds
        (:func:`spread_verdict`), and printed as
        ``claim — lecture: a · ours, 10 seeds: [lo, hi] · verdict``.

        Args:
            claim: what the lecture says.
            lecture: its number (or tuple of numbers).
            ours: our value (or tuple) for each seed.
            note: shown in the summary table.

        Returns:
            The recorded :class:`Claim`; its ``ours`` is the range as text, ``seeds`` the values.
        """
        judged = spread_verdict(lecture, ours)
        item = Claim(claim, lecture, _range_text(ours, self.digits), judged, note, list(ours))
        self.claims.append(item)
        print(f"{claim} — lecture: {fmt(lecture)} · ours, {len(ours)} seeds: {item.ours}"
              f" · {judged}")
        return item

    def rows(self) -> list[dict[str, str]]:
        """One dict per claim with the columns of the summary table, as text."""
        return [{"claim": c.claim, "lecture": fmt(c.lecture), "ours": fmt(c.ours, self.digits),
                 "verdict": c.verdict, "note": c.note} for c in self.claims]

    def __repr__(self) -> str:
        return text_table(self.rows())

    def _repr_html_(self) -> str:
        cols = ["claim", "lecture", "ours", "verdict", "note"]
        head = "".join(f"<th>{c}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(row[c])}</td>" for c in cols) + "</tr>"
                       for row in self.rows())
        return f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def text_table(rows: Sequence[dict[str, Any]], digits: int = 4) -> str:
    """A fixed-width text table of ``rows`` (dicts sharing keys), numbers via :func:`fmt`."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[c for c in cols]] + [[fmt(r[c], digits) for c in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(row, widths)).rstrip() for row in cells)

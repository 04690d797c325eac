"""The lecture's number beside ours: formatting, verdicts and the chapter's claim log.

Every chapter records its claims in a :class:`ClaimLog`: each claim prints one line as the cell
runs (``claim — lecture: a · ours: b``) and the log renders as the chapter's summary table.
:func:`verdict` compares the lecture's number with ours; :func:`fmt` and :func:`text_table` print
numbers the same way everywhere.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

__all__ = ["Claim", "ClaimLog", "fmt", "text_table", "verdict"]


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
    """How ``ours`` compares with ``lecture``: ``"match"`` (within 5 %, both nan, or equal
    strings), ``"close"`` (within 15 %), ``"ours ×k"`` (``ours = k · lecture``) or ``"differs"``
    (nan against a number, opposite signs, zero against non-zero, different strings). Equal-length
    tuples get the verdict of their most different entry."""
    pairs = list(zip(lecture, ours)) if isinstance(lecture, (tuple, list)) else [(lecture, ours)]
    a, b = max(pairs, key=lambda pair: _log_ratio(*pair))
    worst = _log_ratio(a, b)
    if worst <= math.log(1.05):
        return "match"
    if worst <= math.log(1.15):
        return "close"
    return "differs" if math.isinf(worst) else f"ours ×{fmt(float(b) / float(a), 2)}"


@dataclass
class Claim:
    """One claim of the lectures: what it says, the lecture's number, ours, the verdict, a note."""

    claim: str
    lecture: Any
    ours: Any
    verdict: str
    note: str = ""


@dataclass
class ClaimLog:
    """The chapter's claims, printed one by one as ``claim — lecture: a · ours: b`` and shown at
    the end as a table (HTML in a notebook or the book, plain text elsewhere)."""

    claims: list[Claim] = field(default_factory=list)

    def add(self, claim: str, lecture: Any, ours: Any, note: str = "",
            verdict_: str | None = None) -> Claim:
        """Record a claim and print the comparison line; ``verdict_`` overrides :func:`verdict`
        (for claims that are not numbers)."""
        item = Claim(claim, lecture, ours, verdict_ or verdict(lecture, ours), note)
        self.claims.append(item)
        print(f"{claim} — lecture: {fmt(lecture)} · ours: {fmt(ours)}")
        return item

    def rows(self) -> list[dict[str, str]]:
        return [{"claim": c.claim, "lecture": fmt(c.lecture), "ours": fmt(c.ours),
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

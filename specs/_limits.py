"""Which numbers a spec may hold.

Architecture sizes, budgets, rates and limits all live far inside ``[1e-18, 1e18]``; a number
beyond it (a 400-digit integer, ``1e400``, a log range to ``1e300``) is a typo or an attack,
and left in it would overflow int64 and float arithmetic deep inside the solver. So the
readers (YAML, JSON, ``--set``, expressions) refuse it where it was written.
"""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["MAX_MAGNITUDE", "MIN_MAGNITUDE", "MAX_DIGITS", "number_problem"]

MAX_MAGNITUDE = 10**18
MIN_MAGNITUDE = 1e-18
MAX_DIGITS = 40  # checked on the text before converting it (int() of a huge string is slow)


def number_problem(value: float | Fraction, text: str | None = None) -> str | None:
    """Why ``value`` (written as ``text``) cannot be in a spec, or None when it can."""
    shown = text if text is not None else repr(value)
    if len(shown) > 24:
        shown = shown[:20] + "..."
    if isinstance(value, float) and math.isnan(value):
        return f"'{shown}' is not a number a spec may use"
    magnitude = abs(Fraction(value)) if not (isinstance(value, float) and math.isinf(value)) else math.inf
    if magnitude > MAX_MAGNITUDE:
        return f"the number {shown} is too large (a spec's numbers must be at most 1e18 in magnitude)"
    if value != 0 and magnitude < MIN_MAGNITUDE:
        return f"the number {shown} is too small (a spec's non-zero numbers must be at least 1e-18 in magnitude)"
    return None

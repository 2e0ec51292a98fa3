"""Failed evaluations told apart by kind, for the report: a message that varies from point to
point (a closed form's two values) is one kind per estimator, not one per point."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

__all__ = ["CLOSED_FORM_WRONG", "closed_form_message", "failure_kind", "failure_kinds"]

CLOSED_FORM_WRONG = "closed form disagrees with evaluate"
_CLOSED_FORM = re.compile(re.escape(CLOSED_FORM_WRONG) + r": estimator '([^']+)' \(([^)]*)\)")
_LONGEST_KIND = 300


def closed_form_message(name: str, owner: str, evaluated: float, expected: float) -> str:
    """Why a point fails when an estimator's closed form disagrees with what it evaluated."""
    return (
        f"{CLOSED_FORM_WRONG}: estimator '{name}' ({owner}) evaluated {evaluated!r} here, but its closed form (symbolic) "
        f"gives {expected!r}; the hard constraints on {name} were decided with the closed form, so this point may break them"
    )


def failure_kind(error: str) -> str:
    """What a failure is, without what varies between points."""
    match = _CLOSED_FORM.match(error)
    if match:
        return f"the closed form (symbolic) of estimator '{match.group(1)}' ({match.group(2)}) disagrees with its evaluate: it is wrong, so the points it misjudged are failed, never reported"
    return error if len(error) <= _LONGEST_KIND else error[: _LONGEST_KIND - 1] + "…"


def failure_kinds(errors: Iterable[str], *, at_most: int = 5) -> tuple[tuple[str, int, str], ...]:
    """``(kind, count, an example)`` of the commonest kinds of failure, commonest first."""
    examples: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for error in errors:
        kind = failure_kind(error)
        counts[kind] += 1
        examples.setdefault(kind, error)
    return tuple((kind, count, examples[kind]) for kind, count in counts.most_common(at_most))

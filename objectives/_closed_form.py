"""Base of the exact estimators: a family formula (an integer count) over a unit divisor."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, ClassVar

from ._base import Context, Estimator
from ._symbolic import SymbolicConfig, Term, as_term

__all__ = ["ClosedFormEstimator"]


class ClosedFormEstimator(Estimator):
    """``count(view) / divisor``, computed exactly for numbers and as a PySMT term.

    Subclasses define ``count(family, view, context)`` once; it receives a numeric or a
    symbolic view of the configuration. The division is a rational factor in the term, never
    an SMT division (z3 handles a constant factor far better).
    """

    kind = "analytic"
    divisor: ClassVar[int] = 1

    def count(self, family: Any, view: Any, context: Context) -> Any:
        raise NotImplementedError

    def evaluate(self, config: Mapping[str, Any], context: Context) -> float:
        family = context.model_family
        return float(Fraction(self.count(family, family.numeric(context.resolve(config)), context), self.divisor))

    def symbolic(self, config: SymbolicConfig, context: Context) -> Term:
        family = context.model_family
        term = as_term(self.count(family, family.symbolic(config), context))
        return term if self.divisor == 1 else term * Fraction(1, self.divisor)

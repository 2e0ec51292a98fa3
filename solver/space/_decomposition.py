"""The decomposition that counts the feasible grid without enumerating models one SMT call at a time.

Decomposition:
  * parameters that no hard constraint mentions multiply the count by their domain sizes;
  * one *inner* parameter, chosen among those that every constraint mentions only linearly
    (in a conjunction of comparisons), is counted in closed form: for fixed values of the
    others, each comparison ``a * x + b  <=, <, ==  0`` bounds ``x`` to an interval, and the
    grid values inside the intersection are counted by binary search on the sorted values;
  * the remaining *outer* parameters are enumerated in vectorised chunks (numpy evaluation of
    the same formulas Z3 receives).

Float evaluation is exact for integer terms; for real terms every comparison closer to a tie
than 1e-9 (relative) is re-evaluated exactly with fractions, so counts are exact. When the
outer grid is too large to enumerate, the count is estimated by uniform sampling of outer
points (each still counted exactly over the inner parameter) with a 95% interval.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
from pysmt.fnode import FNode
from pysmt.shortcuts import Minus, Plus, Times, ToReal

from ._compiled import CompiledSpace, Variable, parameter_name
from ._evaluate import VectorEvaluator, evaluate_exact
from ._linear import Atom, as_comparison, bounds, coefficient, conjuncts, integer_bounds, uncertain, zero_like
from ._magnitude import INT64_SAFE, exact_nodes

__all__ = ["GridDecomposition", "CHUNK"]

CHUNK = 1 << 19
TOLERANCE = 1e-9
_NONLINEAR = 99


class GridDecomposition:
    """The feasible grid split into outer, inner and free parameters, evaluated block by block.

    ``scan`` and ``evaluate`` give, for outer points, how many inner values are feasible and
    the first of them; ``FeasibleGrid`` builds counts, ranks and samples on these."""

    def __init__(self, compiled: CompiledSpace) -> None:
        self.compiled = compiled
        self.auxiliaries = compiled.auxiliaries
        self.variables = compiled.variables
        formulas = list(compiled.hard.values())
        self.atom_nodes = [atom for formula in formulas for atom in conjuncts(formula)]
        self.depends = self._dependencies()
        self.inner = self._choose_inner()
        self.atoms = [self._atom(node) for node in self.atom_nodes]
        self.outer = [name for name in compiled.constrained if name != self.inner]
        self.outer_sizes = [self.variables[name].parameter.size for name in self.outer]
        self.outer_size = math.prod(self.outer_sizes)
        self.arrays = {name: self._array(self.variables[name]) for name in compiled.constrained}
        self.comparisons = self._nested_real_comparisons()
        self.linear_parts = {atom.node: self._linear_parts(atom) for atom in self.atoms if atom.inner}
        self.exact_nodes = exact_nodes(self._roots(), self.variables, self.auxiliaries)
        self.dependents = self._dependents()

    # -- analysis ------------------------------------------------------------------------

    def _dependencies(self) -> dict[FNode, frozenset[str]]:
        """Parameters each auxiliary integer depends on (through its definition)."""
        self._aux_names: dict[FNode, frozenset[str]] = {}
        for symbol in self.auxiliaries:
            self._names(symbol)
        return self._aux_names

    def _names(self, node: FNode) -> frozenset[str]:
        """Parameters a term depends on, looking through auxiliary integers' definitions."""
        found: set[str] = set()
        for symbol in node.get_free_variables():
            if symbol not in self.auxiliaries:
                found.add(parameter_name(symbol))
                continue
            if symbol not in self._aux_names:
                auxiliary = self.auxiliaries[symbol]
                self._aux_names[symbol] = self._names(auxiliary.numerator) | self._names(auxiliary.denominator)
            found |= self._aux_names[symbol]
        return frozenset(found)

    def _degree(self, node: FNode, name: str) -> int:
        """Polynomial degree of a term in parameter ``name`` (``_NONLINEAR`` if not polynomial)."""
        memo: dict[FNode, int] = {}
        stack = [(node, False)]
        while stack:
            current, expanded = stack.pop()
            if current in memo:
                continue
            if current.is_symbol():
                if current in self.auxiliaries:
                    memo[current] = _NONLINEAR if name in self.depends[current] else 0
                else:
                    memo[current] = int(parameter_name(current) == name)
                continue
            if current.is_constant():
                memo[current] = 0
                continue
            if not expanded:
                stack.append((current, True))
                stack.extend((child, False) for child in current.args())
                continue
            degrees = [memo[child] for child in current.args()]
            if current.is_plus() or current.is_minus() or current.is_toreal():
                memo[current] = max(degrees)
            elif current.is_times():
                memo[current] = min(sum(degrees), _NONLINEAR)
            elif current.is_div():
                memo[current] = degrees[0] if degrees[1] == 0 else _NONLINEAR
            elif current.is_ite():
                memo[current] = max(degrees[1:]) if degrees[0] == 0 else _NONLINEAR
            else:
                memo[current] = 0 if max(degrees, default=0) == 0 else _NONLINEAR
        return memo[node]

    def _is_linear_in(self, name: str) -> bool:
        for node in self.atom_nodes:
            if name not in self._names(node):
                continue
            comparison = as_comparison(node)
            if comparison is None:
                return False
            _, left, right = comparison
            if max(self._degree(left, name), self._degree(right, name)) > 1:
                return False
        return True

    @property
    def _inner(self) -> str:
        """The inner parameter's name, where the code runs only when there is one."""
        assert self.inner is not None
        return self.inner

    def _choose_inner(self) -> str | None:
        candidates = [name for name in self.compiled.constrained if not self.variables[name].is_index and self.variables[name].parameter.size > 1 and self._is_linear_in(name)]
        return max(candidates, key=lambda name: self.variables[name].parameter.size, default=None)

    def _atom(self, node: FNode) -> Atom:
        if self.inner is None or self.inner not in self._names(node):
            return Atom(node)
        comparison = as_comparison(node)
        assert comparison is not None, "an atom of the inner parameter is linear in it, so a comparison"
        return Atom(node, *comparison, inner=True)

    def _nested_real_comparisons(self) -> list[tuple[FNode, FNode]]:
        """Sides of every comparison of real terms in the outer atoms (checked for near-ties)."""
        pairs: list[tuple[FNode, FNode]] = []
        seen: set[FNode] = set()
        pending = [atom.node for atom in self.atoms if not atom.inner]
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            if node.is_symbol() or node.is_constant():
                continue
            if (node.is_le() or node.is_lt() or node.is_equals()) and node.arg(0).get_type().is_real_type():
                pairs.append((node.arg(0), node.arg(1)))
            pending.extend(node.args())
        return pairs

    def _linear_parts(self, atom: Atom) -> tuple[FNode, FNode]:
        """``(slope, offset)`` terms of ``left - right`` as a linear function of the inner value."""
        symbol = self.variables[self._inner].symbol
        _, left, right = atom.sides()
        difference = Minus(left, right)
        offset = difference.substitute({symbol: zero_like(symbol)})
        leading = self.variables[self.outer[0]].symbol if self.outer else None
        if leading is not None and self._degree(offset, self.outer[0]) == 1:
            # Split off the leading parameter too: both parts are then cached across blocks.
            leading_coefficient = coefficient(offset, leading)
            factor = ToReal(leading) if leading_coefficient.get_type().is_real_type() and leading.get_type().is_int_type() else leading
            offset = Plus(Times(leading_coefficient, factor), offset.substitute({leading: zero_like(leading)}))
        return coefficient(difference, symbol), offset

    def _roots(self) -> list[FNode]:
        """Every term the counter evaluates."""
        roots = [atom.node for atom in self.atoms] + [side for pair in self.comparisons for side in pair]
        return roots + [part for parts in self.linear_parts.values() for part in parts]

    def _is_exact(self, *nodes: FNode) -> bool:
        """Whether these terms are evaluated with exact numbers (no rounding to re-check)."""
        return any(node in self.exact_nodes for node in nodes)

    def _dependents(self) -> dict[str, set[FNode]]:
        """For each constrained parameter, the nodes whose value depends on it (memo keys)."""
        roots = self._roots()
        mentions: dict[FNode, frozenset[str]] = {}
        stack = [(root, False) for root in roots]
        while stack:
            node, expanded = stack.pop()
            if node in mentions:
                continue
            if node.is_symbol():
                mentions[node] = self.depends[node] if node in self.auxiliaries else frozenset({parameter_name(node)})
                if node in self.auxiliaries:
                    auxiliary = self.auxiliaries[node]
                    stack.extend((part, False) for part in (auxiliary.numerator, auxiliary.denominator, auxiliary.quotient) if part is not None)
                continue
            children = node.args()
            if not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in children)
                continue
            mentions[node] = frozenset().union(*(mentions[child] for child in children)) if children else frozenset()
        dependents: dict[str, set[FNode]] = {name: set() for name in self.compiled.constrained}
        for node, names in mentions.items():
            for name in names:
                if name in dependents and not (node.is_symbol() and parameter_name(node) == name):
                    dependents[name].add(node)
        return dependents

    @staticmethod
    def _array(variable: Variable) -> np.ndarray:
        if variable.is_index:
            return np.arange(variable.parameter.size, dtype=np.int64)
        values = variable.parameter.values
        integers = [value for value in values if type(value) is int]
        if len(integers) == len(values):
            fits = abs(integers[0]) < INT64_SAFE and abs(integers[-1]) < INT64_SAFE
            return np.array(integers, dtype=np.int64 if fits else object)
        return np.array(values, dtype=np.float64)

    # -- evaluation of one chunk of outer points --------------------------------------------

    def decode(self, flat: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Per-parameter value indices of flat indices over ``names`` (default: the outer
        parameters), in mixed radix with the last name varying fastest."""
        indices: dict[str, np.ndarray] = {}
        remainder = flat
        for name in reversed(self.outer if names is None else names):
            remainder, indices[name] = np.divmod(remainder, self.variables[name].parameter.size)
        return indices

    def _binding(self, name: str, index: Any) -> Any:
        return self.arrays[name][index]

    def _exact_bindings(self, indices: dict[str, Any], point: int) -> dict[FNode, Any]:
        bindings = {}
        for name, index in indices.items():
            variable = self.variables[name]
            position = int(index[point]) if isinstance(index, np.ndarray) else int(index)
            bindings[variable.symbol] = position if variable.is_index else variable.parameter.values[position]
        return bindings

    def evaluate(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For arbitrary flat outer indices: feasible inner counts and first feasible inner index."""
        return self.evaluate_indices(self.decode(flat))

    def evaluate_indices(self, indices: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """For outer points given by each outer parameter's value indices: feasible inner counts
        and first feasible inner index."""
        n_points = len(next(iter(indices.values()))) if indices else 1
        bindings = {self.variables[name].symbol: self._binding(name, index) for name, index in indices.items()}
        return self._evaluate(indices, n_points, self.vector_evaluator(bindings))

    def random_outer(self, generator: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """``n`` outer points drawn uniformly (each parameter's index independently, so grids of
        any size, beyond 2**63 points included, are drawn alike)."""
        if self.outer_size < 2**63:
            return self.decode(generator.integers(0, self.outer_size, n, dtype=np.int64))
        return {name: generator.integers(0, size, n, dtype=np.int64) for name, size in zip(self.outer, self.outer_sizes)}

    def vector_evaluator(self, bindings: dict[FNode, Any]) -> VectorEvaluator:
        """A vectorised evaluator of this space's formulas (exact where they could overflow)."""
        return VectorEvaluator(bindings, self.auxiliaries, self.exact_nodes)

    def _evaluate(self, indices: dict[str, Any], n_points: int, evaluate: VectorEvaluator) -> tuple[np.ndarray, np.ndarray]:
        feasible = np.ones(n_points, dtype=bool)
        outer_atoms = [atom.node for atom in self.atoms if not atom.inner]
        for node in outer_atoms:
            feasible &= np.broadcast_to(np.asarray(evaluate(node), dtype=bool), (n_points,))
        uncertain = np.zeros(n_points, dtype=bool)
        for left_node, right_node in self.comparisons:
            if self._is_exact(left_node, right_node):
                continue
            difference = np.broadcast_to(evaluate(left_node) - evaluate(right_node), (n_points,))
            error = TOLERANCE * (evaluate.magnitude(left_node) + evaluate.magnitude(right_node))
            uncertain |= np.abs(difference) <= error
        for point in np.flatnonzero(uncertain):
            exact = self._exact_bindings(indices, int(point))
            feasible[point] = all(evaluate_exact(node, exact, self.auxiliaries) for node in outer_atoms)
        if self.inner is None:
            return feasible.astype(np.int64), np.zeros(n_points, dtype=np.int64)
        selected = np.arange(n_points) if feasible.all() else np.flatnonzero(feasible)
        counts = np.zeros(n_points, dtype=np.int64)
        low = np.zeros(n_points, dtype=np.int64)
        if len(selected):
            selected_low, selected_high = self._inner_interval(indices, n_points, evaluate, selected)
            counts[selected] = np.maximum(selected_high - selected_low, 0)
            low[selected] = selected_low
        return counts, low

    def _inner_interval(self, indices: dict[str, Any], n_full: int, evaluate: VectorEvaluator, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index interval of feasible inner values at the ``selected`` outer points.

        Each inner comparison is ``slope * x + offset OP 0`` with ``slope`` and ``offset`` built
        symbolically from the comparison (shared subterms, so the evaluator's memo reuses them
        across blocks: the slope rarely depends on the leading parameters).
        """
        values = self.arrays[self._inner]
        n_points = len(selected)
        low = np.zeros(n_points, dtype=np.int64)
        high = np.full(n_points, len(values), dtype=np.int64)
        grid = self.variables[self._inner].step
        integer_grid = (int(grid[0]), int(grid[1])) if grid is not None and grid[0].denominator == 1 and grid[1].denominator == 1 else None
        for atom in (atom for atom in self.atoms if atom.inner):
            slope_node, offset_node = self.linear_parts[atom.node]
            slope = np.broadcast_to(np.asarray(evaluate(slope_node)), (n_full,))[selected]
            offset = np.broadcast_to(np.asarray(evaluate(offset_node)), (n_full,))[selected]
            is_integer = slope_node.get_type().is_int_type()
            exact = self._is_exact(slope_node, offset_node)
            operator = atom.sides()[0]
            if is_integer and integer_grid is not None:
                atom_low, atom_high = integer_bounds(operator, slope, offset, *integer_grid, len(values))
            else:
                atom_low, atom_high = bounds(operator, slope, offset, values, exact=exact)
            if not is_integer and not exact:
                slope_error = TOLERANCE * np.broadcast_to(evaluate.magnitude(slope_node), (n_full,))[selected]
                offset_error = TOLERANCE * np.broadcast_to(evaluate.magnitude(offset_node), (n_full,))[selected]
                for point in np.flatnonzero(uncertain(slope, offset, slope_error, offset_error, values)):
                    atom_low[point], atom_high[point] = self._exact_bounds(atom, indices, selected[point])
            low = np.maximum(low, atom_low)
            high = np.minimum(high, atom_high)
        return low, high

    def blocks(self) -> Iterator[tuple[int, dict[str, Any], int]]:
        """The outer grid as blocks: ``(first flat index, prefix indices, block size)``.

        The last outer parameters form a block of at most ``CHUNK`` points whose index arrays
        are the same for every block; the leading ones are fixed per block.
        """
        split = len(self.outer)
        while split > 0 and math.prod(self.outer_sizes[split - 1 :]) <= CHUNK:
            split -= 1
        block_size = math.prod(self.outer_sizes[split:])
        prefix_names = self.outer[:split]
        prefix_ranges = [range(size) for size in self.outer_sizes[:split]]
        for number, prefix in enumerate(itertools.product(*prefix_ranges)):
            yield number * block_size, dict(zip(prefix_names, prefix)), block_size

    def _block_indices(self, prefix_names: list[str], block_size: int) -> dict[str, np.ndarray]:
        names = [name for name in self.outer if name not in prefix_names]
        return self.decode(np.arange(block_size, dtype=np.int64), names)

    def scan(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Every outer block: ``(first flat index, counts, first feasible inner index)``.

        One evaluator serves all blocks: subterms that only depend on the block's own
        parameters are computed once.
        """
        blocks = list(itertools.islice(self.blocks(), 2))
        if len(blocks) > 1 and blocks[0][2] < CHUNK // 16:
            yield from self._scan_flat()  # a parameter too large for a block: blocks of tiny size would crawl
            return
        evaluate: VectorEvaluator | None = None
        block_indices: dict[str, np.ndarray] = {}
        for start, prefix, block_size in self.blocks():
            if evaluate is None:
                block_indices = self._block_indices(list(prefix), block_size)
                bindings = {self.variables[name].symbol: self._binding(name, index) for name, index in {**block_indices, **prefix}.items()}
                evaluate = self.vector_evaluator(bindings)
            else:
                for name, index in prefix.items():
                    evaluate.rebind(self.variables[name].symbol, self._binding(name, index), self.dependents[name])
            counts, low = self._evaluate({**block_indices, **prefix}, block_size, evaluate)
            yield start, counts, low

    def _scan_flat(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """Every outer block as a run of ``CHUNK`` flat indices, decoded per block."""
        for start in range(0, self.outer_size, CHUNK):
            counts, low = self.evaluate(np.arange(start, min(start + CHUNK, self.outer_size), dtype=np.int64))
            yield start, counts, low

    def _exact_bounds(self, atom: Atom, indices: dict[str, np.ndarray], point: int) -> tuple[int, int]:
        symbol = self.variables[self._inner].symbol
        exact = self._exact_bindings(indices, point)
        operator, lhs, rhs = atom.sides()
        difference = Minus(lhs, rhs)
        d0 = evaluate_exact(difference, {**exact, symbol: 0}, self.auxiliaries)
        d1 = evaluate_exact(difference, {**exact, symbol: 1}, self.auxiliaries)
        values = [Fraction(repr(value)) if isinstance(value, float) else Fraction(value) for value in self.variables[self._inner].parameter.values]
        slope, offset = Fraction(d1 - d0), Fraction(d0)
        if slope == 0:
            holds = {"<=": offset <= 0, "<": offset < 0, "==": offset == 0}[operator]
            return (0, len(values)) if holds else (0, 0)
        threshold = -offset / slope
        left, right = bisect.bisect_left(values, threshold), bisect.bisect_right(values, threshold)
        if operator == "==":
            return left, right
        if slope > 0:
            return 0, right if operator == "<=" else left
        return (left if operator == "<=" else right), len(values)

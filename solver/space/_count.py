"""Counting the feasible grid points without enumerating models one SMT call at a time.

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
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

import numpy as np
from pysmt.fnode import FNode
from pysmt.shortcuts import Div, Int, Ite, Minus, Plus, Real, Times, ToReal

from ._compile import CompiledSpace, Variable, parameter_name
from ._evaluate import VectorEvaluator, evaluate_exact
from ._magnitude import INT64_SAFE, exact_nodes

__all__ = ["Count", "GridCounter", "EXACT_LIMIT"]

EXACT_LIMIT = 30_000_000
CHUNK = 1 << 19
TOLERANCE = 1e-9
_NONLINEAR = 99


@dataclass(frozen=True)
class Count:
    """A feasible count; ``exact`` is false for a sampled estimate with a 95% interval."""

    value: int
    exact: bool
    low: int | None = None
    high: int | None = None
    samples: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value, "exact": self.exact}
        if not self.exact:
            data.update({"low": self.low, "high": self.high, "confidence": 0.95, "samples": self.samples})
        return data


@dataclass(frozen=True)
class _Atom:
    """One conjunct of the hard constraints; comparisons are kept as ``left OP right``."""

    node: FNode
    operator: str | None = None  # "<=", "<", "==" for comparisons usable in closed form
    left: FNode | None = None
    right: FNode | None = None
    inner: bool = False


def _conjuncts(formula: FNode) -> list[FNode]:
    pending, atoms = [formula], []
    while pending:
        node = pending.pop()
        if node.is_and():
            pending.extend(reversed(node.args()))
        else:
            atoms.append(node)
    return atoms


def _as_comparison(node: FNode) -> tuple[str, FNode, FNode] | None:
    negated = node.is_not()
    body = node.arg(0) if negated else node
    if not (body.is_le() or body.is_lt() or body.is_equals()):
        return None
    left, right = body.arg(0), body.arg(1)
    if not (left.get_type().is_int_type() or left.get_type().is_real_type()):
        return None
    if not negated:
        return ("<=" if body.is_le() else "<" if body.is_lt() else "==", left, right)
    if body.is_equals():
        return None
    return ("<" if body.is_le() else "<=", right, left)  # not (l <= r) is r < l


class GridCounter:
    """Counts, samples and enumerates the feasible grid of a compiled space."""

    def __init__(self, compiled: CompiledSpace) -> None:
        self.compiled = compiled
        self.auxiliaries = compiled.auxiliaries
        self.variables = compiled.variables
        formulas = list(compiled.hard.values())
        self.atom_nodes = [atom for formula in formulas for atom in _conjuncts(formula)]
        self.depends = self._dependencies()
        self.inner = self._choose_inner()
        self.atoms = [self._atom(node) for node in self.atom_nodes]
        self.outer = [name for name in compiled.constrained if name != self.inner]
        self.outer_sizes = [self.variables[name].parameter.size for name in self.outer]
        self.outer_size = math.prod(self.outer_sizes)
        self.free_size = math.prod(self.variables[name].parameter.size for name in compiled.free)
        self.arrays = {name: self._array(self.variables[name]) for name in compiled.constrained}
        self.comparisons = self._nested_real_comparisons()
        self.linear_parts = {atom.node: self._linear_parts(atom) for atom in self.atoms if atom.inner}
        self.exact_nodes = exact_nodes(self._roots(), self.variables, self.auxiliaries)
        self.dependents = self._dependents()
        self.stored: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._count: Count | None = None

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
            comparison = _as_comparison(node)
            if comparison is None:
                return False
            _, left, right = comparison
            if max(self._degree(left, name), self._degree(right, name)) > 1:
                return False
        return True

    def _choose_inner(self) -> str | None:
        candidates = [
            name
            for name in self.compiled.constrained
            if not self.variables[name].is_index and self.variables[name].parameter.size > 1 and self._is_linear_in(name)
        ]
        return max(candidates, key=lambda name: self.variables[name].parameter.size, default=None)

    def _atom(self, node: FNode) -> _Atom:
        if self.inner is None or self.inner not in self._names(node):
            return _Atom(node)
        operator, left, right = _as_comparison(node)
        return _Atom(node, operator, left, right, inner=True)

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

    def _linear_parts(self, atom: _Atom) -> tuple[FNode, FNode]:
        """``(slope, offset)`` terms of ``left - right`` as a linear function of the inner value."""
        symbol = self.variables[self.inner].symbol
        difference = Minus(atom.left, atom.right)
        offset = difference.substitute({symbol: _zero_like(symbol)})
        leading = self.variables[self.outer[0]].symbol if self.outer else None
        if leading is not None and self._degree(offset, self.outer[0]) == 1:
            # Split off the leading parameter too: both parts are then cached across blocks.
            coefficient = _coefficient(offset, leading)
            factor = ToReal(leading) if coefficient.get_type().is_real_type() and leading.get_type().is_int_type() else leading
            offset = Plus(Times(coefficient, factor), offset.substitute({leading: _zero_like(leading)}))
        return _coefficient(difference, symbol), offset

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
        if all(type(value) is int for value in values):
            fits = abs(values[0]) < INT64_SAFE and abs(values[-1]) < INT64_SAFE
            return np.array(values, dtype=np.int64 if fits else object)
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
            exact = self._exact_bindings(indices, point)
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

    def _inner_interval(
        self, indices: dict[str, Any], n_full: int, evaluate: VectorEvaluator, selected: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Index interval of feasible inner values at the ``selected`` outer points.

        Each inner comparison is ``slope * x + offset OP 0`` with ``slope`` and ``offset`` built
        symbolically from the comparison (shared subterms, so the evaluator's memo reuses them
        across blocks: the slope rarely depends on the leading parameters).
        """
        values = self.arrays[self.inner]
        n_points = len(selected)
        low = np.zeros(n_points, dtype=np.int64)
        high = np.full(n_points, len(values), dtype=np.int64)
        grid = self.variables[self.inner].step
        integer_grid = grid is not None and grid[0].denominator == 1 and grid[1].denominator == 1
        for atom in (atom for atom in self.atoms if atom.inner):
            slope_node, offset_node = self.linear_parts[atom.node]
            slope = np.broadcast_to(np.asarray(evaluate(slope_node)), (n_full,))[selected]
            offset = np.broadcast_to(np.asarray(evaluate(offset_node)), (n_full,))[selected]
            is_integer = slope_node.get_type().is_int_type()
            exact = self._is_exact(slope_node, offset_node)
            if is_integer and integer_grid:
                atom_low, atom_high = _integer_bounds(atom.operator, slope, offset, int(grid[0]), int(grid[1]), len(values))
            else:
                atom_low, atom_high = _bounds(atom.operator, slope, offset, values, exact=exact)
            if not is_integer and not exact:
                slope_error = TOLERANCE * np.broadcast_to(evaluate.magnitude(slope_node), (n_full,))[selected]
                offset_error = TOLERANCE * np.broadcast_to(evaluate.magnitude(offset_node), (n_full,))[selected]
                uncertain = np.flatnonzero(_uncertain(slope, offset, slope_error, offset_error, values))
                for point in uncertain:
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

    def _exact_bounds(self, atom: _Atom, indices: dict[str, np.ndarray], point: int) -> tuple[int, int]:
        symbol = self.variables[self.inner].symbol
        exact = self._exact_bindings(indices, point)
        difference = Minus(atom.left, atom.right)
        d0 = evaluate_exact(difference, {**exact, symbol: 0}, self.auxiliaries)
        d1 = evaluate_exact(difference, {**exact, symbol: 1}, self.auxiliaries)
        values = [Fraction(repr(value)) if isinstance(value, float) else Fraction(value) for value in self.variables[self.inner].parameter.values]
        slope, offset = Fraction(d1 - d0), Fraction(d0)
        if slope == 0:
            holds = {"<=": offset <= 0, "<": offset < 0, "==": offset == 0}[atom.operator]
            return (0, len(values)) if holds else (0, 0)
        threshold = -offset / slope
        left, right = bisect.bisect_left(values, threshold), bisect.bisect_right(values, threshold)
        if atom.operator == "==":
            return left, right
        if slope > 0:
            return 0, right if atom.operator == "<=" else left
        return (left if atom.operator == "<=" else right), len(values)

    # -- counting ----------------------------------------------------------------------------

    def count(self, *, exact_limit: int = EXACT_LIMIT, time_budget: float = 25.0, precision: float = 0.004, seed: int = 0) -> Count:
        """The number of feasible grid points (exact when the outer grid is small enough).

        An estimate stops when its 95% interval is within ``precision`` of the value on each
        side, or after ``time_budget`` seconds.
        """
        if self._count is not None:
            return self._count
        started = time.perf_counter()
        if self.outer_size <= exact_limit:
            flats, counts, lows = [], [], []
            for start, chunk_counts, chunk_low in self.scan():
                keep = np.flatnonzero(chunk_counts > 0)
                flats.append(keep + start)
                counts.append(chunk_counts[keep])
                lows.append(chunk_low[keep])
            self.stored = (np.concatenate(flats), np.concatenate(counts), np.concatenate(lows))
            total = int(self.stored[1].sum()) * self.free_size
            self._count = Count(total, True, seconds=time.perf_counter() - started)
        else:
            self._count = self._estimate(started, time_budget, precision, seed)
        return self._count

    def _estimate(self, started: float, time_budget: float, precision: float, seed: int) -> Count:
        generator = np.random.default_rng(seed)
        samples = np.zeros(0, dtype=np.float64)
        while True:
            counts, _ = self.evaluate_indices(self.random_outer(generator, CHUNK))
            samples = np.concatenate([samples, counts.astype(np.float64)])
            mean = samples.mean()
            half_width = 1.96 * samples.std(ddof=1) / math.sqrt(len(samples))
            precise = mean > 0 and half_width <= precision * mean
            if precise or time.perf_counter() - started > time_budget:
                break
        scale = self.outer_size * self.free_size  # may exceed a float: scaled in exact arithmetic
        seconds = time.perf_counter() - started
        if mean == 0:
            inner_size = len(self.arrays[self.inner]) if self.inner else 1
            return Count(0, False, 0, math.ceil(Fraction(3, len(samples)) * scale * inner_size), len(samples), seconds)
        return Count(
            round(Fraction(mean) * scale),
            False,
            math.floor(Fraction(max(0.0, mean - half_width)) * scale),
            math.ceil(Fraction(mean + half_width) * scale),
            len(samples),
            seconds,
        )


def _bounds(operator: str, slope: np.ndarray, offset: np.ndarray, values: np.ndarray, *, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Index interval ``[low, high)`` of grid values satisfying ``slope * x + offset OP 0``
    (with ``exact``, slope and offset are object arrays and the threshold is a fraction)."""
    n_values = len(values)
    if exact:
        threshold = _exact_threshold(offset, slope)
        values = np.array([Fraction(repr(float(value))) if isinstance(value, (float, np.floating)) else int(value) for value in values], dtype=object)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            threshold = np.where(slope != 0, -offset / np.where(slope != 0, slope, 1), 0.0)
    left = np.searchsorted(values, threshold, side="left")
    right = np.searchsorted(values, threshold, side="right")
    low = np.zeros(len(slope), dtype=np.int64)
    high = np.full(len(slope), n_values, dtype=np.int64)
    positive, negative, flat = slope > 0, slope < 0, slope == 0
    if operator == "==":
        low, high = np.where(flat, 0, left), np.where(flat, n_values, right)
        holds = offset == 0
    else:
        strict = operator == "<"
        high = np.where(positive, left if strict else right, high)
        low = np.where(negative, right if strict else left, low)
        holds = offset < 0 if strict else offset <= 0
    empty = np.asarray(flat & ~holds, dtype=bool)
    return np.where(empty, 0, low).astype(np.int64), np.where(empty, 0, high).astype(np.int64)


_exact_threshold = np.frompyfunc(lambda offset, slope: -Fraction(offset) / slope if slope != 0 else Fraction(0), 2, 1)


def _zero_like(node: FNode) -> FNode:
    return Real(0) if node.get_type().is_real_type() else Int(0)


def _coefficient(node: FNode, symbol: FNode) -> FNode:
    """The coefficient of ``symbol`` in a term of degree at most 1 in it, reusing subterms."""
    zero = Real(0) if node.get_type().is_real_type() else Int(0)
    if symbol not in node.get_free_variables():
        return zero
    if node == symbol:
        return Real(1) if node.get_type().is_real_type() else Int(1)
    arguments = node.args()
    if node.is_plus():
        parts = [_coefficient(argument, symbol) for argument in arguments]
        parts = [part for part in parts if part != zero]
        return Plus(parts) if parts else zero
    if node.is_minus():
        return Minus(_coefficient(arguments[0], symbol), _coefficient(arguments[1], symbol))
    if node.is_times():
        factors = list(arguments)
        position = next(index for index, factor in enumerate(factors) if symbol in factor.get_free_variables())
        factors[position] = _coefficient(factors[position], symbol)
        return Times(factors)
    if node.is_toreal():
        return ToReal(_coefficient(arguments[0], symbol))
    if node.is_div():
        return Div(_coefficient(arguments[0], symbol), arguments[1])
    if node.is_ite():
        return Ite(arguments[0], _coefficient(arguments[1], symbol), _coefficient(arguments[2], symbol))
    raise ValueError(f"{node} is not linear in {symbol}")


def _integer_bounds(operator: str, slope: np.ndarray, offset: np.ndarray, first: int, step: int, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact index interval on the grid ``first + step * k`` of ``slope * x + offset OP 0``,
    in integer arithmetic: with ``A = slope * step`` and ``C = -(offset + slope * first)`` the
    condition is ``A * k OP C``. Only the branches that occur are computed. Where these
    products could leave int64 (a large grid start times a large slope), Python integers."""
    if len(slope) and _could_overflow(slope, offset, abs(first) + abs(step) * n_values):
        slope, offset = slope.astype(object), offset.astype(object)
    scaled = slope * step
    target = -(offset + slope * first)
    n_points = len(slope)
    low = np.zeros(n_points, dtype=np.int64)
    high = np.full(n_points, n_values, dtype=np.int64)
    for sign in (1, -1, 0):
        where = np.flatnonzero(scaled > 0 if sign > 0 else scaled < 0 if sign < 0 else scaled == 0)
        if not len(where):
            continue
        size, goal = np.abs(scaled[where]), sign * target[where]
        if sign == 0:
            constant = target[where]  # the condition reads 0 OP C
            holds = {"<=": constant >= 0, "<": constant > 0, "==": constant == 0}[operator]
            high[where] = np.where(holds, n_values, 0)
            continue
        floor_quotient = np.floor_divide(goal, size)
        if operator == "==":
            exact = np.asarray(floor_quotient * size == goal, dtype=bool)
            low[where] = _on_grid(np.where(exact, floor_quotient, n_values), n_values)
            high[where] = _on_grid(np.where(exact, floor_quotient + 1, 0), n_values)
        elif sign > 0:  # k <= C / A  (k < C / A when strict)
            strict = np.asarray((operator == "<") & (floor_quotient * size == goal), dtype=bool).astype(floor_quotient.dtype)
            high[where] = _on_grid(floor_quotient + 1 - strict, n_values)
        else:  # k >= C / A with A < 0, i.e. k >= -C / |A| ... written as  |A| * k >= -C
            ceil_quotient = -np.floor_divide(-goal, size)
            strict = np.asarray((operator == "<") & (ceil_quotient * size == goal), dtype=bool).astype(ceil_quotient.dtype)
            low[where] = _on_grid(ceil_quotient + strict, n_values)
    return np.clip(low, 0, n_values), np.clip(high, 0, n_values)


def _could_overflow(slope: np.ndarray, offset: np.ndarray, reach: int) -> bool:
    """Whether ``slope * x + offset`` with ``|x| <= reach`` could pass 2**62 in int64 arithmetic."""
    if slope.dtype == object and offset.dtype == object:
        return False  # exact already
    largest_slope = int(np.max(np.abs(slope))) if len(slope) else 0
    largest_offset = int(np.max(np.abs(offset))) if len(offset) else 0
    return largest_slope * reach + largest_offset >= 2**62


def _on_grid(positions: np.ndarray, n_values: int) -> np.ndarray:
    """Positions clipped to ``[0, n_values]`` as int64 (exact object arrays may hold huge ones)."""
    return np.minimum(np.maximum(positions, 0), n_values).astype(np.int64)


def _uncertain(slope: np.ndarray, offset: np.ndarray, slope_error: np.ndarray, offset_error: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Points where float rounding could change the interval of ``slope * x + offset OP 0``:
    the slope may be zero or of the other sign, or some grid value ``v`` has
    ``|slope * v + offset|`` within the rounding bound ``slope_error * |v| + offset_error``."""
    unsure_slope = np.abs(slope) <= slope_error
    with np.errstate(divide="ignore", invalid="ignore"):
        threshold = np.where(slope != 0, -offset / np.where(slope != 0, slope, 1), 0.0)
    position = np.searchsorted(values, threshold)
    near = np.zeros(len(slope), dtype=bool)
    for shift in (-1, 0):
        candidate = values[np.clip(position + shift, 0, len(values) - 1)]
        residual = np.abs(slope * candidate + offset)
        near |= residual <= slope_error * np.abs(candidate) + offset_error
    return unsure_slope | near

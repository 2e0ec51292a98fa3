"""The feasible space: a spec compiled to SMT, the feasible grid (count, rank, sample) and repair.

Everything the search asks of a spec's space goes through ``Space``, a thin front over the
SMT formula and the feasible grid. Behind it: the compiler (``_compile``), the Z3 queries
(``_smt``), the exact and vectorised evaluators (``_evaluate``, ``_magnitude``), the
decomposition that counts without a solver (``_decomposition``, ``_linear``), the
``FeasibleGrid`` that counts, ranks and samples (``_grid``) and repair (``_repair``).
"""

from ._compile import compile_space
from ._compiled import CompiledSpace, ConstraintInfo
from ._grid import Count, FeasibleGrid
from ._space import Bound, Feasibility, InfeasibleSpecError, Space

__all__ = ["Space", "FeasibleGrid", "Count", "Bound", "Feasibility", "InfeasibleSpecError", "ConstraintInfo", "CompiledSpace", "compile_space"]

"""The feasible space: a spec compiled to SMT, the feasible grid (count, rank, sample) and repair.

Everything the search asks of a spec's space goes through ``Space``; the modules behind it are
the compiler (``_compile``), the Z3 queries (``_smt``), the exact and vectorised evaluators
(``_evaluate``, ``_magnitude``), the grid counter (``_count``) and repair (``_repair``).
"""

from ._compile import CompiledSpace, ConstraintInfo, compile_space
from ._count import Count
from ._space import Bound, Feasibility, InfeasibleSpecError, Space

__all__ = ["Space", "Count", "Bound", "Feasibility", "InfeasibleSpecError", "ConstraintInfo", "CompiledSpace", "compile_space"]

"""Avatar solver: the exact feasible space, the search, the run store and the ``solve`` command.

>>> from avatar.specs import load
>>> from avatar.solver import Space
>>> space = Space.from_spec(load("specs/examples/quickstart.yaml"))  # doctest: +SKIP
>>> space.count().value  # doctest: +SKIP
70452

Importing this package does not import torch.
"""

from ._compile import CompiledSpace, ConstraintInfo, compile_space
from ._count import Count
from ._space import Bound, Feasibility, InfeasibleSpecError, Space

__all__ = ["Space", "Count", "Bound", "Feasibility", "InfeasibleSpecError", "ConstraintInfo", "CompiledSpace", "compile_space"]

"""Avatar solver: the exact feasible space, the search, the run store and the ``solve`` command.

>>> from avatar.specs import load
>>> from avatar.solver import Space
>>> space = Space.from_spec(load("specs/examples/quickstart.yaml"))  # from the repository root
>>> space.count().value
73584

Importing this package does not import torch.
"""

from ._errors import RepeatedFailureError, UndecidedSpaceError
from ._run import RunError, RunOutcome, run_search
from .report import check_report, select, write_report, write_selected
from .search import (
    ALGORITHMS,
    DaskExecutor,
    Evaluation,
    EvaluationTask,
    Executor,
    GenerationStats,
    LearnedMetric,
    Normalisation,
    PoolExecutor,
    Probe,
    Prober,
    RunStore,
    Search,
    SearchHooks,
    SearchResult,
    SerialExecutor,
    StoreError,
    Task,
    TaskResult,
    as_minimisation,
    config_key,
    hypervolume,
    learned_estimators,
    make_executor,
    nondominated,
    objective_limits,
    select_points,
)
from .space import Bound, CompiledSpace, ConstraintInfo, Count, Feasibility, InfeasibleSpecError, Space, compile_space

__all__ = [
    "Space",
    "Count",
    "Bound",
    "Feasibility",
    "InfeasibleSpecError",
    "ConstraintInfo",
    "CompiledSpace",
    "compile_space",
    "Search",
    "SearchResult",
    "SearchHooks",
    "GenerationStats",
    "ALGORITHMS",
    "RunStore",
    "Evaluation",
    "Probe",
    "Task",
    "TaskResult",
    "EvaluationTask",
    "Prober",
    "LearnedMetric",
    "learned_estimators",
    "config_key",
    "Executor",
    "SerialExecutor",
    "PoolExecutor",
    "DaskExecutor",
    "make_executor",
    "Normalisation",
    "hypervolume",
    "nondominated",
    "select_points",
    "run_search",
    "RunOutcome",
    "RunError",
    "StoreError",
    "RepeatedFailureError",
    "UndecidedSpaceError",
    "as_minimisation",
    "objective_limits",
    "select",
    "write_selected",
    "write_report",
    "check_report",
]

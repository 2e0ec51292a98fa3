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
from ._errors import RepeatedFailureError, UndecidedSpaceError
from ._execution import DaskExecutor, EvaluationTask, Executor, PoolExecutor, SerialExecutor, Task, TaskResult, make_executor
from ._learning import LearnedMetric, Prober, learned_estimators
from ._pareto import Normalisation, as_minimisation, hypervolume, nondominated, select_points
from ._results import select, write_selected
from ._run import RunError, RunOutcome, run_search
from ._search import ALGORITHMS, GenerationStats, Search, SearchHooks, SearchResult, objective_limits
from ._space import Bound, Feasibility, InfeasibleSpecError, Space
from ._store import Evaluation, Probe, RunStore, StoreError, config_key
from ._summary import check_report

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
    "check_report",
]

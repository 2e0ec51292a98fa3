"""The search over a ``Space``: Platypus algorithms, executors, the run store and learned metrics.

``Search`` runs one search and stores every evaluation as it finishes (``_store``); executors
decide where evaluations run (``_execution``); ``_learning`` alternates probes and searches
when an objective is learned; ``_pareto`` owns fronts, hypervolume and selection.
"""

from ._execution import DaskExecutor, Executor, PoolExecutor, SerialExecutor, make_executor
from ._learning import LearnedMetric, Prober, learned_estimators
from ._pareto import Normalisation, as_minimisation, hypervolume, nondominated, select_points
from ._search import ALGORITHMS, GenerationStats, Search, SearchHooks, SearchResult, objective_limits
from ._store import Evaluation, Probe, RunStore, StoreError, config_key
from ._tasks import EvaluationTask, Task, TaskResult

__all__ = [
    "Search",
    "SearchResult",
    "SearchHooks",
    "GenerationStats",
    "ALGORITHMS",
    "objective_limits",
    "RunStore",
    "Evaluation",
    "Probe",
    "StoreError",
    "config_key",
    "Task",
    "TaskResult",
    "EvaluationTask",
    "Executor",
    "SerialExecutor",
    "PoolExecutor",
    "DaskExecutor",
    "make_executor",
    "Prober",
    "LearnedMetric",
    "learned_estimators",
    "Normalisation",
    "as_minimisation",
    "hypervolume",
    "nondominated",
    "select_points",
]

"""The estimator interface: a plugin a user can write in ten lines.

>>> from avatar.objectives import Estimator
>>> class EmbeddingShare(Estimator):
...     name, unit, direction = "embedding_share", "fraction", "minimize"
...     def evaluate(self, config, context):
...         return config["vocab_size"] * config["hidden_size"] / 1e6
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from avatar.specs import AvatarError, Cache, FrozenDict

if TYPE_CHECKING:
    from avatar.specs import Spec

    from ._families import ModelFamily
    from ._symbolic import SymbolicConfig, Term

__all__ = ["Estimator", "Measurement", "Context", "EstimatorError", "default_cache_dir"]


class EstimatorError(AvatarError):
    """An estimator could not be found, loaded, or could not evaluate a configuration.

    ``metric`` names the estimator concerned, so messages and run records can say which.
    """

    def __init__(self, message: str, metric: str | None = None) -> None:
        super().__init__(message)
        self.metric = metric


@dataclass(frozen=True)
class Measurement:
    """A measured value with its side figures (for example ``{"p90": 2.3}`` for latency).

    ``avatar.objectives.evaluate`` reports side figures as ``<metric>_<key>``.
    """

    value: float
    details: Mapping[str, float] = field(default_factory=dict)


def default_cache_dir() -> Path:
    """Where measurements, teachers and the rest are cached: ``$AVATAR_CACHE`` or ``~/.cache/avatar`` (``Cache``)."""
    return Cache.default_root()


@dataclass(frozen=True)
class Context:
    """What an estimator may know besides the configuration: the spec's fixed settings.

    ``constants`` are the spec's constants; ``config`` values take precedence over them.
    ``sample_configurations(n, seed)`` returns ``n`` configurations of the spec's space, used by
    estimators that calibrate themselves (the solver passes its exact feasible sampler); without
    it they sample the grid of ``parameters`` uniformly.
    """

    family: str = "roberta"
    task_kind: str = "defect"
    num_labels: int = 2
    dtype: str = "fp32"
    device: str = "cpu"
    threads: int = 1
    constants: FrozenDict = field(default_factory=FrozenDict)
    cache_dir: str | None = None
    seed: int = 0
    sample_configurations: Callable[[int, int], list[dict[str, Any]]] | None = field(default=None, compare=False, repr=False)
    parameters: tuple = field(default=(), compare=False, repr=False)

    @classmethod
    def from_spec(cls, spec: Spec, *, cache_dir: str | os.PathLike[str] | None = None, **overrides: Any) -> Context:
        """The context of ``spec``; ``cache_dir`` defaults to ``default_cache_dir()``."""
        values: dict[str, Any] = dict(
            family=spec.model.family,
            task_kind=spec.task.kind,
            num_labels=spec.task.num_labels,
            dtype=spec.model.dtype,
            device=spec.model.device,
            threads=spec.model.threads,
            constants=FrozenDict(spec.constant_values),
            cache_dir=os.fspath(cache_dir if cache_dir is not None else default_cache_dir()),
            seed=spec.search.seed,
            parameters=spec.parameters,
        )
        values.update(overrides)
        return cls(**values)

    @property
    def model_family(self) -> ModelFamily:
        from ._families import get_family

        return get_family(self.family)

    def resolve(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The configuration completed with the spec's constants."""
        return {**self.constants, **config}


class Estimator:
    """Base class of every metric estimator.

    Contract:
      * ``name`` is the metric name used in specs; ``unit`` and ``direction`` (the default goal,
        ``"minimize"`` or ``"maximize"``) are declared on the class and never change.
      * The constructor takes keyword-only options (from the spec's ``estimators.<name>.options``)
        and stores them verbatim under the same names; learned state ends in ``_``. Estimators
        are cheap to build and picklable, so worker processes can receive them.
      * ``evaluate(config, context)`` returns the metric for one configuration (a float, or a
        ``Measurement`` with side figures). ``config`` maps parameter names to values; constants
        are already merged in. It raises ``EstimatorError`` (or any exception, recorded as a
        failed evaluation) when it cannot.
      * ``symbolic(config, context)`` returns a closed form as a ``Term`` over a
        ``SymbolicConfig``, or ``None`` when there is none. When it returns a term, that term
        equals ``evaluate`` times ``1 + symbolic_margin`` at every configuration; a limit on the
        metric is then compiled into the feasible space before any search.
      * ``kind``: ``"analytic"`` (exact and deterministic), ``"measured"`` (from running the
        model), ``"predicted"`` (a calibrated model of a measurement) or ``"learned"``.
      * ``cheap``: true when ``evaluate`` takes well under a millisecond and cannot hang: the
        model-based search (``search.algorithm: surrogate``) then computes the metric for
        thousands of candidates in its own process, with no timeout, instead of modelling it.
        It counts only where the class itself declares it (a subclass that overrides
        ``evaluate`` must say so again): built-in closed forms and predicted latency do.
      * The solver checks ``symbolic`` against ``evaluate`` at every evaluated point: a point
        where they disagree fails, naming both values, and the report says the closed form is
        wrong.
      * Third-party estimators are evaluated in a worker process even with one job, so one that
        ends its process fails that evaluation, not the run. ``in_process = True`` on the class
        keeps it in the solver's process (it shares state with it, as test instruments do).
    """

    name: ClassVar[str]
    unit: ClassVar[str]
    direction: ClassVar[Literal["minimize", "maximize"]] = "minimize"
    kind: ClassVar[Literal["analytic", "measured", "predicted", "learned"]] = "analytic"
    cheap: ClassVar[bool] = False
    in_process: ClassVar[bool] = False

    @property
    def is_cheap(self) -> bool:
        """``cheap`` as the estimator's own class declares it (see the class docstring)."""
        return "cheap" in vars(type(self)) and bool(self.cheap)

    @property
    def symbolic_margin(self) -> float:
        """Relative margin by which ``symbolic`` exceeds ``evaluate`` (0 for exact forms)."""
        return 0.0

    def evaluate(self, config: Mapping[str, Any], context: Context) -> float | Measurement:
        raise NotImplementedError

    def evaluate_many(self, configs: Sequence[Mapping[str, Any]], context: Context) -> list[float | Measurement]:
        """``evaluate`` for each configuration; an estimator that predicts in batches (a
        surrogate) overrides it, so rescoring a whole run takes one prediction."""
        return [self.evaluate(config, context) for config in configs]

    def symbolic(self, config: SymbolicConfig, context: Context) -> Term | None:
        return None

    def is_symbolic(self, context: Context) -> bool:
        """Whether ``symbolic`` gives a closed form (so limits on it are hard constraints)."""
        return type(self).symbolic is not Estimator.symbolic

    def method(self, context: Context) -> str:
        """One line saying how the value is obtained, for reports."""
        return (self.__doc__ or type(self).__name__).strip().splitlines()[0]

    def get_params(self) -> dict[str, Any]:
        """The constructor's options as stored on the instance."""
        signature = inspect.signature(type(self).__init__)
        return {name: getattr(self, name) for name, parameter in signature.parameters.items() if name != "self" and parameter.kind in (parameter.KEYWORD_ONLY, parameter.POSITIONAL_OR_KEYWORD)}

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self.get_params().items())
        return f"{type(self).__name__}({options})"

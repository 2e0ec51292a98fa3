"""Finding estimators by name, loading plugins safely, and evaluating a configuration.

Built-ins and installed plugins are entry points of the ``avatar.objectives`` group; a spec can
also name a class directly (``estimators: {my_metric: {class: "package.module:Class"}}``) from
a trusted package (see ``_plugins``: nothing else is ever imported because a spec says so). A
plugin that fails to import, is not an estimator, or declares another metric name gives an
``EstimatorError`` naming the plugin and what went wrong.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Iterable, Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from avatar.specs import ENTRY_POINT_GROUP, Problem, SpecError, describe_error, evaluate_expression, names_in

from ._base import Context, Estimator, EstimatorError, Measurement
from ._families import get_family
from ._plugins import check_plugin_reference

if TYPE_CHECKING:
    from avatar.specs import Expr, Spec

__all__ = ["get", "load_estimator_class", "evaluate", "validate", "spec_metrics", "searched_metrics", "estimators_for", "metric_value"]


def load_estimator_class(metric: str, reference: str | None = None) -> type[Estimator]:
    """The estimator class for ``metric``: from ``reference`` (``module:Class``) or the entry points.

    Raises:
        EstimatorError: no estimator is registered, or the plugin is broken.
    """
    if reference is not None:
        source = f"'{reference}'"
        estimator_class = _import_reference(metric, reference)
    else:
        matches = [entry for entry in entry_points(group=ENTRY_POINT_GROUP) if entry.name == metric]
        if not matches:
            raise EstimatorError(f"no estimator is registered for the metric '{metric}'", metric)
        entry = matches[0]
        source = f"plugin '{entry.name}' (entry point {entry.value}, from {_distribution(entry)})"
        try:
            estimator_class = entry.load()
        except Exception as error:  # noqa: BLE001 - any import failure of third-party code
            raise EstimatorError(f"estimator {source} failed to import: {describe_error(error)}", metric) from error
    _check_estimator_class(metric, estimator_class, source)
    return estimator_class


def _distribution(entry: Any) -> str:
    dist = getattr(entry, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown package"


def _import_reference(metric: str, reference: str) -> type:
    module_name = check_plugin_reference(metric, reference)  # before anything is imported
    attribute_path = reference.partition(":")[2]
    try:
        target: Any = importlib.import_module(module_name)
        for attribute in attribute_path.split("."):
            target = getattr(target, attribute)
    except Exception as error:  # noqa: BLE001 - any import failure of third-party code
        raise EstimatorError(f"estimator '{reference}' for '{metric}' failed to import: {describe_error(error)}", metric) from error
    return target


def _check_estimator_class(metric: str, estimator_class: Any, source: str) -> None:
    if not isinstance(estimator_class, type):
        raise EstimatorError(f"estimator {source} is a {type(estimator_class).__name__}, not a class", metric)
    declared = {name: getattr(estimator_class, name, None) for name in ("name", "unit", "direction")}
    missing = [name for name, value in declared.items() if not isinstance(value, str)]
    if missing or not callable(getattr(estimator_class, "evaluate", None)):
        what = ", ".join(missing + ([] if callable(getattr(estimator_class, "evaluate", None)) else ["evaluate()"]))
        raise EstimatorError(f"estimator {source} is not an estimator: it lacks {what} (subclass avatar.objectives.Estimator)", metric)
    if declared["name"] != metric:
        raise EstimatorError(f"estimator {source} declares the metric '{declared['name']}', not '{metric}'", metric)
    if declared["direction"] not in ("minimize", "maximize"):
        raise EstimatorError(f"estimator {source} has direction '{declared['direction']}'; use 'minimize' or 'maximize'", metric)


def get(name: str, spec: Spec | None = None, **options: Any) -> Estimator:
    """A configured estimator for metric ``name``, with the spec's options for it (if any).

    >>> get("params").unit
    'parameters'

    Raises:
        EstimatorError: unknown metric, broken plugin, or options the estimator does not take.
    """
    reference, spec_options = None, {}
    if spec is not None:
        for settings in spec.estimators:
            if settings.metric == name:
                reference, spec_options = settings.reference, dict(settings.options)
    estimator_class = load_estimator_class(name, reference)
    try:
        return estimator_class(**{**spec_options, **options})
    except TypeError as error:
        raise EstimatorError(f"estimator '{name}' does not accept these options: {describe_error(error)}", name) from error
    except Exception as error:  # noqa: BLE001 - a plugin's constructor may raise anything
        raise EstimatorError(f"estimator '{name}' ({getattr(estimator_class, '__qualname__', estimator_class)}) failed to start: {describe_error(error)}", name) from error


def spec_metrics(spec: Spec) -> list[str]:
    """Estimator metrics the spec uses (objectives, constraints, derived names), in spec order."""
    own_names = _own_names(spec)
    used: list[str] = []
    candidates: list[str] = [objective.metric for objective in spec.objectives]
    for expression in _expressions(spec):
        candidates += sorted(names_in(expression))
    candidates += [settings.metric for settings in spec.estimators]
    for name in candidates:
        if name not in own_names and name not in used:
            used.append(name)
    return used


def searched_metrics(spec: Spec) -> set[str]:
    """Estimator metrics the search reads: the objectives' and those its constraints use
    (through derived names). A metric named only under ``estimators:`` is not among them."""
    used = {objective.metric for objective in spec.objectives}
    for constraint in spec.constraints:
        used |= spec.names_used(names_in(constraint.expression))
    return used - _own_names(spec)


def _expressions(spec: Spec) -> list[Expr]:
    """The derived names' and the constraints' expressions, in that order."""
    return [item.expression for item in spec.derived] + [item.expression for item in spec.constraints]


def _own_names(spec: Spec) -> set[str]:
    """Names the spec defines itself (parameters, constants, derived names): never an estimator's metric."""
    return set(spec.parameter_names) | {constant.name for constant in spec.constants} | {item.name for item in spec.derived}


def estimators_for(spec: Spec, metrics: Iterable[str] | None = None) -> dict[str, Estimator]:
    """Configured estimators for ``metrics`` (default: every metric the spec uses)."""
    return {metric: get(metric, spec) for metric in (spec_metrics(spec) if metrics is None else metrics)}


def evaluate(
    spec: Spec,
    config: Mapping[str, Any],
    metrics: Iterable[str] | None = None,
    *,
    context: Context | None = None,
    estimators: Mapping[str, Estimator] | None = None,
) -> dict[str, float]:
    """Evaluate ``config`` (a point of the spec's space) on ``metrics``.

    ``metrics`` may name estimator metrics and derived names; by default every metric the spec
    uses plus its derived names. Side figures of measurements come as ``<metric>_<key>``
    (for example ``latency_ms_p90``).
    """
    context = context or Context.from_spec(spec)
    derived_names = [item.name for item in spec.derived]
    wanted = list(metrics) if metrics is not None else spec_metrics(spec) + derived_names
    needed = _metrics_needed(spec, wanted)
    estimators = dict(estimators or {})
    resolved = context.resolve(config)
    results: dict[str, Any] = {}
    side_figures: dict[str, str] = {}
    for metric in needed:
        if metric in derived_names:
            continue
        estimator = estimators.get(metric) or get(metric, spec)
        outcome = estimator.evaluate(resolved, context)
        if isinstance(outcome, Measurement):
            results[metric] = metric_value(metric, outcome.value)
            for key, value in outcome.details.items():
                results[f"{metric}_{key}"] = metric_value(f"{metric}_{key}", value, of=metric)
                side_figures[f"{metric}_{key}"] = metric
        else:
            results[metric] = metric_value(metric, outcome)
    values = {**resolved, **results}
    for item in spec.derived:
        if item.name in needed:
            derived_value = evaluate_expression(item.expression, values)
            values[item.name] = derived_value
            results[item.name] = derived_value if isinstance(derived_value, (bool, str)) else float(derived_value)
    for name in wanted:  # an objective on a numeric parameter is the parameter's own value
        if name in resolved and name in spec.parameter_names and name not in results:
            results[name] = float(resolved[name])
    return {name: value for name, value in results.items() if name in wanted or side_figures.get(name) in wanted}


def metric_value(name: str, value: Any, *, of: str | None = None) -> float:
    """``value`` as a float, if it is a finite real number; a NaN, an infinity or a non-number
    would poison the front and the hypervolume, so it fails the evaluation instead.

    Raises:
        EstimatorError: naming the metric and what the estimator returned.
    """
    owner = of or name
    what = f"the side figure '{name}' of " if of else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise EstimatorError(f"{what}estimator '{owner}' returned {shown} ({type(value).__name__}); a metric must be a finite number", owner)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise EstimatorError(f"{what}estimator '{owner}' returned {number}; a metric must be a finite number", owner)
    return number


def _metrics_needed(spec: Spec, wanted: list[str]) -> list[str]:
    """``wanted`` plus every metric and derived name they depend on: metrics first (in the
    order wanted, then found), then derived names in dependency order (as the spec keeps them)."""
    own = set(spec.parameter_names) | set(spec.constant_values)
    used = spec.names_used(wanted) - own
    derived = [item.name for item in spec.derived if item.name in used]
    metrics = [name for name in wanted if name in used and name not in derived]
    metrics += sorted(used - set(metrics) - set(derived))
    return metrics + derived


def validate(spec: Spec) -> None:
    """Check what only the objectives know: the model family's needs and every estimator.

    Raises:
        SpecError: with the spec's file and the line of the part concerned.
    """
    problems = []
    family = get_family(spec.model.family)
    for path, message in family.validate(spec):
        problems.append(Problem(spec.source, spec.locate(path), path, message))
    for metric in spec_metrics(spec):
        try:
            get(metric, spec)
        except EstimatorError as error:
            path = _metric_path(spec, metric)
            problems.append(Problem(spec.source, spec.locate(path), path, str(error)))
    if problems:
        raise SpecError(problems)


def _metric_path(spec: Spec, metric: str) -> tuple[str, ...]:
    for settings in spec.estimators:
        if settings.metric == metric:
            return ("estimators", metric)
    for objective in spec.objectives:
        if objective.metric == metric:
            return ("objectives", metric)
    for section, items in (("constraints", spec.constraints), ("derived", spec.derived)):
        for item in items:
            if metric in names_in(item.expression):
                return (section, item.name)
    return ()

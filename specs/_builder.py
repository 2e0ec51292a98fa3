"""``SpecBuilder``: a validated document turned into the typed ``Spec``, every problem collected.

Each part of the spec is built in turn (parameters, constants, derived names, constraints,
objectives, settings); what a schema cannot say is checked here: bounds, steps, names,
reference cycles and expression types. A part with a schema violation is skipped by the later
checks, so one mistake is not reported three times.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping, Set
from typing import Any

from ._document import Document
from ._domains import DomainError, make_parameter
from ._errors import Location, Problem, SpecError
from ._expr import FUNCTIONS, parse_expression
from ._frozen import FrozenDict
from ._model import Constant, Constraint, Derived, EstimatorSettings, Objective, Parameter, Spec
from ._schema import did_you_mean, schema_issues
from ._settings import ExecutionSettings, ModelSettings, OutputSettings, SearchSettings, settings_from
from ._syntax import Expr, ExpressionError, Name, iter_nodes
from ._task_train import TaskAndTrainSections
from ._walkers import MAX_DEGREE, ValueType, degree_of, infer_type, names_in

__all__ = ["SpecBuilder"]

_RESERVED = set(FUNCTIONS) | {"True", "False", "None"}


class SpecBuilder(TaskAndTrainSections):
    """Collects problems while building each part of the ``Spec``."""

    def __init__(self, document: Document, filename: str, metrics: frozenset[str]) -> None:
        self.document = document
        self.filename = filename
        self.metrics = set(metrics)
        self.problems: list[Problem] = []
        self.broken: set[tuple[str | int, ...]] = set()
        self.name_owner: dict[str, str] = {}
        self.name_types: dict[str, ValueType] = {}
        self.choices: dict[str, tuple[str, ...]] = {}
        self.untyped: set[str] = set()
        self.cycle_names: set[str] = set()
        self.degrees: dict[str, int] = {}  # of derived names and constants (0), for ``degree_of``

    # -- reporting -----------------------------------------------------------------------

    def report(self, path: tuple[str | int, ...], message: str, hint: str | None = None, *, at_key: bool = False, location: Location | None = None) -> None:
        where = location or self.document.locate(path, key=at_key)
        self.problems.append(Problem(self.filename, where, tuple(path), message, hint))

    def is_broken(self, path: tuple[str | int, ...]) -> bool:
        return any(path[: len(broken)] == broken or broken[: len(path)] == path for broken in self.broken)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    # -- build ---------------------------------------------------------------------------

    def build(self) -> Spec:
        self.data = self.document.data
        if not isinstance(self.data, dict):
            got = "an empty file" if self.data is None else "a single value or list"
            raise SpecError([Problem(self.filename, Location(1, 1), (), f"a spec must be a mapping of fields, got {got}")])
        for issue in schema_issues(self.data):
            self.report(issue.path, issue.message, issue.hint, at_key=issue.at_key)
            self.broken.add(issue.path)
        estimators = self.build_estimators()
        self.name_types.update({metric: ValueType.REAL for metric in self.metrics})
        parameters = self.build_parameters()
        constants = self.build_constants()
        derived_expressions = self.parse_section("derived")
        for name in self.section("derived"):
            self.define("derived", name, None)
        constraints_expressions = self.parse_section("constraints")
        self.check_names(derived_expressions, "derived")
        self.check_names(constraints_expressions, "constraints")
        derived = self.build_derived(derived_expressions)
        constraints = self.build_constraints(constraints_expressions)
        objectives = self.build_objectives()
        train = self.build_train(objectives)
        if not self.is_broken(("task",)):
            self.check_task_fields(self.section("task"))
            self.check_split(self.section("task"))
        if self.problems:
            raise SpecError(self.problems)
        return Spec(
            name=self.data["name"],
            description=self.data.get("description", ""),
            task=self.build_task(),
            parameters=parameters,
            objectives=objectives,
            constants=constants,
            derived=derived,
            constraints=constraints,
            estimators=estimators,
            model=settings_from(ModelSettings, self.section("model")),
            search=settings_from(SearchSettings, self.section("search")),
            train=train,
            execution=settings_from(ExecutionSettings, self.section("execution")),
            output=settings_from(OutputSettings, self.section("output")),
            source=self.filename,
            data=FrozenDict(self.data),
            locations=FrozenDict(self.document.key_locations),
        )

    def define(self, section: str, name: str, value_type: ValueType | None) -> bool:
        """Record a new name; report it if it is reserved or taken. Returns whether it is new."""
        path = (section, name)
        if name in _RESERVED or keyword.iskeyword(name):
            self.report(path, f"'{name}' is a reserved word and cannot be a name", at_key=True)
            return False
        if name in self.name_owner:
            owner = self.name_owner[name]
            line = self.document.locate((owner, name), key=True).line
            where = f"{owner} (line {line})" if line else owner
            self.report(path, f"the name '{name}' is already defined in {where}", at_key=True)
            return False
        if name in self.metrics and section != "estimators":
            self.report(path, f"the name '{name}' is a metric; choose another name", at_key=True)
            return False
        self.name_owner[name] = section
        if value_type is None:
            self.untyped.add(name)
        else:
            self.name_types[name] = value_type
        return True

    def build_estimators(self) -> tuple[EstimatorSettings, ...]:
        result = []
        for metric, settings in self.section("estimators").items():
            path = ("estimators", metric)
            if self.is_broken(path) or not isinstance(settings, dict):
                self.metrics.add(metric)
                continue
            reference = settings.get("class")
            if reference is None and metric not in self.metrics:
                self.report(
                    path,
                    f"no estimator is registered for the metric '{metric}'",
                    did_you_mean(metric, self.metrics) or "give its class as module:Class",
                    at_key=True,
                )
            self.metrics.add(metric)
            options = FrozenDict(settings.get("options", {}))
            result.append(EstimatorSettings(metric, reference, options, self.document.locate(path, key=True)))
        return tuple(result)

    def build_parameters(self) -> tuple[Parameter, ...]:
        parameters = []
        for name, declaration in self.section("space").items():
            path = ("space", name)
            if self.is_broken(path) or not isinstance(declaration, dict):
                self.define("space", name, None)
                continue
            try:
                parameter = make_parameter(name, declaration, self.document.locate(path, key=True))
            except DomainError as error:
                field_path = path + ((error.field,) if error.field is not None and error.field in declaration else ())
                self.report(field_path, error.message, error.hint)
                self.define("space", name, None)
                continue
            if self.define("space", name, parameter.value_type):
                parameters.append(parameter)
                if parameter.kind == "categorical":
                    self.choices[name] = tuple(str(value) for value in parameter.values)
        return tuple(parameters)

    def build_constants(self) -> tuple[Constant, ...]:
        constants = []
        for name, value in self.section("constants").items():
            path = ("constants", name)
            if self.is_broken(path):
                self.define("constants", name, None)
                continue
            if isinstance(value, str):
                value_type = ValueType.STRING
            else:
                value_type = ValueType.INTEGER if type(value) is int else ValueType.REAL
            if self.define("constants", name, value_type):
                self.degrees[name] = 0
                constants.append(Constant(name, value, self.document.locate(path, key=True)))
        return tuple(constants)

    def parse_section(self, section: str) -> dict[str, tuple[str, Expr]]:
        """Parse each expression of ``derived`` or ``constraints``; report syntax errors."""
        parsed: dict[str, tuple[str, Expr]] = {}
        for name, text in self.section(section).items():
            path = (section, name)
            if self.is_broken(path) or not isinstance(text, str):
                continue
            try:
                parsed[name] = (text, parse_expression(text))
            except ExpressionError as error:
                self.report(path, error.message, location=self.document.locate_in_text(path, error.offset))
        return parsed

    def check_names(self, expressions: Mapping[str, tuple[str, Expr]], section: str) -> None:
        """Report names that are neither parameters, constants, derived names nor metrics."""
        known = set(self.name_owner) | self.metrics
        for name, (_, expression) in expressions.items():
            reported: set[str] = set()
            for node in iter_nodes(expression):
                if isinstance(node, Name) and node.id not in known and node.id not in reported:
                    reported.add(node.id)
                    self.report(
                        (section, name),
                        f"unknown name '{node.id}'",
                        did_you_mean(node.id, known) or "names are parameters, constants, derived names or metrics",
                        location=self.document.locate_in_text((section, name), node.offset),
                    )
                    self.untyped.add(node.id)

    def build_derived(self, expressions: dict[str, tuple[str, Expr]]) -> tuple[Derived, ...]:
        order = self.derived_order(expressions)
        types: dict[str, ValueType | None] = {}
        for name in order:
            text, expression = expressions[name]
            inferred = types[name] = self.infer(("derived", name), expression)
            if inferred is not None:
                self.name_types[name] = inferred
                self.untyped.discard(name)
            self.degrees[name] = self.degree(("derived", name), expression)
        # Kept in dependency order (each after the names it uses), so evaluating them in
        # sequence always works; names on a cycle are errors and are not kept.
        return tuple(Derived(name, expressions[name][0], expressions[name][1], types.get(name), self.document.locate(("derived", name), key=True)) for name in order)

    def derived_order(self, expressions: dict[str, tuple[str, Expr]]) -> list[str]:
        """Derived names in dependency order; names on a cycle are reported and left out."""
        dependencies = {name: names_in(expression) & expressions.keys() for name, (_, expression) in expressions.items()}
        for cycle in _find_cycles(dependencies):
            if not set(cycle) <= self.cycle_names:
                self.cycle_names.update(cycle)
                self.report(("derived", cycle[0]), "derived names form a cycle: " + " -> ".join(cycle), at_key=True)
        order: list[str] = []
        pending = [name for name in expressions if name not in self.cycle_names]
        while pending:
            ready = [name for name in pending if dependencies[name] <= set(order) | self.cycle_names]
            order += ready
            pending = [name for name in pending if name not in ready]
        return order

    def infer(self, path: tuple[str | int, ...], expression: Expr) -> ValueType | None:
        """The expression's type, or ``None`` when a name in it has no known type."""
        if names_in(expression) & (self.untyped | self.cycle_names):
            return None
        try:
            return infer_type(expression, self.name_types, self.choices)
        except ExpressionError as error:
            self.report(path, error.message, location=self.document.locate_in_text(path, error.offset))
            return None

    def degree(self, path: tuple[str | int, ...], expression: Expr) -> int:
        """The expression's degree bound; one past the limit is reported (at the node that
        passes it) and counts as the limit, so names that use it are not reported again."""
        try:
            return degree_of(expression, self.degrees)
        except ExpressionError as error:
            self.report(path, error.message, location=self.document.locate_in_text(path, error.offset))
            return MAX_DEGREE

    def build_constraints(self, expressions: dict[str, tuple[str, Expr]]) -> tuple[Constraint, ...]:
        constraints = []
        for name, (text, expression) in expressions.items():
            path = ("constraints", name)
            self.degree(path, expression)
            value_type = self.infer(path, expression)
            if value_type is not None and value_type is not ValueType.BOOLEAN:
                self.report(path, f"a constraint must be a condition such as 'x <= 3', but '{text}' is {_a(value_type)}")
            constraints.append(Constraint(name, text, expression, self.document.locate(path, key=True)))
        return tuple(constraints)

    def build_objectives(self) -> tuple[Objective, ...]:
        objectives = []
        known = set(self.name_owner) | self.metrics
        for metric, direction in self.section("objectives").items():
            path = ("objectives", metric)
            if self.is_broken(path):
                continue
            if metric not in known:
                self.report(path, f"unknown metric '{metric}'", did_you_mean(metric, self.metrics | set(self.name_owner)), at_key=True)
                continue
            if self.name_owner.get(metric) == "constants":
                self.report(path, f"'{metric}' is a constant: it has one value, so there is nothing to optimise (use a metric, a derived name or a numeric parameter)", at_key=True)
                continue
            value_type = self.name_types.get(metric)
            if value_type is not None and not value_type.is_number:
                self.report(path, f"'{metric}' is {_a(value_type)}; only numbers can be optimised", at_key=True)
                continue
            objectives.append(Objective(metric, direction, self.document.locate(path, key=True)))
        return tuple(objectives)


def _a(value_type: ValueType) -> str:
    return "a string" if value_type is ValueType.STRING else ("a condition" if value_type is ValueType.BOOLEAN else "a number")


def _find_cycles(dependencies: Mapping[str, Set[str]]) -> list[list[str]]:
    """Each cycle met by a depth-first walk, as a closed path ``[a, b, a]``."""
    cycles: list[list[str]] = []
    finished: set[str] = set()
    for root in dependencies:
        if root in finished:
            continue
        trail = [root]
        pending = [iter(sorted(dependencies[root]))]
        while pending:
            child = next(pending[-1], None)
            if child is None:
                finished.add(trail.pop())
                pending.pop()
            elif child in trail:
                cycles.append(trail[trail.index(child) :] + [child])
            elif child not in finished:
                trail.append(child)
                pending.append(iter(sorted(dependencies[child])))
    return cycles

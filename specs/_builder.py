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
from ._methods import DISTILL_PARAMETER, load_method, parse_methods, registered_method_names
from ._model import (
    PAIR_KINDS,
    Constant,
    Constraint,
    Derived,
    EstimatorSettings,
    ExecutionSettings,
    FieldSettings,
    FrozenDict,
    ModelSettings,
    Objective,
    OutputSettings,
    Parameter,
    SearchSettings,
    Spec,
    SplitSettings,
    TaskSettings,
    TeacherSettings,
    TrainSettings,
    settings_from,
)
from ._schema import did_you_mean, schema_issues
from ._syntax import Expr, ExpressionError, Name, iter_nodes
from ._walkers import MAX_DEGREE, ValueType, degree_of, infer_type, names_in

__all__ = ["SpecBuilder"]

_RESERVED = set(FUNCTIONS) | {"True", "False", "None"}


class SpecBuilder:
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

    def check_split(self, task: dict[str, Any]) -> None:
        """The shares of ``task.split`` leave examples to train on (each is checked alone by the schema)."""
        if self.is_broken(("task", "split")):
            return
        split = settings_from(SplitSettings, task.get("split", {}))
        if split.valid + split.test >= 1:
            self.report(
                ("task", "split"),
                f"the validation and test shares sum to {split.valid + split.test:g} (valid {split.valid:g} + test {split.test:g}): nothing is left to train on",
                "keep valid + test below 1 (the defaults are 0.1 and 0.2)",
                at_key=True,
            )

    def build_task(self) -> TaskSettings:
        task = dict(self.section("task"))
        task["split"] = settings_from(SplitSettings, task.get("split", {}))
        fields = dict(task.get("fields", {}))
        for name in ("texts", "ids"):
            if name in fields:
                fields[name] = tuple(fields[name])
        task["fields"] = settings_from(FieldSettings, fields)
        if "labels" in task:
            task["labels"] = tuple(task["labels"])
        task["split_names"] = FrozenDict(task.get("split_names", {}))
        return settings_from(TaskSettings, task)

    def build_distill(self, train: dict[str, Any]) -> FrozenDict | None:
        """``train.distill`` as ``{method: weight}`` (``None`` when not given: the trainer
        takes the default, which depends on the teacher's outputs), and the methods a
        ``distill_method`` parameter offers: known, and within what the teacher can give (a
        teacher given as predictions has no hidden states)."""
        methods: dict[str, float] | None = None
        if "distill" in train and not self.is_broken(("train", "distill")):
            try:
                methods = parse_methods(train["distill"])
            except ValueError as error:
                self.report(("train", "distill"), str(error))
        offered: list[tuple[tuple[str | int, ...], dict[str, float]]] = [(("train", "distill"), methods)] if methods is not None else []
        parameter = self.section("space").get(DISTILL_PARAMETER)
        if isinstance(parameter, dict) and not self.is_broken(("space", DISTILL_PARAMETER)):
            choices = parameter.get("choices")
            if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
                self.report(("space", DISTILL_PARAMETER), f"{DISTILL_PARAMETER} searches distillation methods: give {{choices: [...]}} of method strings such as logits, dist or 'logits+hidden'")
                choices = []
            for index, choice in enumerate(choices):
                where: tuple[str | int, ...] = ("space", DISTILL_PARAMETER, "choices", index)
                try:
                    offered.append((where, parse_methods(choice)))
                except ValueError as error:
                    self.report(where, f"{DISTILL_PARAMETER}: {error}")
        teacher = self.section("train").get("teacher")  # as written (``train`` holds settings by now)
        if isinstance(teacher, dict) and teacher.get("predictions") and train.get("augment"):
            self.report(("train", "augment"), "augmented inputs must be labelled by the teacher, and a teacher given as its predictions has only the data's: set train.teacher.model, or augment: 0")
        if isinstance(teacher, dict) and teacher.get("predictions"):
            for path, chosen in offered:
                needs = [name for name in chosen if _needs_teacher_features(name)]
                if needs:
                    supported = sorted(name for name in registered_method_names() if _needs_teacher_features(name) is False)
                    self.report(path, f"'{needs[0]}' needs the teacher's hidden states, and a teacher given as its predictions has none (it supports {', '.join(supported)})")
        return FrozenDict(methods) if methods is not None else None

    def check_predictions(self, teacher: dict[str, Any]) -> None:
        """A teacher is a model or its predictions; some settings only mean something for the
        latter."""
        if not teacher.get("model") and not teacher.get("predictions"):
            self.report(("train", "teacher"), "a teacher needs 'model' (a Hugging Face id or folder) or 'predictions' (its outputs on the data, a file)")
        if teacher.get("predictions"):
            return
        for name in ("prediction_ids", "outputs", "size_mb", "latency_ms"):
            if name in teacher:
                self.report(("train", "teacher", name), f"'{name}' describes a teacher given as its predictions: set train.teacher.predictions (a model's size and latency are measured)", at_key=True)

    def check_task_fields(self, task: dict[str, Any]) -> None:
        """The fields a task's kind needs: pairs name two texts or two ids (ids need a table of
        functions); one text is not a pair's. Labels are told apart by their text."""
        kind, fields = task.get("kind"), task.get("fields", {})
        labels = [str(label) for label in task.get("labels", [])]
        if len(set(labels)) != len(labels):
            self.report(("task", "labels"), f"labels {labels} name one class twice (a label in the data is matched by its text)")
        if kind in ("classify", "defect") and ("texts" in fields or "ids" in fields):
            name = "texts" if "texts" in fields else "ids"
            self.report(("task", "fields", name), f"task.kind {kind} reads one text per example: use task.fields.text (or task.kind: pair)")
        if kind in PAIR_KINDS and "texts" in fields and "ids" in fields:
            self.report(("task", "fields", "ids"), "a pair is given either by two text fields (texts) or by two ids into task.functions (ids), not both")
        if "ids" in fields and not task.get("functions"):
            self.report(("task", "fields", "ids"), "task.fields.ids point into a table of functions: set task.functions to its file")
        if kind in PAIR_KINDS and "text" in fields:
            self.report(("task", "fields", "text"), "a pair has two texts: use task.fields.texts: [FIELD1, FIELD2], or ids into task.functions")

    def build_train(self, objectives: tuple[Objective, ...]) -> TrainSettings:
        train = dict(self.section("train"))
        teacher = train.get("teacher")
        if isinstance(teacher, str):
            train["teacher"] = TeacherSettings(model=teacher)
        elif isinstance(teacher, dict) and not self.is_broken(("train", "teacher")):
            train["teacher"] = settings_from(TeacherSettings, teacher)
            self.check_predictions(teacher)
        train["distill"] = self.build_distill(train)
        kind = self.section("task").get("kind")
        if train.get("transfer_pairs") and isinstance(kind, str) and kind not in PAIR_KINDS:
            self.report(("train", "transfer_pairs"), f"transfer_pairs pairs the functions of a pair task anew, and a {kind} task has single inputs: point task.unlabeled at unlabelled code instead")
        if self.section("task").get("unlabeled") and kind in PAIR_KINDS:
            self.report(("task", "unlabeled"), f"a {kind} task's transfer set is new pairs of its functions: set train.transfer_pairs: N instead of task.unlabeled")
        select = train.get("select")
        if isinstance(select, str) and select.startswith("best:") and not self.is_broken(("train", "select")):
            metric = select.removeprefix("best:")
            names = [objective.metric for objective in objectives]
            if metric not in names and self.data.get("objectives"):
                self.report(("train", "select"), f"'{metric}' is not an objective of this spec", did_you_mean(metric, names))
        return settings_from(TrainSettings, train)


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


def _needs_teacher_features(name: str) -> bool | None:
    """Whether the method ``name`` reads the teacher's hidden states (``None``: its plugin
    does not load, which the trainer's checks report)."""
    try:
        return bool(getattr(load_method(name), "needs_teacher_features", False))
    except ValueError:
        return None

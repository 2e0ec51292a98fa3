"""The ``task`` and ``train`` sections, checked and built: the part of ``SpecBuilder`` that
holds what the trainer reads (the task's fields and split, the teacher, distillation methods,
transfer sets, selection). A mixin, so that each module owns one part of the spec; it reports
through the builder's ``report``.
"""

from __future__ import annotations

from typing import Any

from ._errors import Location
from ._frozen import FrozenDict
from ._methods import DISTILL_PARAMETER, load_method, parse_methods, registered_method_names
from ._model import Objective
from ._schema import did_you_mean
from ._settings import PAIR_KINDS, FieldSettings, SplitSettings, TaskSettings, TeacherSettings, TrainSettings, settings_from

__all__ = ["TaskAndTrainSections"]


class TaskAndTrainSections:
    """``SpecBuilder``'s checks and builders of ``task`` and ``train``."""

    data: Any

    def report(self, path: tuple[str | int, ...], message: str, hint: str | None = None, *, at_key: bool = False, location: Location | None = None) -> None:
        raise NotImplementedError  # SpecBuilder's

    def is_broken(self, path: tuple[str | int, ...]) -> bool:
        raise NotImplementedError  # SpecBuilder's

    def section(self, name: str) -> dict[str, Any]:
        raise NotImplementedError  # SpecBuilder's

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
        if train.get("transfer_pairs") not in (None, 0, "auto") and isinstance(kind, str) and kind not in PAIR_KINDS:
            self.report(("train", "transfer_pairs"), f"transfer_pairs pairs the functions of a pair task anew, and a {kind} task has single inputs: point task.unlabeled at unlabelled code instead")
        if self.section("task").get("unlabeled") and kind in PAIR_KINDS:
            self.report(("task", "unlabeled"), f"a {kind} task's transfer set is new pairs of its own functions (train.transfer_pairs, auto by default), not task.unlabeled: remove task.unlabeled")
        select = train.get("select")
        if isinstance(select, str) and select.startswith("best:") and not self.is_broken(("train", "select")):
            metric = select.removeprefix("best:")
            names = [objective.metric for objective in objectives]
            if metric not in names and self.data.get("objectives"):
                self.report(("train", "select"), f"'{metric}' is not an objective of this spec", did_you_mean(metric, names))
        return settings_from(TrainSettings, train)


def _needs_teacher_features(name: str) -> bool | None:
    """Whether the method ``name`` reads the teacher's hidden states (``None``: its plugin
    does not load, which the trainer's checks report)."""
    try:
        return bool(getattr(load_method(name), "needs_teacher_features", False))
    except ValueError:
        return None

"""Files a command writes at a path the user names (``--write-predictions FILE``) never
replace a file by accident: not the spec, not the data, not a predictions file the spec reads,
and no other existing file unless the user says so with ``--overwrite``."""

from __future__ import annotations

from pathlib import Path

from avatar.specs import NAMED_DATA, Spec

from ._errors import RunError

__all__ = ["check_output_file"]


def check_output_file(path: Path, spec: Spec, *, option: str, data: str | None = None, overwrite: bool = False) -> None:
    """Refuse ``path`` when writing it would destroy something.

    Raises:
        RunError: ``path`` is a folder, is the spec, is (or is inside) the task's data or a
            file the spec reads, or exists and ``overwrite`` is false.
    """
    target = path.expanduser().resolve()
    if target.is_dir():
        raise RunError(f"{option} {path}: is a folder; name a file to write")
    for what, protected in _inputs(spec, data):
        if target == protected or protected in target.parents:
            raise RunError(f"{option} {path}: is {what} ({protected}); Avatar never writes over its inputs: name another file")
    if target.exists() and not overwrite:
        raise RunError(f"{option} {path}: the file exists, and Avatar does not replace a file it may not have written; name another file, or pass --overwrite to replace it")


def _inputs(spec: Spec, data: str | None) -> list[tuple[str, Path]]:
    """The files and folders the run reads, resolved: the spec, the data, the teacher's files."""
    inputs = [("the spec", Path(spec.source))]
    location = spec.task_data(data)
    if not location.startswith(NAMED_DATA):
        inputs.append(("the task's data", Path(location)))
    if spec.task.functions:
        inputs.append(("the task's functions file", Path(spec.resolve_path(spec.task.functions))))
    teacher = spec.train.teacher
    for name in ("predictions", "prediction_ids"):
        value = getattr(teacher, name, None) if teacher is not None else None
        if value:
            inputs.append((f"train.teacher.{name}", Path(spec.resolve_path(value))))
    return [(what, where.expanduser().resolve()) for what, where in inputs]

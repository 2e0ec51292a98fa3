"""Students realised in parallel: their distillations run through the run's executor.

``--jobs N`` (local worker processes) or ``--scheduler`` (a Dask cluster) run one distillation
per worker: one task per selected point and seed (``train.restarts``). A task carries the spec,
the configuration, the data and the *path* of the teacher's saved outputs in the cache (its
logits, and its features' folders), not the tensors, so workers share them through the cache.
Each task writes its checkpoints in its student's own folder (``students/<key>/checkpoint``,
``seed-N`` with restarts), so a killed worker's student resumes from its last epoch when the
command runs again. The finishing steps (the best restart, the decision threshold, the test
split, the exports and the latency and energy measurements) then run in the main process, one
student after another: measured while other students train, latency would measure the load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from avatar.specs import AvatarError, Cache, SelectedPoint, Spec

from ..data import TaskData, save_atomically
from ._distil import TeacherOutputs, distil

__all__ = ["RestartTask", "save_outputs", "load_outputs", "restart_tasks", "run_restarts", "StudentsFailedError", "share_cpu", "local_threads"]


class StudentsFailedError(AvatarError):
    """Some students' distillations failed in their workers (the others are finished and kept)."""


def save_outputs(outputs: TeacherOutputs, cache_dir: Path) -> Path:
    """The teacher's outputs written once into the cache (by content), for workers to load."""
    state = {"unlabeled": outputs.unlabeled, "labeled": outputs.labeled, "features": outputs.features, "labeled_features": outputs.labeled_features, "methods": dict(outputs.methods or {}) or None}
    digest = hashlib.sha256()
    for tensor in (outputs.unlabeled, outputs.labeled):
        if tensor is not None:
            digest.update(tensor.numpy().tobytes())
    digest.update(repr((outputs.features, outputs.labeled_features, sorted((outputs.methods or {}).items()))).encode())
    path = Cache(cache_dir).targets(digest.hexdigest()[:20])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        save_atomically(state, path)
    return path


def load_outputs(path: Path) -> TeacherOutputs:
    """The teacher's outputs ``save_outputs`` wrote (in a worker)."""
    return TeacherOutputs(**torch.load(path, weights_only=False))


@dataclass(frozen=True)
class RestartTask:
    """One student's distillation from one seed, for a worker (picklable, small)."""

    spec: Spec
    config: dict[str, Any]
    data: TaskData
    outputs_path: str
    checkpoint_dir: str
    cache_dir: str
    device: str
    seed: int
    threads: int | None = None  # CPU threads for this worker: the machine's share, not all of them
    timeout: float | None = None

    def run(self) -> Mapping[str, Any]:
        share_cpu(self.threads)
        distilled = distil(self.spec, self.config, self.data, load_outputs(Path(self.outputs_path)), Path(self.checkpoint_dir), Path(self.cache_dir), device=self.device, seed=self.seed)
        return {"best": float(distilled.result.best_metric), "epochs_run": float(distilled.result.epochs_run)}

    def picklable(self) -> RestartTask:
        return self


def share_cpu(threads: int | None) -> None:
    """Use ``threads`` CPU threads in this worker: local workers that each take every core
    oversubscribe the machine (two workers on 2 cores ran more than 5 times slower than one process)."""
    if threads:
        torch.set_num_threads(threads)


def local_threads(executor: Any) -> int | None:
    """The CPU threads a task may use on ``executor``'s workers (its ``task_threads``: local
    workers share this machine's cores; a Dask worker runs one task per thread it has)."""
    return getattr(executor, "task_threads", None)


def restart_tasks(
    spec: Spec, points: Sequence[SelectedPoint], data: TaskData, outputs: TeacherOutputs, folders: Mapping[str, Path], cache_dir: Path, device: str, threads: int | None = None
) -> list[tuple[str, RestartTask]]:
    """One task per point and seed, with the checkpoint folder ``best_restart`` uses."""
    outputs_path = str(save_outputs(outputs, cache_dir))
    light = replace(data, test=[])  # workers never see the test split
    tasks = []
    for point in points:
        for index in range(spec.train.restarts):
            seed = spec.train.seed + index
            checkpoint = folders[point.key] / "checkpoint"
            checkpoint = checkpoint / f"seed-{seed}" if spec.train.restarts > 1 else checkpoint
            tasks.append((point.key, RestartTask(spec, dict(point.config), light, outputs_path, str(checkpoint), str(cache_dir), device, seed, threads)))
    return tasks


def run_restarts(executor: Any, tasks: Sequence[tuple[str, RestartTask]], on_done: Callable[[str, Any], None] | None = None) -> None:
    """Run the tasks on ``executor`` (``submit``/``results``, as the solver's executors have).

    Raises:
        StudentsFailedError: naming each failed student and why; the finished ones keep their
            checkpoints, so a rerun trains only what is left.
    """
    for index, (_, task) in enumerate(tasks):
        executor.submit(index, task)
    failures = []
    for index, result in executor.results():
        key = tasks[index][0]
        if result.error is not None:
            failures.append(f"{key} (seed {tasks[index][1].seed}): {result.error}")
        if on_done is not None:
            on_done(key, result)
    if failures:
        raise StudentsFailedError(
            f"{len(failures)} of {len(tasks)} student distillations failed in their workers: {'; '.join(failures)}. "
            "Finished ones are kept with their checkpoints; run the command again (solve SPEC --train-only) to continue the rest from theirs"
        )

"""The trainer's distillation room: the losses of each method, the teacher's cached features,
the one training loop (the teacher's fine-tuning uses it too), one student's distillation, and
distillations run on the run's workers.

It reads the data and students rooms; it knows no teacher model, only the outputs it left.
"""

from ._distil import Distilled, TeacherOutputs, best_restart, distil, distillation_loss, methods_of
from ._features import FeatureError, TeacherFeatures, segment_pool, student_forward, teacher_features
from ._loop import LoopResult, LoopSettings, train
from ._losses import DistillationLoss, StudentOutputs, TeacherTargets, dist_loss, layer_map, logits_loss
from ._workers import RestartTask, StudentsFailedError, load_outputs, local_threads, restart_tasks, run_restarts, save_outputs, share_cpu

__all__ = [
    "DistillationLoss",
    "StudentOutputs",
    "TeacherTargets",
    "dist_loss",
    "layer_map",
    "logits_loss",
    "FeatureError",
    "TeacherFeatures",
    "segment_pool",
    "student_forward",
    "teacher_features",
    "LoopResult",
    "LoopSettings",
    "train",
    "Distilled",
    "TeacherOutputs",
    "best_restart",
    "distil",
    "distillation_loss",
    "methods_of",
    "RestartTask",
    "StudentsFailedError",
    "load_outputs",
    "local_threads",
    "restart_tasks",
    "run_restarts",
    "save_outputs",
    "share_cpu",
]

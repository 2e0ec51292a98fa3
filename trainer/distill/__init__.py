"""The trainer's distillation room: the methods (objects registered in the ``avatar.distill``
entry-point group) and their losses, the teacher's cached features,
the one training loop (the teacher's fine-tuning uses it too), one student's distillation, and
distillations run on the run's workers.

It reads the data and students rooms; it knows no teacher model, only the outputs it left.
"""

from ._distil import BatchTargets, Distilled, TeacherOutputs, best_restart, distil, distillation_examples, distillation_loss, methods_of, student_objective, with_hard_labels
from ._features import FeatureError, TeacherFeatures, segment_pool, student_forward, teacher_features
from ._loop import LoopResult, LoopSettings, train
from ._losses import StudentOutputs, TeacherTargets, dist_loss, layer_map, logits_loss
from ._methods import AttentionRelations, Dist, DistillationMethod, HardLabels, Hidden, Logits, LossShape
from ._registry import DistillationLoss, MethodError, MethodMix, get_method
from ._workers import RestartTask, StudentsFailedError, load_outputs, local_threads, restart_tasks, run_restarts, save_outputs, share_cpu

__all__ = [
    "DistillationMethod",
    "LossShape",
    "Logits",
    "Dist",
    "HardLabels",
    "Hidden",
    "AttentionRelations",
    "MethodError",
    "MethodMix",
    "get_method",
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
    "BatchTargets",
    "Distilled",
    "with_hard_labels",
    "TeacherOutputs",
    "best_restart",
    "distil",
    "distillation_examples",
    "distillation_loss",
    "student_objective",
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

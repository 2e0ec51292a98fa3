"""Avatar trainer: realise selected configurations by knowledge distillation.

Four rooms, each reading only the ones before it: ``data`` (tables, examples, seeded leak-free
splits, built-in sets, augmentation, tokenizers), ``students`` (inference, metrics, threshold,
costs, exports), ``distill`` (losses, features, the loop, one distillation, workers) and
``teacher`` (a teacher fine-tuned once and cached with its logits, used as it is, or given as
predictions). The pipeline on top prepares the distillation, realises the selected points and
probes configurations for the search. Importing this package imports torch.
"""

from ._distillation import Distillation, default_device, methods_needed, prepare_distillation, teacher_settings
from ._pipeline import measure_teacher, train_selected
from ._preflight import preflight
from ._probe import DistillationProber, ProbeTask
from ._realise import train_student
from ._write_predictions import write_teacher_predictions
from .data import (
    BUILTIN_PREFIX,
    SPECIAL_TOKENS,
    TOKENIZER_TYPES,
    DataError,
    Example,
    PairSplit,
    TaskData,
    load_or_train_tokenizer,
    load_task_data,
    read_examples,
    split_examples,
    split_pairs,
    split_pairs_at_random,
    train_tokenizer,
)
from .distill import StudentsFailedError, TeacherOutputs, distillation_loss
from .students import classification_metrics, load_student, primary_metric
from .teacher import (
    HopelessTeacherError,
    Predictions,
    PredictionsError,
    Teacher,
    TeacherError,
    TeacherForCloneDetection,
    WeakTeacherError,
    check_teacher_available,
    checked_predictions,
    has_task_head,
    prepare_teacher,
    read_predictions,
    resolve_teacher,
)

__all__ = [
    "BUILTIN_PREFIX",
    "DataError",
    "Example",
    "TaskData",
    "load_task_data",
    "split_examples",
    "read_examples",
    "PairSplit",
    "split_pairs",
    "split_pairs_at_random",
    "classification_metrics",
    "primary_metric",
    "default_device",
    "Distillation",
    "prepare_distillation",
    "teacher_settings",
    "methods_needed",
    "TeacherOutputs",
    "measure_teacher",
    "DistillationProber",
    "ProbeTask",
    "train_selected",
    "distillation_loss",
    "load_student",
    "train_student",
    "Teacher",
    "TeacherError",
    "PredictionsError",
    "StudentsFailedError",
    "Predictions",
    "read_predictions",
    "checked_predictions",
    "write_teacher_predictions",
    "preflight",
    "WeakTeacherError",
    "HopelessTeacherError",
    "has_task_head",
    "TeacherForCloneDetection",
    "prepare_teacher",
    "resolve_teacher",
    "check_teacher_available",
    "SPECIAL_TOKENS",
    "TOKENIZER_TYPES",
    "load_or_train_tokenizer",
    "train_tokenizer",
]

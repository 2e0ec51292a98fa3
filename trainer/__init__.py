"""Avatar trainer: realise selected configurations by knowledge distillation.

Data (CodeXGLUE layouts and ``builtin:python-clones``) with seeded, leak-free splits; a
teacher fine-tuned once and cached with its logits; a tokenizer per (type, vocabulary size);
students distilled on the teacher's logits, evaluated on the test split once, measured, and
saved in Hugging Face format. Importing this package imports torch.
"""

from ._data import BUILTIN_PREFIX, DataError, Example, TaskData, load_task_data, read_examples, split_examples
from ._pair_split import PairSplit, split_pairs, split_pairs_at_random
from ._metrics import classification_metrics, primary_metric
from ._pipeline import Distillation, default_device, measure_teacher, methods_needed, prepare_distillation, teacher_settings, train_selected
from ._probe import DistillationProber, ProbeTask
from ._distil import TeacherOutputs, distillation_loss
from ._student import load_student, train_student
from ._parallel import StudentsFailedError
from ._predictions import Predictions, PredictionsError, checked_predictions, read_predictions
from ._write_predictions import write_teacher_predictions
from ._teacher import Teacher, TeacherError, TeacherForCloneDetection, WeakTeacherError, check_teacher_available, has_task_head, prepare_teacher, resolve_teacher
from ._tokenizers import SPECIAL_TOKENS, TOKENIZER_TYPES, load_or_train_tokenizer, train_tokenizer

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
    "WeakTeacherError",
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

"""The trainer's teacher room: finding and loading a teacher, fine-tuning it once and caching
it with its logits, a teacher given as its predictions (three kinds behind one ``Teacher``
interface, ``_kinds``; ``prepare_teacher`` is the factory, ``load_teacher`` loads one in a worker), the weak-teacher rule, the lexical baseline it is read
against, and its inference chunked over the run's workers.

It reads the data, students and distillation rooms (its fine-tuning runs the one loop).
"""

from ._baseline import BASELINE_NAME, BASELINE_VERSION, baseline_logits, lexical_baseline
from ._errors import TeacherError, WeakTeacherError
from ._hopeless import HopelessFineTuning, HopelessTeacherError
from ._hub import check_teacher_available, check_weight_files, resolve_teacher
from ._kinds import AsIsTeacher, FineTunedTeacher, ModelTeacher, PredictionsTeacher, Teacher, TeacherReference, load_teacher
from ._models import TeacherForCloneDetection, has_task_head
from ._predictions import Predictions, PredictionsError, checked_predictions, read_predictions
from ._teacher import MARKER, evaluate_teacher, prepare_teacher, teacher_logits, teacher_warnings
from ._workers import PARALLEL_INFERENCE_AT_LEAST, InferenceTask, logits_on_workers

__all__ = [
    "HopelessFineTuning",
    "HopelessTeacherError",
    "BASELINE_NAME",
    "BASELINE_VERSION",
    "baseline_logits",
    "lexical_baseline",
    "Predictions",
    "PredictionsError",
    "checked_predictions",
    "read_predictions",
    "MARKER",
    "Teacher",
    "ModelTeacher",
    "FineTunedTeacher",
    "AsIsTeacher",
    "PredictionsTeacher",
    "TeacherReference",
    "load_teacher",
    "TeacherError",
    "TeacherForCloneDetection",
    "WeakTeacherError",
    "check_teacher_available",
    "check_weight_files",
    "evaluate_teacher",
    "has_task_head",
    "prepare_teacher",
    "resolve_teacher",
    "teacher_logits",
    "teacher_warnings",
    "PARALLEL_INFERENCE_AT_LEAST",
    "InferenceTask",
    "logits_on_workers",
]

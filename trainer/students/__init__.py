"""The trainer's students room: what is done with a trained model. Its logits and scores, the
decision threshold, the metrics, its measured costs, its exported variants (ONNX, int8) and
model card, and loading it back.

It reads the data room only; the distillation and teacher rooms evaluate through it.
"""

from ._costs import inference_costs, model_costs, training_energy
from ._inference import logit_scores, logits_of, predict_logits
from ._metrics import checkpoint_metric, classification_metrics, multiclass_metrics, primary_metric, roc_auc
from ._saving import REMOTE_CODE_FILE, label_names_of, save_student
from ._student import load_student
from ._threshold import fold_threshold, margins, output_layer, predictions_at, tune_threshold
from ._variants import onnx_variant, quantized_variant, write_card
from ._weakness import MISSED_CLASS_SHARE, ONE_CLASS_SHARE, auc_interval, logit_weakness, unpredicted_classes, weakness

__all__ = [
    "checkpoint_metric",
    "classification_metrics",
    "multiclass_metrics",
    "primary_metric",
    "roc_auc",
    "fold_threshold",
    "margins",
    "output_layer",
    "predictions_at",
    "tune_threshold",
    "logit_scores",
    "logits_of",
    "predict_logits",
    "inference_costs",
    "model_costs",
    "training_energy",
    "onnx_variant",
    "quantized_variant",
    "write_card",
    "load_student",
    "save_student",
    "label_names_of",
    "REMOTE_CODE_FILE",
    "ONE_CLASS_SHARE",
    "auc_interval",
    "weakness",
    "logit_weakness",
    "unpredicted_classes",
    "MISSED_CLASS_SHARE",
]

"""Avatar objectives: the estimator interface, its registry, model families and built-ins.

Built-in metrics: ``params``, ``size_mb`` and ``gflops`` (exact closed forms), ``latency_ms``
(measured, or predicted by a calibrated closed form), ``energy_j`` and ``carbon_g``.
Importing this package does not import torch; building or measuring a model does.
"""

from avatar.specs import write_json_atomically  # re-exported: plugins write their files whole too

from ._accuracy import AccuracyEstimator, AccuracyProxyEstimator
from ._base import Context, Estimator, EstimatorError, Measurement, default_cache_dir
from ._closed_form import ClosedFormEstimator
from ._energy import DEFAULT_INTENSITY_G_PER_KWH, DEFAULT_WATTS_PER_CORE, CarbonEstimator, EnergyEstimator
from ._families import ModelFamily, NumericView, SymbolicView, family_names, get_family
from ._flops import FlopsEstimator
from ._latency import LatencyEstimator, LatencyModel
from ._measure import InferenceMeasurement, MeasurementProtocol, RaplMeter, measure_inference, quantize_int8, time_inference, timing_input_ids
from ._params import ParamsEstimator
from ._phase_energy import BuiltinMeter, CodeCarbonMeter, Metered, PhaseMeter, metered, phase_meter
from ._plugins import ALLOW_ENVIRONMENT, allow_plugins, allowed_plugin_packages
from ._progress_lines import LineProgress, progress_display
from ._registry import estimators_for, evaluate, get, load_estimator_class, metric_value, searched_metrics, spec_metrics, validate
from ._roberta import RobertaFamily
from ._size import BYTES_PER_PARAMETER, SizeEstimator
from ._surrogate import SURROGATE_KINDS, CrossValidation, Encoder, Surrogate, cross_validate
from ._symbolic import ConstantConfig, SymbolicConfig, Term, as_node, as_term, ite, to_number

__all__ = [
    "AccuracyEstimator",
    "AccuracyProxyEstimator",
    "SURROGATE_KINDS",
    "CrossValidation",
    "Encoder",
    "Surrogate",
    "cross_validate",
    "Estimator",
    "ClosedFormEstimator",
    "Measurement",
    "Context",
    "EstimatorError",
    "default_cache_dir",
    "get",
    "evaluate",
    "validate",
    "spec_metrics",
    "searched_metrics",
    "estimators_for",
    "load_estimator_class",
    "metric_value",
    "write_json_atomically",
    "LineProgress",
    "progress_display",
    "allow_plugins",
    "allowed_plugin_packages",
    "ALLOW_ENVIRONMENT",
    "ModelFamily",
    "RobertaFamily",
    "NumericView",
    "SymbolicView",
    "get_family",
    "family_names",
    "ParamsEstimator",
    "SizeEstimator",
    "FlopsEstimator",
    "LatencyEstimator",
    "LatencyModel",
    "EnergyEstimator",
    "CarbonEstimator",
    "BYTES_PER_PARAMETER",
    "DEFAULT_WATTS_PER_CORE",
    "DEFAULT_INTENSITY_G_PER_KWH",
    "MeasurementProtocol",
    "InferenceMeasurement",
    "RaplMeter",
    "PhaseMeter",
    "BuiltinMeter",
    "CodeCarbonMeter",
    "Metered",
    "metered",
    "phase_meter",
    "measure_inference",
    "time_inference",
    "quantize_int8",
    "timing_input_ids",
    "SymbolicConfig",
    "ConstantConfig",
    "Term",
    "as_node",
    "as_term",
    "ite",
    "to_number",
    "RobertaForCloneDetection",
    "mean_pool",
    "comparison_features",
]

_TORCH_NAMES = ("RobertaForCloneDetection", "mean_pool", "comparison_features")


def __getattr__(name: str):
    """The torch models and helpers import torch, so they are loaded on first use only."""
    if name in _TORCH_NAMES:
        from . import _roberta_models

        return getattr(_roberta_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Avatar specs: the schema, the loader and the expression language, and the typed records of a
run's files (``RunDirectory``), which every other package may read and write.

>>> from avatar.specs import load
>>> load("specs/examples/quickstart.yaml").name  # run from the repository root
'quickstart'

Importing this package never imports torch or the other Avatar packages.
"""

from ._cache import CACHE_ENVIRONMENT, Cache
from ._domains import DEFAULT_LOG_POINTS, MAX_DOMAIN_SIZE
from ._errors import AvatarError, Location, Problem, SpecError, describe_error
from ._expr import parse_expression
from ._files import file_mode, write_atomically, write_json_atomically
from ._frozen import FrozenDict
from ._learning_parts import FitRecord, FrontPointRecord, ProbeRecord
from ._loader import FORMATS, load, loads, parse_override
from ._methods import DEFAULT_METHODS, DISTILL_ENTRY_POINT_GROUP, DISTILL_METHODS, DISTILL_PARAMETER, FALLBACK_METHODS, default_methods, load_method, parse_methods, registered_method_names
from ._metrics import ENTRY_POINT_GROUP, registered_metric_names
from ._model import NAMED_DATA, Constant, Constraint, Derived, EstimatorSettings, Objective, Parameter, Spec
from ._records import LearningRecord, Manifest, SelectedPoint, Selection, SpaceReport
from ._run_directory import RunDirectory, RunFileError
from ._schema import SCHEMA_PATH, schema
from ._settings import (
    PAIR_KINDS,
    ExecutionSettings,
    FieldSettings,
    ModelSettings,
    OutputSettings,
    SearchSettings,
    SplitSettings,
    TaskSettings,
    TeacherSettings,
    TrainSettings,
)
from ._student_parts import (
    DataRecord,
    EnergyRecord,
    EpochRecord,
    PredictionRecord,
    RestartRecord,
    TeacherThreshold,
    TeacherValidation,
    ThresholdRecord,
    ValidationRecord,
    VariantRecord,
)
from ._students_records import BaselineRecord, StudentRecord, StudentsRecord, TeacherRecord
from ._syntax import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Expr,
    ExpressionError,
    Membership,
    Name,
    Number,
    String,
    Unary,
    Walker,
    iter_nodes,
)
from ._walkers import MAX_DEGREE, ValueType, degree_of, evaluate_expression, infer_type, names_in, to_text

__all__ = [
    "load",
    "loads",
    "parse_override",
    "FORMATS",
    "Spec",
    "Parameter",
    "Constant",
    "Derived",
    "Constraint",
    "Objective",
    "EstimatorSettings",
    "TaskSettings",
    "SplitSettings",
    "DISTILL_METHODS",
    "DISTILL_PARAMETER",
    "DISTILL_ENTRY_POINT_GROUP",
    "registered_method_names",
    "load_method",
    "parse_methods",
    "default_methods",
    "DEFAULT_METHODS",
    "FALLBACK_METHODS",
    "FieldSettings",
    "PAIR_KINDS",
    "NAMED_DATA",
    "ModelSettings",
    "SearchSettings",
    "TrainSettings",
    "TeacherSettings",
    "ExecutionSettings",
    "OutputSettings",
    "FrozenDict",
    "SpecError",
    "describe_error",
    "AvatarError",
    "Problem",
    "Location",
    "SCHEMA_PATH",
    "schema",
    "ENTRY_POINT_GROUP",
    "registered_metric_names",
    "MAX_DOMAIN_SIZE",
    "DEFAULT_LOG_POINTS",
    "Expr",
    "Number",
    "String",
    "Name",
    "Unary",
    "Binary",
    "Compare",
    "BoolOp",
    "Call",
    "Membership",
    "ExpressionError",
    "Walker",
    "iter_nodes",
    "parse_expression",
    "ValueType",
    "names_in",
    "infer_type",
    "evaluate_expression",
    "to_text",
    "MAX_DEGREE",
    "degree_of",
    "RunDirectory",
    "Cache",
    "CACHE_ENVIRONMENT",
    "RunFileError",
    "SelectedPoint",
    "Selection",
    "StudentRecord",
    "FitRecord",
    "ProbeRecord",
    "FrontPointRecord",
    "DataRecord",
    "EpochRecord",
    "PredictionRecord",
    "RestartRecord",
    "TeacherThreshold",
    "TeacherValidation",
    "EnergyRecord",
    "ThresholdRecord",
    "ValidationRecord",
    "VariantRecord",
    "TeacherRecord",
    "StudentsRecord",
    "BaselineRecord",
    "LearningRecord",
    "SpaceReport",
    "Manifest",
    "write_json_atomically",
    "write_atomically",
    "file_mode",
]

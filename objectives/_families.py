"""Model families: how a configuration becomes a Hugging Face model, and its closed forms.

A family's formulas are written once against a *view* of the configuration. ``NumericView``
reads concrete values (Python ints, exact); ``SymbolicView`` reads PySMT terms from a
``SymbolicConfig``. Names missing from the configuration take the family's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ._base import EstimatorError
from ._symbolic import SymbolicConfig, Term, ite

if TYPE_CHECKING:
    from avatar.specs import Spec

__all__ = ["ModelFamily", "NumericView", "SymbolicView", "get_family", "family_names", "REQUIRED"]

REQUIRED = object()


class NumericView:
    """Concrete values of one configuration, completed with the family's defaults."""

    def __init__(self, config: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
        self.config = config
        self.defaults = defaults

    def value(self, name: str) -> Any:
        if name in self.config:
            return self.config[name]
        default = self.defaults.get(name, REQUIRED)
        if default is REQUIRED:
            raise EstimatorError(f"the configuration has no value for '{name}'")
        return default

    def number(self, name: str) -> int:
        value = self.value(name)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    def flag(self, name: str, choice: str) -> int:
        return int(self.value(name) == choice)

    def floor_div(self, numerator: int, denominator: int) -> int:
        return numerator // denominator


class SymbolicView:
    """PySMT terms for one symbolic configuration, completed with the family's defaults."""

    def __init__(self, config: SymbolicConfig, defaults: Mapping[str, Any]) -> None:
        self.config = config
        self.defaults = defaults

    def number(self, name: str) -> Term | int:
        if self.config.has(name):
            return self.config.number(name)
        return NumericView({}, self.defaults).number(name)

    def flag(self, name: str, choice: str) -> Term | int:
        if self.config.has(name):
            return ite(self.config.is_value(name, choice), 1, 0)
        return NumericView({}, self.defaults).flag(name, choice)

    def floor_div(self, numerator: Any, denominator: Any) -> Term | int:
        if isinstance(numerator, int) and isinstance(denominator, int):
            return numerator // denominator
        return self.config.floor_div(numerator, denominator)


class ModelFamily:
    """Base of model families. Subclasses define the names they read and their formulas.

    ``names`` maps each configuration name the family reads to its default (``REQUIRED`` when a
    spec must provide it as a parameter or constant). ``params``, ``linear_weights`` and
    ``flops`` take a view (numeric or symbolic), the task kind and the number of labels (the
    width of the classification head).
    """

    name: ClassVar[str]
    names: ClassVar[dict[str, Any]]

    def numeric(self, config: Mapping[str, Any]) -> NumericView:
        return NumericView(config, self.names)

    def symbolic(self, config: SymbolicConfig) -> SymbolicView:
        return SymbolicView(config, self.names)

    def validate(self, spec: Spec) -> list[tuple[tuple[str | int, ...], str]]:
        """Problems of ``spec`` for this family, as ``(field path, message)`` pairs."""
        raise NotImplementedError

    def check(self, config: Mapping[str, Any]) -> str | None:
        """Why this family cannot build ``config``, or ``None`` when it can."""
        return None

    def params(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        raise NotImplementedError

    def non_embedding_params(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        """Parameters outside the embedding tables (the ``accuracy_proxy`` capacity measure)."""
        raise NotImplementedError

    def linear_weights(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        raise NotImplementedError

    def flops(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        raise NotImplementedError

    def cost_features(self, view: Any, task_kind: str) -> dict[str, Any]:
        """Terms of a CPU latency cost model (``latency_ms`` in its predicted mode)."""
        raise NotImplementedError

    def build(self, config: Mapping[str, Any], task_kind: str, num_labels: int = 2, **options: Any) -> Any:
        """A model with random weights (torch ``nn.Module``)."""
        raise NotImplementedError


def _families() -> dict[str, type[ModelFamily]]:
    from ._roberta import RobertaFamily

    return {RobertaFamily.name: RobertaFamily}


def family_names() -> list[str]:
    """The registered model families, sorted."""
    return sorted(_families())


def get_family(name: str) -> ModelFamily:
    """The family called ``name``.

    Raises:
        EstimatorError: no such family.
    """
    families = _families()
    if name not in families:
        raise EstimatorError(f"unknown model family '{name}'; known: {', '.join(sorted(families))}")
    return families[name]()

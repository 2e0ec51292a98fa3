"""Surrogate models of a measured metric (the ``accuracy`` of short distillations).

``Encoder`` turns a configuration into features a regressor can use: a string choice becomes
one-hot columns, a numeric parameter whose range spans a factor of 4 or more (sizes, learning
rates) its base-2 logarithm, any other number itself; every column is scaled to [0, 1] over the
declared range, so distances mean the same in every direction.

``Surrogate`` fits one of:

* ``forest`` (default): scikit-learn's ``ExtraTreesRegressor``; the spread of its trees'
  predictions is the uncertainty. Robust with a few dozen points and with interactions.
* ``gp``: a Gaussian process (Matern 5/2 with automatic relevance, plus a noise term); its
  posterior standard deviation is the uncertainty.
* ``ridge-ordinal``: the reference approach of the research Avatar follows: Bayesian ridge
  regression over ordinal codes (each parameter replaced by the position of its value).

``cross_validate`` reports how good a surrogate is on points it did not see: out-of-fold
predictions over k folds, their Spearman rank correlation with the measurements and their mean
absolute error.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["Encoder", "Surrogate", "CrossValidation", "cross_validate", "out_of_fold_quality", "SURROGATE_KINDS"]

SURROGATE_KINDS = ("forest", "gp", "ridge-ordinal")
SurrogateKind = Literal["forest", "gp", "ridge-ordinal"]


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # "one-hot", "log", "linear" or "ordinal"
    values: tuple[Any, ...]
    low: float = 0.0
    high: float = 1.0


class Encoder:
    """Configuration -> feature vector, fixed by the space's parameters (not by the data)."""

    def __init__(self, parameters: Sequence[Any], *, ordinal: bool = False) -> None:
        self.columns: list[_Column] = []
        for parameter in parameters:
            values = tuple(parameter.values)
            if len(values) < 2:
                continue
            if ordinal:
                self.columns.append(_Column(parameter.name, "ordinal", values, 0.0, float(len(values) - 1)))
            elif any(isinstance(value, str) for value in values):
                self.columns += [_Column(parameter.name, "one-hot", (value,)) for value in values]
            else:
                low, high = float(min(values)), float(max(values))
                if low > 0 and high / low >= 4:
                    self.columns.append(_Column(parameter.name, "log", values, math.log2(low), math.log2(high)))
                else:
                    self.columns.append(_Column(parameter.name, "linear", values, low, high))

    @property
    def feature_names(self) -> list[str]:
        return [f"{column.name}={column.values[0]}" if column.kind == "one-hot" else column.name for column in self.columns]

    def _value(self, column: _Column, value: Any) -> float:
        if column.kind == "one-hot":
            return float(value == column.values[0])
        if column.kind == "ordinal":
            raw = float(column.values.index(value)) if value in column.values else float(np.searchsorted(np.array(column.values, dtype=float), float(value)))
        elif column.kind == "log":
            raw = math.log2(float(value))
        else:
            raw = float(value)
        return (raw - column.low) / (column.high - column.low) if column.high > column.low else 0.0

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.array([[self._value(column, config[column.name]) for column in self.columns] for config in configs], dtype=float).reshape(len(configs), len(self.columns))


class Surrogate:
    """A regressor with uncertainty over configurations; ``fit`` then ``predict``."""

    def __init__(self, parameters: Sequence[Any], kind: SurrogateKind = "forest", *, seed: int = 0, trees: int = 300) -> None:
        """``trees``: the forest's size (fewer fit faster: the model-based search refits after
        every batch)."""
        if kind not in SURROGATE_KINDS:
            raise ValueError(f"unknown surrogate '{kind}'; choose from {', '.join(SURROGATE_KINDS)}")
        self.parameters = tuple(parameters)
        self.kind = kind
        self.seed = seed
        self.trees = trees
        self.encoder = Encoder(self.parameters, ordinal=kind == "ridge-ordinal")
        self.model_: Any = None
        self.n_fitted_ = 0

    def _new_model(self) -> Any:
        if self.kind == "forest":
            from sklearn.ensemble import ExtraTreesRegressor

            return ExtraTreesRegressor(n_estimators=self.trees, min_samples_leaf=2, max_features=0.6, random_state=self.seed)
        if self.kind == "gp":
            from sklearn.gaussian_process import GaussianProcessRegressor
            from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

            width = max(1, len(self.encoder.columns))
            kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(length_scale=np.ones(width), length_scale_bounds=(1e-2, 1e3), nu=2.5) + WhiteKernel(1e-2, (1e-6, 1.0))
            return GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=3, random_state=self.seed)
        from sklearn.linear_model import BayesianRidge

        return BayesianRidge()

    def fit(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float] | np.ndarray) -> Surrogate:
        return self.fit_features(self.encoder.encode(configs), values)

    def fit_features(self, features: np.ndarray, values: Sequence[float] | np.ndarray) -> Surrogate:
        """``fit`` on configurations already encoded by ``self.encoder`` (a caller that keeps
        the encodings saves encoding the same points at every refit)."""
        if len(features) < 2:
            raise ValueError(f"a surrogate needs at least 2 measured configurations, got {len(features)}")
        from sklearn.exceptions import ConvergenceWarning

        model = self._new_model()
        with warnings.catch_warnings():
            # A length scale at its bound means "this parameter does not matter": expected.
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, np.asarray(values, dtype=float))
        self.model_, self.n_fitted_ = model, len(features)
        return self

    def predict(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation for each configuration."""
        return self.predict_features(self.encoder.encode(configs))

    def predict_features(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``predict`` for configurations already encoded by ``self.encoder``."""
        if self.model_ is None:
            raise RuntimeError("the surrogate is not fitted")
        if self.kind == "forest":
            # the fitted trees' own arrays: sklearn's per-call checks cost more than the
            # prediction itself when the search scores its pool after every batch
            rows = np.ascontiguousarray(features, dtype=np.float32)
            per_tree = np.stack([tree.tree_.predict(rows)[:, 0] for tree in self.model_.estimators_])
            return per_tree.mean(axis=0), per_tree.std(axis=0)
        mean, std = self.model_.predict(features, return_std=True)
        return np.asarray(mean, dtype=float), np.asarray(std, dtype=float)


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions and their agreement with the measurements."""

    spearman: float
    mae: float
    folds: int
    n: int
    predictions: tuple[float, ...]
    points: tuple[int, ...] = ()  # which of the fitted points were predicted, in order (empty: all)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; an undefined correlation is ``None``."""
        return {"spearman": None if math.isnan(self.spearman) else self.spearman, "mae": self.mae, "folds": self.folds, "n": self.n}


def cross_validate(
    parameters: Sequence[Any],
    configs: Sequence[Mapping[str, Any]],
    values: Sequence[float],
    kind: SurrogateKind = "forest",
    *,
    folds: int = 5,
    seed: int = 0,
    groups: Sequence[Any] | None = None,
) -> CrossValidation:
    """k-fold out-of-fold predictions (k at most the number of points), Spearman and MAE.

    ``groups`` keeps points of one group in one fold (the probes of one configuration at two
    fidelities: a held-out configuration must not be predicted from its own shorter probe).
    """
    measured = np.asarray(values, dtype=float)
    n = len(measured)
    if n < 4:
        raise ValueError(f"cross-validation needs at least 4 measured configurations, got {n}")
    labels = list(range(n)) if groups is None else list(groups)
    index_of = {label: index for index, label in enumerate(dict.fromkeys(labels))}
    folds = min(folds, len(index_of))
    order = np.random.default_rng(seed).permutation(len(index_of))
    fold_of = {int(group): position % folds for position, group in enumerate(order)}
    assigned = np.array([fold_of[index_of[label]] for label in labels])
    predictions = np.empty(n)
    for fold in range(folds):
        held_out = np.flatnonzero(assigned == fold)
        kept = np.flatnonzero(assigned != fold)
        surrogate = Surrogate(parameters, kind, seed=seed).fit([configs[int(i)] for i in kept], measured[kept])
        predictions[held_out] = surrogate.predict([configs[int(i)] for i in held_out])[0]
    return out_of_fold_quality(predictions, measured, folds)


def out_of_fold_quality(predictions: np.ndarray, truth: np.ndarray, folds: int, points: Sequence[int] = ()) -> CrossValidation:
    """Spearman and MAE of out-of-fold ``predictions`` against the measured ``truth``; ``points``
    names which fitted points they are (empty: all). The correlation is undefined (NaN) when
    every point measured the same, or the surrogate predicts one value."""
    from scipy.stats import spearmanr

    rho = spearmanr(predictions, truth).statistic if np.ptp(truth) > 0 and np.ptp(predictions) > 0 else float("nan")
    return CrossValidation(float(rho), float(np.mean(np.abs(predictions - truth))), folds, len(truth), tuple(float(p) for p in predictions), tuple(int(i) for i in points))

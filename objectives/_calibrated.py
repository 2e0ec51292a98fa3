"""The super-student's ranking, calibrated by real probes (``method: supernet+probes``).

A sub-network of the super-student shows what an architecture can do, not how a student is
trained: its learning rate, batch size and dropout do not change its score. Measured on
BigCloneBench (bench/README), the three best of 11 real students all had the largest learning
rate, and no sub-network score could see it. Real probes see both, but a few dozen of them are
too few to learn a dozen parameters. So the two are stacked:

* a surrogate (the estimator's ``surrogate``, a forest by default) learns the sub-network
  scores over the whole space (many, cheap);
* a Bayesian ridge fitted on the real probes (few, dear) maps that surrogate's prediction and
  the training parameters (``RECIPE``) to a real probe's score.

The ridge has a handful of inputs, so a dozen probes fit it; its posterior spread and the
forest's, scaled by the ridge's slope, make the uncertainty.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._surrogate import CrossValidation, Encoder, Surrogate, SurrogateKind, out_of_fold_quality

__all__ = ["RECIPE", "CalibratedSurrogate", "cross_validate_calibrated", "MIN_CALIBRATION_PROBES"]

# How a student is trained, which its sub-network of the super-student does not show.
RECIPE = ("learning_rate", "batch_size", "hidden_dropout_prob", "attention_probs_dropout_prob")
MIN_CALIBRATION_PROBES = 3  # below: the super-student's surrogate alone


class CalibratedSurrogate:
    """A surrogate of the sub-network scores, and a ridge from it and the training parameters
    to the real probes' scores."""

    def __init__(self, parameters: Sequence[Any], kind: SurrogateKind = "forest", *, seed: int = 0) -> None:
        self.parameters = tuple(parameters)
        self.architecture = Surrogate(self.parameters, kind, seed=seed)
        self.recipe = Encoder([parameter for parameter in self.parameters if parameter.name in RECIPE])
        self.ridge_: Any = None
        self.n_fitted_ = 0
        self.n_calibrated_ = 0

    def fit(self, configs: Sequence[Mapping[str, Any]], values: Sequence[float], levels: Sequence[int]) -> CalibratedSurrogate:
        """Level 0: sub-network scores; level 1: real probes (at least ``MIN_CALIBRATION_PROBES``,
        else the ridge is left out and predictions are the sub-network surrogate's)."""
        measured, level = np.asarray(values, dtype=float), np.asarray(levels)
        scored, probed = np.flatnonzero(level == 0).tolist(), np.flatnonzero(level == 1).tolist()
        self.architecture.fit([configs[i] for i in scored], measured[scored].tolist())
        self.n_fitted_ = len(scored)
        return self.calibrate([configs[i] for i in probed], measured[probed])

    def calibrate(self, configs: Sequence[Mapping[str, Any]], values: np.ndarray) -> CalibratedSurrogate:
        """Fit the ridge on real probes, over the sub-network surrogate as it is fitted."""
        self.ridge_, self.n_calibrated_ = None, 0
        if len(configs) >= MIN_CALIBRATION_PROBES:
            from sklearn.linear_model import BayesianRidge

            self.ridge_ = BayesianRidge().fit(self._features(configs)[0], values)
            self.n_calibrated_ = len(configs)
        return self

    def _features(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.architecture.predict(configs)
        return np.column_stack([mean, self.recipe.encode(configs)]), std

    def predict(self, configs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Predicted real probe score and its standard deviation for each configuration."""
        if self.ridge_ is None:
            return self.architecture.predict(configs)
        features, spread = self._features(configs)
        mean, std = self.ridge_.predict(features, return_std=True)
        slope = float(self.ridge_.coef_[0])
        return np.asarray(mean, dtype=float), np.sqrt(np.asarray(std, dtype=float) ** 2 + (slope * spread) ** 2)

    def effects(self) -> dict[str, float]:
        """The ridge's weights: the super-student's prediction and each training parameter's
        column (scaled to [0, 1] over its range), for the report."""
        if self.ridge_ is None:
            return {}
        names = ["super-student", *self.recipe.feature_names]
        return {name: float(weight) for name, weight in zip(names, self.ridge_.coef_)}


def cross_validate_calibrated(
    model: CalibratedSurrogate, configs: Sequence[Mapping[str, Any]], values: Sequence[float], levels: Sequence[int], *, folds: int = 5, seed: int = 0
) -> CrossValidation | None:
    """Out-of-fold predictions of the real probes (level 1) by ``model`` (fitted on all of
    ``configs``): each fold's ridge is fitted without it, over the model's sub-network
    surrogate, which is fitted on the sub-network scores only (those are not what is
    predicted). None with fewer than 4 real probes."""
    measured, level = np.asarray(values, dtype=float), np.asarray(levels)
    probed = np.flatnonzero(level == 1)
    if len(probed) < max(4, MIN_CALIBRATION_PROBES + 1):
        return None
    folds = min(folds, len(probed))
    fold_of = np.random.default_rng(seed).permutation(len(probed)) % folds
    predictions = np.empty(len(probed))
    for fold in range(folds):
        kept, held_out = probed[fold_of != fold].tolist(), probed[fold_of == fold].tolist()
        fold_model = copy.copy(model).calibrate([configs[i] for i in kept], measured[kept])  # the sub-network surrogate is shared, not refitted
        predictions[fold_of == fold] = fold_model.predict([configs[i] for i in held_out])[0]
    return out_of_fold_quality(predictions, measured[probed], folds, probed.tolist())

"""A lexical baseline in every run that trains: the reference point a teacher and its students
are read against (issue 33).

On a Java clone set no one here tuned to, a fine-tuned teacher reached validation ROC AUC 0.475
while a logistic regression on four TF-IDF similarities reached 0.83. Papers in this field print
such a row; Avatar prints it in every run, fitted in seconds with scikit-learn on the labelled
split (what the teacher is fine-tuned on) and scored on the validation and test splits like the
teacher and the students:

* pair tasks: the cosine similarities of the two functions under four TF-IDF views
  (identifiers; identifiers split into lower-case words; every word and operator; character
  3- to 5-grams) and their length ratio, combined by a logistic regression;
* other tasks: TF-IDF of identifiers and character n-grams, and a logistic regression.

The vectorisers are fitted on the training part's texts (no label), so the baseline sees no
validation or test example before it is scored. Where the students' cut is tuned on the
validation split (two labels, ``train.tune_threshold``) the baseline's is too, so the rows
compare like with like.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from avatar.specs import BaselineRecord

from ..data import Example, TaskData
from ..students import logit_scores, margins, tune_threshold

__all__ = ["BASELINE_NAME", "BASELINE_VERSION", "lexical_baseline", "baseline_logits"]

BASELINE_VERSION = 1  # bump when the features or the model change: cached scores are keyed by it
BASELINE_NAME = "lexical (TF-IDF, logistic regression)"
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_WORD_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _subwords(text: str) -> list[str]:
    """Identifiers split at case changes, underscores and digits, lower-cased: ``readFileToString``
    gives ``read``, ``file``, ``to``, ``string``."""
    return [part.lower() for identifier in re.findall(_IDENTIFIER, text) for part in _WORD_PARTS.findall(identifier)]


def _vectorisers() -> list:
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = {"sublinear_tf": True, "dtype": np.float32, "min_df": 1}
    return [
        TfidfVectorizer(token_pattern=_IDENTIFIER, lowercase=False, **common),
        TfidfVectorizer(analyzer=_subwords, **common),
        TfidfVectorizer(token_pattern=r"\w+|[^\w\s]+", lowercase=False, **common),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), max_features=200_000, lowercase=False, **common),
    ]


class _Features:
    """The baseline's input features, fitted on the training part's texts."""

    def __init__(self, texts: Sequence[str], pair: bool) -> None:
        self.pair = pair
        self.vectorisers = [vectoriser for vectoriser in _vectorisers() if _fits(vectoriser, texts)]

    def __call__(self, examples: Sequence[Example]) -> np.ndarray:
        from scipy.sparse import hstack

        if not self.vectorisers:  # no view has a token in any text (empty functions): the baseline is the labels' prior
            return np.zeros((len(examples), 1))
        if not self.pair:
            return hstack([vectoriser.transform([example.texts[0] for example in examples]) for vectoriser in self.vectorisers]).tocsr()
        columns = []
        for vectoriser in self.vectorisers:
            first = vectoriser.transform([example.texts[0] for example in examples])
            second = vectoriser.transform([example.texts[1] for example in examples])
            columns.append(np.asarray(first.multiply(second).sum(axis=1)).ravel())  # rows are unit length: the cosine
        lengths = np.array([[len(example.texts[0]), len(example.texts[1])] for example in examples], dtype=np.float64)
        columns.append(lengths.min(axis=1) / np.maximum(lengths.max(axis=1), 1))
        return np.column_stack(columns)


def _fits(vectoriser: Any, texts: Sequence[str]) -> bool:
    try:
        vectoriser.fit(texts)
    except ValueError:  # no token of this view in any text (code without identifiers)
        return False
    return True


def baseline_logits(data: TaskData, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The baseline's log-probabilities on the validation and test splits, fitted on the
    labelled split."""
    from sklearn.linear_model import LogisticRegression

    texts = list(dict.fromkeys(data.texts(data.train)))
    features = _Features(texts, pair=len(data.labeled[0].texts) == 2)
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    labels = [example.label for example in data.labeled]
    model.fit(features(data.labeled), labels)

    def logits(examples: Sequence[Example]) -> torch.Tensor:
        probabilities = np.full((len(examples), data.num_labels), 1e-12)
        probabilities[:, model.classes_] = np.clip(model.predict_proba(features(examples)), 1e-12, 1.0)  # a class the labelled split lacks gets none
        return torch.tensor(np.log(probabilities), dtype=torch.float32)

    return logits(data.valid), logits(data.test)


def lexical_baseline(data: TaskData, seed: int, *, tune_cut: bool, metric: str) -> BaselineRecord:
    """The baseline's validation and test scores (the test ones at a cut tuned on validation
    when ``tune_cut`` and the task has two labels, like the students')."""
    started = time.perf_counter()
    valid, test = baseline_logits(data, seed)
    valid_labels, test_labels = [example.label for example in data.valid], [example.label for example in data.test]
    cut = tune_threshold(margins(valid).tolist(), valid_labels, metric) if tune_cut and data.num_labels == 2 else 0.0
    return BaselineRecord(BASELINE_NAME, logit_scores(valid, valid_labels, cut), logit_scores(test, test_labels, cut), round(time.perf_counter() - started, 3))

"""Saving a student so that it loads the Hugging Face way, without Avatar installed.

A classifier of one text is a plain ``RobertaForSequenceClassification``. A clone student's
head reads two functions, which no transformers class does: its folder carries the model's code
(``modeling_avatar_clone.py``, a copy of the module that defines ``RobertaForCloneDetection``,
which imports torch and transformers only) and ``config.json`` names it in
``auto_map``, so ``AutoModelForSequenceClassification.from_pretrained(folder,
trust_remote_code=True)`` and the text-classification pipeline load it. Labels carry the task's
names (``id2label``), and the tokenizer encodes a text pair the RoBERTa way.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from avatar.objectives import RobertaForCloneDetection
from avatar.specs import PAIR_KINDS

from ..data import with_user_mode

__all__ = ["REMOTE_CODE_FILE", "label_names_of", "save_student"]

REMOTE_CODE_FILE = "modeling_avatar_clone.py"
_BINARY_NAMES = {"clone": ("different", "clone"), "defect": ("clean", "defective")}


def label_names_of(task_kind: str, num_labels: int, names: Sequence[str] = ()) -> list[str]:
    """What each label is called: the task's own names (``task.labels``), else the usual ones
    of a binary task, else ``LABEL_i``."""
    if names and len(names) == num_labels:
        return [str(name) for name in names]
    if num_labels == 2 and task_kind in _BINARY_NAMES:
        return list(_BINARY_NAMES[task_kind])
    return [f"LABEL_{index}" for index in range(num_labels)]


def save_student(model: Any, tokenizer: Any, folder: Path, task_kind: str, label_names: Sequence[str]) -> None:
    """``save_pretrained`` of the model and tokenizer, with label names, a text-pair template,
    and for a pair task the model's code named in ``config.json``."""
    from tokenizers import processors

    model.config.id2label = dict(enumerate(label_names))
    model.config.label2id = {name: index for index, name in enumerate(label_names)}
    model.save_pretrained(folder)
    # tokenizer(a, b) gives <s> A </s></s> B </s>, as RoBERTa's does
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tokenizer.save_pretrained(folder)
    if task_kind in PAIR_KINDS:
        (folder / REMOTE_CODE_FILE).write_text(Path(inspect.getfile(RobertaForCloneDetection)).read_text(encoding="utf-8"), encoding="utf-8")
        config_path = folder / "config.json"
        config = json.loads(config_path.read_text())
        config["auto_map"] = {"AutoModelForSequenceClassification": f"{REMOTE_CODE_FILE.removesuffix('.py')}.{RobertaForCloneDetection.__name__}"}
        config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    with_user_mode(folder)

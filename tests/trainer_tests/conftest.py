"""Tiny data and a tiny teacher built locally: no network, a few seconds per test."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

TEMPLATES = [
    "def {name}(values, limit):\n    total = 0\n    for value in values:\n        if value > limit:\n            total += value\n    return total\n",
    "def {name}(text, width):\n    lines = []\n    for word in text.split():\n        lines.append(word[:width])\n    return ' '.join(lines)\n",
    "def {name}(items):\n    seen = set()\n    result = []\n    for item in items:\n        if item not in seen:\n            seen.add(item)\n            result.append(item)\n    return result\n",
    "def {name}(matrix):\n    size = len(matrix)\n    return [[matrix[row][column] for row in range(size)] for column in range(size)]\n",
    "def {name}(path, mode):\n    handle = open(path, mode)\n    data = handle.read()\n    handle.close()\n    return data\n",
]
RENAMES = {
    "values": "xs",
    "limit": "bound",
    "total": "acc",
    "value": "x",
    "text": "s",
    "width": "n",
    "lines": "out",
    "word": "w",
    "items": "seq",
    "seen": "known",
    "result": "res",
    "item": "e",
    "matrix": "m",
    "size": "k",
    "path": "p",
    "mode": "how",
    "handle": "f",
    "data": "content",
}


def _rename(code: str) -> str:
    for old, new in RENAMES.items():
        code = re.sub(rf"\b{old}\b", new, code)
    return code


def write_clone_data(folder: Path, n_methods: int = 60, seed: int = 0) -> Path:
    """A BigCloneBench-layout folder: data.jsonl and pairs.txt (half clones, half not)."""
    generator = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    methods = []
    for index in range(n_methods):
        template = TEMPLATES[index % len(TEMPLATES)]
        code = template.format(name=f"function_{index}")
        methods.append((str(1000 + index), code if index % 2 == 0 else _rename(code), index % len(TEMPLATES)))
    with open(folder / "data.jsonl", "w") as file:
        for identifier, code, _ in methods:
            file.write(json.dumps({"func": code, "idx": identifier}) + "\n")
    with open(folder / "pairs.txt", "w") as file:
        for first in range(n_methods):
            for _ in range(3):
                second = generator.randrange(n_methods)
                if second != first:
                    file.write(f"{methods[first][0]}\t{methods[second][0]}\t{int(methods[first][2] == methods[second][2])}\n")
    return folder


def write_defect_data(path: Path, n_functions: int = 120, seed: int = 0) -> Path:
    """JSON lines of C-like functions; the vulnerable ones copy with strcpy."""
    generator = random.Random(seed)
    with open(path, "w") as file:
        for index in range(n_functions):
            vulnerable = index % 2
            body = "strcpy(buffer, input);" if vulnerable else "strncpy(buffer, input, sizeof(buffer) - 1);"
            code = f"int handler_{index}(char *input) {{\n    char buffer[{generator.choice([16, 32, 64])}];\n    {body}\n    return {generator.randrange(9)};\n}}\n"
            file.write(json.dumps({"func": code, "target": vulnerable, "idx": index}) + "\n")
    return path


def build_tiny_teacher(folder: Path, corpus: list[str]) -> Path:
    """A 1-layer BERT with a WordPiece tokenizer trained on ``corpus``, saved like a hub model."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tokenizer.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=300, special_tokens=specials, show_progress=False))
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)
    config = BertConfig(vocab_size=len(wrapped), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    import torch

    torch.manual_seed(0)  # the same tiny teacher in every session
    BertModel(config).save_pretrained(folder)
    wrapped.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def clone_folder(tmp_path_factory) -> Path:
    return write_clone_data(tmp_path_factory.mktemp("clone-data"))


@pytest.fixture(scope="session")
def defect_file(tmp_path_factory) -> Path:
    return write_defect_data(tmp_path_factory.mktemp("defect-data") / "functions.jsonl")


@pytest.fixture(scope="session")
def tiny_teacher(tmp_path_factory, clone_folder, defect_file) -> Path:
    corpus = [json.loads(line)["func"] for line in (clone_folder / "data.jsonl").read_text().splitlines()]
    corpus += [json.loads(line)["func"] for line in defect_file.read_text().splitlines()]
    return build_tiny_teacher(tmp_path_factory.mktemp("teacher"), corpus)


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory, tiny_teacher):
    """The tiny teacher with a 2-label sequence-classification head, saved as a user's
    fine-tuned classifier would be (``AutoModelForSequenceClassification`` folder)."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("classifier")
    torch.manual_seed(1)
    model = BertForSequenceClassification.from_pretrained(tiny_teacher, num_labels=2)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_teacher).save_pretrained(folder)
    return folder


def wait_for_epochs(students: Path, process, epochs: int = 2, timeout: float = 600) -> None:
    """Wait until a student under ``students`` has finished ``epochs`` epochs (its checkpoint
    history says so), or ``process`` ended, or ``timeout`` seconds passed: the moment to kill a
    run in training."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        histories = list(students.glob("*/checkpoint/**/history.json"))
        if histories and len(json.loads(histories[0].read_text() or "[]")) >= epochs:
            return
        time.sleep(0.02)


def student_spec(kind: str, data: Path, teacher: Path, **train_options) -> str:
    """A small spec whose space holds a handful of tiny students. The tiny teacher, fine-tuned for
    two epochs, may well be too weak to distil from: these specs test the pipeline, so they
    accept it (``test_teacher_fitness`` tests the stop)."""
    # transfer_pairs: 0 keeps these pipeline tests small; test_transfer_pairs tests the default, auto
    options = {"epochs": 2, "patience": 2, "temperature": 2.0, "transfer_pairs": 0, **train_options}
    train = ", ".join(f"{key}: {value}" for key, value in options.items())
    return f"""\
name: tiny-{kind}
task: {{kind: {kind}, data: "{data}", split: {{valid: 0.2, test: 0.2, labeled: 0.5, seed: 7}}}}
space:
  tokenizer:           {{choices: [bpe, word]}}
  vocab_size:          {{choices: [200, 300]}}
  num_hidden_layers:   {{choices: [1]}}
  hidden_size:         {{choices: [16, 32]}}
  num_attention_heads: {{choices: [2]}}
  intermediate_size:   {{choices: [32]}}
  max_sequence_length: {{choices: [64]}}
  learning_rate:       {{choices: [0.005]}}
  batch_size:          {{choices: [8]}}
constants: {{hidden_dropout_prob: 0.0, attention_probs_dropout_prob: 0.0}}
objectives: {{size_mb: minimize, gflops: maximize}}
search: {{population: 4, evaluations: 8, seed: 1}}
train: {{teacher: {{model: "{teacher}", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}}, {train}}}
"""

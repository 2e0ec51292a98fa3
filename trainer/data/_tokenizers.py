"""Student tokenizers: one per (type, vocabulary size, training corpus), trained and cached.

Types are those of the search space: ``bpe`` (byte-level BPE, as RoBERTa), ``wordpiece``,
``unigram`` and ``word`` (whole words and punctuation). Code is case-sensitive, so nothing is
lower-cased. Special tokens follow RoBERTa's ids (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2,
``<unk>`` 3, ``<mask>`` 4), matching the student's ``pad_token_id``. Saved with the student as
a fast tokenizer that ``AutoTokenizer.from_pretrained`` loads.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from avatar.specs import Cache, file_mode

__all__ = ["TOKENIZER_TYPES", "SPECIAL_TOKENS", "train_tokenizer", "load_or_train_tokenizer"]

TOKENIZER_TYPES = ("bpe", "wordpiece", "unigram", "word")
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
_VERSION = "1"


def _raw_tokenizer(kind: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if kind == "bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    elif kind == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
        tokenizer.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    elif kind == "unigram":
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
        tokenizer.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token="<unk>", show_progress=False)
    elif kind == "word":
        tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
        trainer = trainers.WordLevelTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    else:
        raise ValueError(f"unknown tokenizer type '{kind}'; choose from {', '.join(TOKENIZER_TYPES)}")
    return tokenizer, trainer


def train_tokenizer(kind: str, vocab_size: int, texts: Iterable[str], max_length: int):
    """Train a tokenizer on ``texts`` and wrap it as a ``PreTrainedTokenizerFast``."""
    from tokenizers import processors

    tokenizer, trainer = _raw_tokenizer(kind, vocab_size)
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return _wrap(tokenizer, max_length)


def _wrap(tokenizer, max_length: int):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=max_length,
    )


def load_or_train_tokenizer(kind: str, vocab_size: int, texts: Sequence[str], corpus_fingerprint: str, max_length: int, cache_dir: str | Path | None):
    """The tokenizer for ``(kind, vocab_size)`` on this corpus, from the cache when present."""
    from tokenizers import Tokenizer

    key = hashlib.sha256(f"{_VERSION}:{kind}:{vocab_size}:{corpus_fingerprint}".encode()).hexdigest()[:20]
    path = Cache(cache_dir).tokenizer(f"{kind}-{vocab_size}-{key}") if cache_dir else None
    if path is not None and path.exists():
        return _wrap(Tokenizer.from_file(str(path)), max_length)
    wrapped = train_tokenizer(kind, vocab_size, texts, max_length)
    if path is not None:
        # Probes in parallel processes may train the same tokenizer at once: each writes its
        # own temporary file and the atomic rename lets the last one win.
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        os.close(handle)
        wrapped.backend_tokenizer.save(temporary)
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    return wrapped

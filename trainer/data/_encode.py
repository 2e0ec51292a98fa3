"""Examples tokenised for a model, a function longer than the window read as ``long_inputs`` says."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._encoded_set import EncodedSet
from ._task_data import Example
from ._tokenized import clipped, labels_of, pad_id_of, token_spans, two_ends
from ._windows import encode_text_pair_windows, encode_windows

__all__ = ["EncodedSet", "encode", "encode_text_pairs"]


def encode(examples: Sequence[Example], tokenizer: Any, max_length: int, long_inputs: str = "truncate") -> EncodedSet:
    """Tokenise every function of every example, at most ``max_length`` tokens each: a longer
    one is cut after its first tokens (``truncate``) or keeps its first and its last tokens,
    half the window each (``head_tail``: a Hugging Face tokenizer's), or is read whole, window
    after window (``chunks``: see ``_windows``)."""
    if long_inputs == "chunks":
        return encode_windows(examples, tokenizer, max_length)
    texts = [text for example in examples for text in example.texts]
    if long_inputs == "head_tail":
        budget = max(1, max_length - tokenizer.num_special_tokens_to_add(pair=False))
        texts = [two_ends(text, max_length) for text in texts]
        texts = _head_and_tail(texts, token_spans(tokenizer, texts), [budget] * len(texts))
    else:
        texts = [clipped(text, max_length) for text in texts]
    encoded = tokenizer(texts, truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"]
    width = len(examples[0].texts) if examples else 1
    ids = [encoded[index * width : (index + 1) * width] for index in range(len(examples))]
    return EncodedSet(ids, labels_of(examples), pad_id_of(tokenizer))


def encode_text_pairs(examples: Sequence[Example], tokenizer: Any, max_length: int, long_inputs: str = "truncate") -> EncodedSet:
    """Each example's two functions as one text pair, the way a cross-encoder reads them
    (``[CLS] a [SEP] b [SEP]``, at most ``max_length`` tokens in all: the longer function is
    shortened first, cut after its first tokens or, with ``head_tail``, keeping its first and
    last ones; with ``chunks``, read whole as several text pairs of windows)."""
    if long_inputs == "chunks":
        return encode_text_pair_windows(examples, tokenizer, max_length)
    if long_inputs == "head_tail":
        firsts, seconds = _pair_of_heads_and_tails(tokenizer, examples, max_length)
    else:
        firsts, seconds = [clipped(example.texts[0], max_length) for example in examples], [clipped(example.texts[-1], max_length) for example in examples]
    encoded = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
    ids = [[sequence] for sequence in encoded["input_ids"]]
    types = [[sequence] for sequence in encoded["token_type_ids"]] if "token_type_ids" in encoded else None
    return EncodedSet(ids, labels_of(examples), pad_id_of(tokenizer), types)


JOIN_MARGIN = 2  # tokens spared where head and tail meet: the joined text may tokenize a little longer there


def _head_and_tail(texts: list[str], offsets: list[list[tuple[int, int]]] | None, budgets: list[int]) -> list[str]:
    """Each text, or where it is longer than its budget of tokens, its first and last tokens'
    text (half the budget each) joined by a line break, to be encoded as any text is: with the
    tokenizer's own special tokens and segment ids. The first lines of a function hold its
    signature, the last ones what it returns; a cut after the head loses the second."""
    if offsets is None:
        return texts
    shortened = []
    for text, spans, budget in zip(texts, offsets, budgets):
        if len(spans) <= budget or budget < 2 * JOIN_MARGIN + 2:
            shortened.append(text)
            continue
        head = (budget - JOIN_MARGIN) - (budget - JOIN_MARGIN) // 2
        tail = budget - JOIN_MARGIN - head
        shortened.append(text[: spans[head - 1][1]] + "\n" + text[spans[len(spans) - tail][0] :])
    return shortened


def _pair_of_heads_and_tails(tokenizer: Any, examples: Sequence[Example], max_length: int) -> tuple[list[str], list[str]]:
    """The pairs' two texts, shortened to share ``max_length`` tokens: the longer function gives
    way first (to its head and tail), as a tokenizer's ``longest_first`` truncation shares the window."""
    budget = max(2, max_length - tokenizer.num_special_tokens_to_add(pair=True))
    firsts = [two_ends(example.texts[0], max_length) for example in examples]
    seconds = [two_ends(example.texts[-1], max_length) for example in examples]
    first_spans, second_spans = token_spans(tokenizer, firsts), token_spans(tokenizer, seconds)
    if first_spans is None or second_spans is None:
        return firsts, seconds
    keep_first = [min(len(first), max(budget // 2, budget - len(second))) for first, second in zip(first_spans, second_spans)]
    return _head_and_tail(firsts, first_spans, keep_first), _head_and_tail(seconds, second_spans, [budget - keep for keep in keep_first])

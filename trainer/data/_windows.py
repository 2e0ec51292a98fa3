"""``long_inputs: chunks``: a function longer than the window is read whole, as consecutive
windows of ``max_length`` tokens that the model encodes one by one and then pools.

A window is a slice of the function's text, cut at token boundaries (a fast tokenizer's offsets)
and encoded as any text is, with the tokenizer's own special tokens and segment ids. At most
``WINDOWS_AT_MOST`` windows are read: a longer function's windows are chosen evenly from its
first to its last, so its signature and what it returns are both read. A text pair (a
cross-encoder's input) is read as several pairs of windows, each window of either function in
one of them at least. A slow (Python) tokenizer has no offsets: its functions are read by their
first window, as ``truncate`` reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from ._encoded_set import EncodedSet
from ._task_data import Example
from ._tokenized import labels_of, pad_id_of, token_spans, two_ends

__all__ = ["WINDOWS_AT_MOST", "encode_windows", "encode_text_pair_windows", "spread"]

WINDOWS_AT_MOST = 4  # the teacher's cost per function grows with its windows: four read 4x the window
RETOKENIZE_MARGIN = 2  # tokens spared per window: a slice of text may tokenize a little longer on its own

Item = TypeVar("Item")


def spread(items: Sequence[Item], at_most: int = WINDOWS_AT_MOST) -> list[Item]:
    """``items``, or ``at_most`` of them evenly spaced from the first to the last."""
    if len(items) <= at_most:
        return list(items)
    if at_most == 1:
        return [items[0]]
    return [items[round(position * (len(items) - 1) / (at_most - 1))] for position in range(at_most)]


def encode_windows(examples: Sequence[Example], tokenizer: Any, max_length: int) -> EncodedSet:
    """Every function of every example as its windows (``EncodedSet.windows`` counts them)."""
    texts = [two_ends(text, WINDOWS_AT_MOST * max_length) for example in examples for text in example.texts]
    size = max(1, max_length - tokenizer.num_special_tokens_to_add(pair=False) - RETOKENIZE_MARGIN)
    offsets = token_spans(tokenizer, texts)
    pieces = [_window_texts(text, spans, size) for text, spans in zip(texts, offsets)] if offsets is not None else [[text] for text in texts]
    encoded = tokenizer([piece for windows in pieces for piece in windows], truncation=True, max_length=max_length)["input_ids"] if pieces else []
    width = len(examples[0].texts) if examples else 1
    ids: list[list[list[int]]] = []
    counts: list[list[int]] = []
    position = 0
    for index in range(len(examples)):
        functions = pieces[index * width : (index + 1) * width]
        total = sum(len(windows) for windows in functions)
        ids.append(encoded[position : position + total])
        counts.append([len(windows) for windows in functions])
        position += total
    return EncodedSet(ids, labels_of(examples), pad_id_of(tokenizer), None, counts)


def encode_text_pair_windows(examples: Sequence[Example], tokenizer: Any, max_length: int) -> EncodedSet:
    """Each pair as text pairs of windows (one function's windows, cycled, beside the other's),
    ``max_length`` tokens each: the shorter function gives the longer what it leaves of the window."""
    firsts = [two_ends(example.texts[0], WINDOWS_AT_MOST * max_length) for example in examples]
    seconds = [two_ends(example.texts[-1], WINDOWS_AT_MOST * max_length) for example in examples]
    first_spans, second_spans = token_spans(tokenizer, firsts), token_spans(tokenizer, seconds)
    budget = max(2, max_length - tokenizer.num_special_tokens_to_add(pair=True) - 2 * RETOKENIZE_MARGIN)
    pairs: list[list[tuple[str, str]]] = []
    for index, (first, second) in enumerate(zip(firsts, seconds)):
        if first_spans is None or second_spans is None:
            pairs.append([(first, second)])
            continue
        spans_a, spans_b = first_spans[index], second_spans[index]
        keep_a = max(1, min(len(spans_a), max(budget // 2, budget - len(spans_b)), budget - 1))
        windows_a, windows_b = _window_texts(first, spans_a, keep_a, None), _window_texts(second, spans_b, budget - keep_a, None)
        count = max(len(windows_a), len(windows_b))
        pairs.append(spread([(windows_a[k % len(windows_a)], windows_b[k % len(windows_b)]) for k in range(count)]))
    flat = [pair for windows in pairs for pair in windows]
    encoded = tokenizer([a for a, _ in flat], [b for _, b in flat], truncation=True, max_length=max_length) if flat else {"input_ids": []}
    ids, types, counts, position = [], [], [], 0
    for windows in pairs:
        ids.append(encoded["input_ids"][position : position + len(windows)])
        if "token_type_ids" in encoded:
            types.append(encoded["token_type_ids"][position : position + len(windows)])
        counts.append([len(windows)])
        position += len(windows)
    return EncodedSet(ids, labels_of(examples), pad_id_of(tokenizer), types if "token_type_ids" in encoded else None, counts)


def _window_texts(text: str, spans: list[tuple[int, int]], size: int, at_most: int | None = WINDOWS_AT_MOST) -> list[str]:
    """``text`` cut into slices of ``size`` tokens (``spans``: each token's characters), at most
    ``at_most`` of them, spread (all of them with ``None``)."""
    if not spans:
        return [text]
    groups = [spans[start : start + size] for start in range(0, len(spans), size)]
    chosen = spread(groups, at_most) if at_most is not None else groups
    return [text[group[0][0] : group[-1][1]] for group in chosen]

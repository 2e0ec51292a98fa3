"""Students that start with some knowledge: a short masked-language-model pretraining.

A student trained from scratch on a few hundred examples must learn what code looks like and
what the teacher's outputs mean at once; on a clone set whose clones share meaning rather than
text it learned neither (issue 36). ``train.pretrain_epochs: N`` first trains the student's
encoder for N epochs to predict masked tokens of the task's code (the training part's functions
and the transfer set's, no label used), as RoBERTa was pretrained (15% of the tokens chosen;
of those 80% masked, 10% replaced by a random token, 10% kept), then distils from there.

The encoder is cached per tokenizer, architecture, corpus, epochs and seed
(``$AVATAR_CACHE/pretrained``), so probes and students of the same architecture share it and a
rerun pretrains nothing.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from avatar.specs import Cache

from ..data import SPECIAL_TOKENS, save_atomically

__all__ = ["PRETRAIN_VERSION", "MASK_SHARE", "pretrained_encoder", "mask_tokens"]

PRETRAIN_VERSION = 1
MASK_SHARE = 0.15
_ARCHITECTURE = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_sequence_length", "hidden_act", "position_embedding_type")


def mask_tokens(ids: torch.Tensor, attention: torch.Tensor, vocab_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """RoBERTa's masking of a batch: ``(inputs, labels)``, labels -100 where nothing is asked.
    Special tokens (``<s>``, ``<pad>``, ...) are never chosen."""
    special = len(SPECIAL_TOKENS)
    candidates = (ids >= special) & attention.bool()
    chosen = (torch.rand(ids.shape, generator=generator) < MASK_SHARE) & candidates
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    draw = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (draw < 0.8)] = SPECIAL_TOKENS.index("<mask>")
    replaced = chosen & (draw >= 0.8) & (draw < 0.9)
    inputs[replaced] = torch.randint(special, max(vocab_size, special + 1), ids.shape, generator=generator)[replaced]
    return inputs, labels


def _key(config: Mapping[str, Any], tokenizer: Any, corpus_fingerprint: str, epochs: int, seed: int, learning_rate: float) -> str:
    architecture = {name: str(config.get(name)) for name in _ARCHITECTURE}
    vocabulary = hashlib.sha256(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest()[:16]
    parts = [architecture, vocabulary, corpus_fingerprint, epochs, seed, learning_rate, PRETRAIN_VERSION]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


def pretrained_encoder(
    family: Any,
    config: Mapping[str, Any],
    tokenizer: Any,
    texts: Sequence[str],
    corpus_fingerprint: str,
    cache_dir: Path,
    *,
    epochs: int,
    seed: int,
    device: str,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    losses: list[float] | None = None,
) -> dict[str, torch.Tensor]:
    """The state of a ``RobertaModel`` encoder of ``config`` pretrained by masked-token
    prediction on ``texts`` for ``epochs`` (cached by ``corpus_fingerprint`` and the rest);
    ``losses`` (when given) receives each epoch's mean masked-token loss."""
    path = Cache(cache_dir).pretrained(_key(config, tokenizer, corpus_fingerprint, epochs, seed, learning_rate))
    if path.exists():
        return torch.load(path, weights_only=True)
    with torch.random.fork_rng():  # the caller's random state is the same whether the encoder was cached or trained
        state = _pretrain(family, config, tokenizer, texts, epochs=epochs, seed=seed, device=device, batch_size=batch_size, learning_rate=learning_rate, losses=losses)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(state, path)
    return state


def _pretrain(
    family: Any, config: Mapping[str, Any], tokenizer: Any, texts: Sequence[str], *, epochs: int, seed: int, device: str, batch_size: int, learning_rate: float, losses: list[float] | None
) -> dict[str, torch.Tensor]:
    from transformers import RobertaForMaskedLM, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    hf_config = family.hf_config(config, vocab_size=int(config["vocab_size"]), pad_token_id=tokenizer.pad_token_id, bos_token_id=0, eos_token_id=2)
    model: Any = RobertaForMaskedLM(hf_config)
    model.to(device)
    length = int(config["max_sequence_length"])
    encoded = tokenizer(list(texts), truncation=True, max_length=length, add_special_tokens=True)["input_ids"]
    order = list(range(len(encoded)))
    steps = epochs * -(-len(order) // batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, max(1, steps // 10), max(1, steps))
    generator = torch.Generator().manual_seed(seed)
    shuffler = random.Random(seed)
    model.train()
    for _ in range(epochs):
        shuffler.shuffle(order)
        total, batches = 0.0, 0
        for start in range(0, len(order), batch_size):
            batch = [encoded[index] for index in order[start : start + batch_size]]
            width = max(len(sequence) for sequence in batch)
            ids = torch.tensor([sequence + [tokenizer.pad_token_id] * (width - len(sequence)) for sequence in batch])
            attention = torch.tensor([[1] * len(sequence) + [0] * (width - len(sequence)) for sequence in batch])
            inputs, labels = mask_tokens(ids, attention, int(config["vocab_size"]), generator)
            if not (labels != -100).any():
                continue
            loss = model(input_ids=inputs.to(device), attention_mask=attention.to(device), labels=labels.to(device)).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total, batches = total + loss.item(), batches + 1
        if losses is not None:
            losses.append(total / max(batches, 1))
    return {name: tensor.detach().cpu() for name, tensor in model.roberta.state_dict().items()}

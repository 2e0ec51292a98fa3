"""A few steps of a sub-network's own training before it is scored
(``estimators.accuracy.options.supernet_finetune_steps``).

A sub-network shares weights that every configuration trained, so its score cannot see how its
own student would be trained: the learning rate, batch size and dropout leave it unchanged
(bench/README, *Against real students*: on both sets measured, the learning rate decided which
real students were best). A copy of the sub-network, trained for a few steps with the
configuration's own learning rate, batch size and dropout, on the teacher's outputs with the
run's distillation methods, lets them act before it is scored. Once-for-All fine-tunes its
sub-networks too, there for their accuracy; here it is for their ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..data import TaskData, encode
from ..distill import BatchTargets, MethodMix, TeacherOutputs, distillation_examples, methods_of, student_forward, student_objective

__all__ = ["finetuned"]


def finetuned(
    model: nn.Module, spec: Any, config: Mapping[str, Any], data: TaskData, teacher: TeacherOutputs, tokenizer: Any, steps: int, *, max_examples: int | None, device: str = "cpu"
) -> nn.Module:
    """``model`` (a standalone copy of ``config``'s sub-network, read by ``tokenizer``) after
    ``steps`` optimiser steps at ``config``'s learning rate and batch size, in training mode
    (its dropout), on the teacher's outputs for the distillation examples with ``config``'s
    distillation methods. Constant learning rate: a warm-up would hide the rate over a few
    steps. Seeded by ``train.seed``, so a configuration's score is reproducible."""
    methods = methods_of(spec, config, teacher.methods)
    mix = MethodMix.of(methods)
    unlabeled, labeled = distillation_examples(data, max_examples, mix.uses_labels)
    encoded = encode(unlabeled + labeled, tokenizer, int(config["max_sequence_length"]), spec.train.long_inputs)
    targets = BatchTargets(teacher, len(unlabeled), len(labeled), encoded.labels, device)
    objective, loss = student_objective(spec, config, mix, teacher, targets)
    model, objective = model.to(device), objective.to(device)
    forward = student_forward(hidden="hidden" in mix.student_outputs, relations="relations" in mix.student_outputs)
    optimizer = torch.optim.AdamW([*model.parameters(), *objective.parameters()], lr=float(config.get("learning_rate", 5e-4)))
    batch_size = min(int(config.get("batch_size", 16)), len(encoded))
    order = torch.randperm(len(encoded), generator=torch.Generator().manual_seed(spec.train.seed)).tolist()
    torch.manual_seed(spec.train.seed)  # its dropout masks
    model.train()
    for step in range(steps):
        start = step * batch_size % len(order)
        indices = (order[start:] + order)[:batch_size]  # the order again where it runs out
        loss(forward(model, encoded.batch(indices, device)), indices).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return model.eval()

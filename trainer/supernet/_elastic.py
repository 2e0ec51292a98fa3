"""A weight-sharing super-student: every configuration of a space is one of its sub-networks.

One transformer body is built at the largest size the space allows (layers, hidden size,
intermediate size, sequence length). A configuration's sub-network takes the leading slices of
its weights: the first ``num_hidden_layers`` layers, the first ``hidden_size`` rows and columns,
the first ``intermediate_size`` units, the first positions. Three tensors are not leading
slices: the clone head reads ``[|u - v|, u * v]``, so its first layer takes the first columns of
each half; a relative position table is centred on distance 0, so it takes the rows around
its centre; word embeddings are looked up by token (below).

Tokenizers. Each tokenizer type (``bpe``, ``wordpiece``, ``unigram``, ``word``) has its own
embedding table, sized to that type's largest vocabulary in the space; the body is shared by
all types. A configuration's own tokenizer (its type, its vocabulary size) reads the text, and
its tokens select their rows of the table by string. A smaller vocabulary's tokens are all in
the larger one's (measured for all four types on the quick start's code: 1,000 of 1,000), and
for ``bpe`` and ``word`` at the same ids, so there they are the leading rows; a token the
largest vocabulary lacks reads ``<unk>``'s row. Why not one super-student per type: four
bodies cost four trainings, and the body's weights are what the sub-networks share.

Heads, activation, dropout and the position type have no weights of their own beyond the above:
a sub-network runs the body with its own (``num_attention_heads`` splits its hidden slice into
heads; a relative position table is built for the body with one head, the widest head).

Sub-networks run through ``torch.func.functional_call`` on a model built for the
configuration, with the super-student's slices in place of its weights: gradients flow into the
shared weights, and ``extract`` gives the same model as a standalone one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from avatar.specs import PAIR_KINDS

__all__ = ["ELASTIC", "SuperStudent", "SubNetwork", "largest_of", "token_map"]

# dimensions a sub-network takes a leading slice of
ELASTIC = ("num_hidden_layers", "hidden_size", "intermediate_size", "max_sequence_length")
_SKELETONS = 32  # configurations whose models are kept built (a sub-network's shape, not its weights)


def largest_of(configs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The body's configuration: the largest of every elastic dimension over ``configs``, one
    head (the widest head: a relative position table is as wide as a head), relative positions
    of both kinds when any configuration uses them (the body then has every table)."""
    body = dict(configs[0])
    for name in ELASTIC:
        body[name] = max(int(config[name]) for config in configs)
    body["num_attention_heads"] = 1
    kinds = {str(config.get("position_embedding_type", "absolute")) for config in configs}
    body["position_embedding_type"] = "absolute" if kinds == {"absolute"} else "relative_key_query"
    body["vocab_size"] = 8  # the body's own table is unused: each tokenizer type has its own
    return body


def token_map(tokenizer: Any, table_tokenizer: Any) -> torch.Tensor:
    """For each id of ``tokenizer``, the row of ``table_tokenizer``'s vocabulary holding the same
    token (``<unk>``'s row where it has none)."""
    rows = table_tokenizer.get_vocab()
    unknown = rows.get("<unk>", 0)
    vocabulary = tokenizer.get_vocab()
    mapping = torch.full((len(tokenizer),), unknown, dtype=torch.long)
    for token, index in vocabulary.items():
        if index < len(mapping):
            mapping[index] = rows.get(token, unknown)
    return mapping


class SuperStudent(nn.Module):
    """The shared weights: a body at the largest size and one embedding table per tokenizer type.

    ``family`` builds models from configurations (``avatar.objectives.get_family``); ``body``
    is ``largest_of`` the space's configurations; ``tables`` gives each tokenizer type its
    largest vocabulary's size.
    """

    def __init__(self, family: Any, body: Mapping[str, Any], tables: Mapping[str, int], task_kind: str, num_labels: int) -> None:
        super().__init__()
        self.family, self.task_kind, self.num_labels = family, task_kind, num_labels
        self.body_config = dict(body)
        self.body = family.build(body, task_kind, num_labels)
        self.width = int(body["hidden_size"])
        std = float(getattr(self.body.config, "initializer_range", 0.02))
        self.tables = nn.ParameterDict({kind: nn.Parameter(torch.randn(size, self.width) * std) for kind, size in sorted(tables.items())})
        self._skeletons: OrderedDict[str, nn.Module] = OrderedDict()

    def covers(self, config: Mapping[str, Any]) -> str | None:
        """Why ``config`` is not a sub-network of this super-student (None when it is)."""
        for name in ELASTIC:
            if int(config[name]) > int(self.body_config[name]):
                return f"its {name} {config[name]} is above the super-student's {self.body_config[name]}"
        kind = str(config.get("tokenizer", "bpe"))
        if kind not in self.tables:
            return f"the super-student has no embedding table for the '{kind}' tokenizer"
        if str(config.get("position_embedding_type", "absolute")) != "absolute" and self.body_config["position_embedding_type"] == "absolute":
            return "the super-student was built without relative position tables"
        return None

    def skeleton(self, config: Mapping[str, Any], vocab_size: int) -> nn.Module:
        """A model built for ``config`` (its shape; its own weights are never used)."""
        key = repr(sorted({**config, "vocab_size": vocab_size}.items()))
        if key not in self._skeletons:
            with torch.random.fork_rng():
                self._skeletons[key] = self.family.build({**config, "vocab_size": vocab_size}, self.task_kind, self.num_labels)
            if len(self._skeletons) > _SKELETONS:
                self._skeletons.popitem(last=False)
        self._skeletons.move_to_end(key)
        return self._skeletons[key]

    def weights(self, config: Mapping[str, Any], rows: torch.Tensor) -> dict[str, torch.Tensor]:
        """The sub-network's weights, as slices of the shared ones (gradients flow back)."""
        skeleton = self.skeleton(config, len(rows))
        shared = dict(self.body.named_parameters())
        hidden, widest = int(config["hidden_size"]), self.width
        weights = {}
        for name, parameter in skeleton.named_parameters():
            shape = tuple(parameter.shape)
            if name.endswith("word_embeddings.weight"):
                weights[name] = self.tables[str(config.get("tokenizer", "bpe"))][rows.to(self.tables[str(config.get("tokenizer", "bpe"))].device)][:, :hidden]
            elif name.endswith("distance_embedding.weight"):  # centred on distance 0
                source = shared[name]
                start = (source.shape[0] - shape[0]) // 2
                weights[name] = source[start : start + shape[0], : shape[1]]
            elif name == "classifier.dense.weight" and self.task_kind in PAIR_KINDS:  # [|u - v|, u * v]
                source = shared[name][: shape[0]]
                weights[name] = torch.cat([source[:, :hidden], source[:, widest : widest + hidden]], dim=1)
            else:
                weights[name] = shared[name][tuple(slice(0, size) for size in shape)]
        return weights

    def subnetwork(self, config: Mapping[str, Any], rows: torch.Tensor) -> SubNetwork:
        """The sub-network of ``config`` (its token ids select ``rows`` of its type's table)."""
        reason = self.covers(config)
        if reason is not None:
            raise ValueError(f"not a sub-network of this super-student: {reason}")
        return SubNetwork(self, dict(config), rows)

    def extract(self, config: Mapping[str, Any], rows: torch.Tensor) -> nn.Module:
        """The sub-network as a standalone model of ``config``'s shape, holding copies of its slices."""
        model = self.family.build({**config, "vocab_size": len(rows)}, self.task_kind, self.num_labels)
        with torch.no_grad():
            model.load_state_dict({name: value.detach().clone() for name, value in self.weights(config, rows).items()}, strict=False)
        return model


class SubNetwork(nn.Module):
    """One configuration run on the super-student's weights: a model that trains them."""

    def __init__(self, owner: SuperStudent, config: dict[str, Any], rows: torch.Tensor) -> None:
        super().__init__()
        self.model = owner.skeleton(config, len(rows))  # its hooks and modes are the sub-network's
        self.config, self.rows = config, rows
        object.__setattr__(self, "_owner", owner)  # not a child: its weights are not this module's

    def forward(self, **inputs: torch.Tensor) -> Any:
        owner: SuperStudent = object.__getattribute__(self, "_owner")
        return functional_call(self.model, owner.weights(self.config, self.rows), args=(), kwargs=inputs, strict=False)

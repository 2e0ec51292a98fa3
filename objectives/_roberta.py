"""The ``roberta`` family: a RoBERTa encoder with a two-label classification head.

Pinned semantics (documented in docs/estimators.md):

* ``max_position_embeddings = max_sequence_length + 2`` (RoBERTa offsets positions by the
  padding index), ``type_vocab_size = 1``, two labels, no pooler.
* ``defect``: ``RobertaForSequenceClassification``; its head reads the first token:
  dense H->H, tanh, dense H->2.
* ``clone``: one shared encoder reads both functions; each is mean-pooled over its tokens
  (u, v) and the head reads ``[|u - v|, u * v]``: dense 2H->H, tanh, dense H->2
  (``RobertaForCloneDetection``). Same parameters and matrix products as the concatenated
  first-token vectors of CodeXGLUE's model, but tiny students learn from it (see
  ``pair_features``).
* FLOPs count what runs for one input of ``max_sequence_length`` tokens (a pair of inputs for
  ``clone``): every matrix product as 2mnk (attention scores and mixing included, and the
  relative-position products), embeddings as lookups; element-wise work is not counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from avatar.specs import PAIR_KINDS

from ._base import EstimatorError
from ._families import REQUIRED, ModelFamily

if TYPE_CHECKING:
    from avatar.specs import Spec

__all__ = ["RobertaFamily", "ACTIVATIONS", "POSITION_TYPES", "relative_positions_supported"]

ACTIVATIONS = ("gelu", "relu", "silu", "swish", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "quick_gelu", "tanh", "mish")
POSITION_TYPES = ("absolute", "relative_key", "relative_key_query")
_ARCHITECTURE = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "max_sequence_length")
_PROBABILITIES = ("hidden_dropout_prob", "attention_probs_dropout_prob")


def relative_positions_supported() -> bool:
    """transformers 5 dropped relative position embeddings and silently builds absolute ones."""
    try:
        major = int(version("transformers").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return False
    return major < 5


class RobertaFamily(ModelFamily):
    """RoBERTa encoder students (the family of CodeBERT and of the Avatar paper)."""

    name = "roberta"
    names = {
        **{name: REQUIRED for name in _ARCHITECTURE},
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
    }

    # -- closed forms (one formula for numbers and PySMT terms) ---------------------------

    def params(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        """Trainable parameters, exactly ``sum(p.numel())`` of the built model."""
        vocab, hidden = view.number("vocab_size"), view.number("hidden_size")
        positions = view.number("max_sequence_length") + 2
        # word, position and token-type tables; embedding LayerNorm (weight and bias)
        embeddings = vocab * hidden + positions * hidden + hidden + 2 * hidden
        return embeddings + self.non_embedding_params(view, task_kind, num_labels)

    def non_embedding_params(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        """Parameters outside the embedding tables: the layers and the head (capacity)."""
        hidden, layers = view.number("hidden_size"), view.number("num_hidden_layers")
        intermediate, positions = view.number("intermediate_size"), view.number("max_sequence_length") + 2
        head_size = view.floor_div(hidden, view.number("num_attention_heads"))
        relative = view.flag("position_embedding_type", "relative_key") + view.flag("position_embedding_type", "relative_key_query")
        # Q, K, V, O with biases; two LayerNorms; feed-forward with biases; distance table
        layer = 4 * hidden * hidden + 4 * hidden + 4 * hidden + 2 * hidden * intermediate + intermediate + hidden
        layer = layer + relative * (2 * positions - 1) * head_size
        return layers * layer + self._head_params(hidden, task_kind, num_labels)

    def linear_weights(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        """Weights of the linear layers (what int8 dynamic quantization stores in one byte)."""
        hidden, layers, intermediate = view.number("hidden_size"), view.number("num_hidden_layers"), view.number("intermediate_size")
        head = (2 * hidden * hidden if task_kind in PAIR_KINDS else hidden * hidden) + num_labels * hidden
        return layers * (4 * hidden * hidden + 2 * hidden * intermediate) + head

    def flops(self, view: Any, task_kind: str, num_labels: int = 2) -> Any:
        """Forward FLOPs for one input (a pair for clone); see the module docstring."""
        hidden, layers = view.number("hidden_size"), view.number("num_hidden_layers")
        intermediate, length = view.number("intermediate_size"), view.number("max_sequence_length")
        relative_products = 2 * view.flag("position_embedding_type", "relative_key") + 4 * view.flag("position_embedding_type", "relative_key_query")
        projections = 8 * length * hidden * hidden
        feed_forward = 4 * length * hidden * intermediate
        attention = (4 + relative_products) * length * length * hidden
        encoder = layers * (projections + feed_forward + attention)
        if task_kind in PAIR_KINDS:
            return 2 * encoder + 2 * (2 * hidden) * hidden + 2 * hidden * num_labels
        return encoder + 2 * hidden * hidden + 2 * hidden * num_labels

    def cost_features(self, view: Any, task_kind: str) -> dict[str, Any]:
        """Terms of a CPU latency cost model; a calibrated model is a weighted sum of them.

        Besides the matrix products, the terms follow what dominates small models: fixed costs
        per call and per layer, per-head work, the attention scores (fused for absolute
        positions; eager, with the distance tables gathered, for relative ones) and the
        activation function over the feed-forward width.
        """
        hidden, layers, heads = view.number("hidden_size"), view.number("num_hidden_layers"), view.number("num_attention_heads")
        intermediate, length = view.number("intermediate_size"), view.number("max_sequence_length")
        head_size = view.floor_div(hidden, heads)
        key_only = view.flag("position_embedding_type", "relative_key")
        key_query = view.flag("position_embedding_type", "relative_key_query")
        absolute = view.flag("position_embedding_type", "absolute")
        per_layer = 2 * layers if task_kind in PAIR_KINDS else layers
        scores = per_layer * heads * length * length
        distances = per_layer * length * length * head_size
        features = {
            "call": 1,
            "layers": per_layer,
            "heads": per_layer * heads,
            "projections": per_layer * length * hidden * hidden,
            "feed_forward": per_layer * length * hidden * intermediate,
            "scores_absolute": scores * absolute,
            "scores_relative_key": scores * key_only,
            "scores_relative_key_query": scores * key_query,
            "distances_relative_key": distances * key_only,
            "distances_relative_key_query": distances * key_query,
        }
        for activation in ACTIVATIONS:
            features[f"activation_{activation}"] = per_layer * length * intermediate * view.flag("hidden_act", activation)
        return features

    @staticmethod
    def _head_params(hidden: Any, task_kind: str, num_labels: int = 2) -> Any:
        """Dense layer (2H->H for pairs, H->H) with bias, and the output layer H->N with bias."""
        dense = 2 * hidden * hidden + hidden if task_kind in PAIR_KINDS else hidden * hidden + hidden
        return dense + num_labels * hidden + num_labels

    # -- models ----------------------------------------------------------------------------

    def hf_config(self, config: Mapping[str, Any], **overrides: Any) -> Any:
        """The ``RobertaConfig`` of a configuration (imports transformers)."""
        from transformers import RobertaConfig

        view = self.numeric(config)
        values = dict(
            vocab_size=view.number("vocab_size"),
            hidden_size=view.number("hidden_size"),
            num_hidden_layers=view.number("num_hidden_layers"),
            num_attention_heads=view.number("num_attention_heads"),
            intermediate_size=view.number("intermediate_size"),
            hidden_act=view.value("hidden_act"),
            hidden_dropout_prob=float(view.value("hidden_dropout_prob")),
            attention_probs_dropout_prob=float(view.value("attention_probs_dropout_prob")),
            max_position_embeddings=view.number("max_sequence_length") + 2,
            position_embedding_type=view.value("position_embedding_type"),
            type_vocab_size=1,
            num_labels=2,
        )
        values.update(overrides)
        return RobertaConfig(**values)

    def check(self, config: Mapping[str, Any]) -> str | None:
        view = self.numeric(config)
        hidden, heads = view.number("hidden_size"), view.number("num_attention_heads")
        if hidden % heads:
            return f"hidden_size {hidden} is not a multiple of num_attention_heads {heads}"
        return None

    def build(self, config: Mapping[str, Any], task_kind: str, num_labels: int = 2, **overrides: Any) -> Any:
        """A randomly initialised student for ``task_kind`` (one text or a pair) with
        ``num_labels`` outputs.

        Raises:
            EstimatorError: the configuration cannot be built (see ``check``).
        """
        from transformers import RobertaForSequenceClassification

        from ._roberta_models import RobertaForCloneDetection

        reason = self.check(config)
        if reason is not None:
            raise EstimatorError(f"the roberta family cannot build this configuration: {reason}")

        if self.numeric(config).value("position_embedding_type") != "absolute":
            overrides.setdefault("attn_implementation", "eager")  # what transformers falls back to anyway
        hf_config = self.hf_config(config, num_labels=num_labels, **overrides)
        model_class = RobertaForCloneDetection if task_kind in PAIR_KINDS else RobertaForSequenceClassification
        return model_class(hf_config)

    # -- validation ------------------------------------------------------------------------

    def validate(self, spec: Spec) -> list[tuple[tuple[str | int, ...], str]]:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        domains = {parameter.name: (("space", parameter.name), parameter.values) for parameter in spec.parameters}
        domains.update({constant.name: (("constants", constant.name), (constant.value,)) for constant in spec.constants})
        for name in _ARCHITECTURE:
            if name not in domains:
                problems.append((("space",), f"the roberta family needs '{name}' as a parameter or a constant"))
                continue
            path, values = domains[name]
            if any(isinstance(value, str) or value < 1 or value != int(value) for value in values):
                problems.append((path, f"'{name}' must take whole numbers of at least 1"))
        for name in _PROBABILITIES:
            if name in domains and any(isinstance(value, str) or not 0 <= value < 1 for value in domains[name][1]):
                problems.append((domains[name][0], f"'{name}' must take probabilities from 0 up to (not including) 1"))
        problems += self._validate_choices(domains, "hidden_act", ACTIVATIONS)
        problems += self._validate_choices(domains, "position_embedding_type", POSITION_TYPES)
        if "position_embedding_type" in domains and not relative_positions_supported():
            path, values = domains["position_embedding_type"]
            relative = [value for value in values if value != "absolute"]
            if relative:
                problems.append(
                    (
                        path,
                        f"the installed transformers {version('transformers')} does not implement {', '.join(map(str, relative))} "
                        "position embeddings (transformers 5 ignores the setting and builds an absolute-position model); "
                        "install transformers<5 or use only 'absolute'",
                    )
                )
        return problems

    @staticmethod
    def _validate_choices(domains: dict, name: str, allowed: tuple[str, ...]) -> list[tuple[tuple[str | int, ...], str]]:
        if name not in domains:
            return []
        path, values = domains[name]
        unknown = [value for value in values if value not in allowed]
        if not unknown:
            return []
        return [(path, f"'{name}' cannot be {', '.join(map(repr, unknown))}; the roberta family supports {', '.join(allowed)}")]

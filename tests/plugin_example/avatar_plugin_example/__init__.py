"""An example Avatar estimator plugin: parameters held by the embedding tables."""

from avatar.objectives import Estimator


class EmbeddingParamsEstimator(Estimator):
    """Token (and optionally position) embedding parameters: what the vocabulary costs."""

    name = "embedding_params"
    unit = "parameters"
    direction = "minimize"

    def __init__(self, *, include_positions: bool = False) -> None:
        self.include_positions = include_positions

    def evaluate(self, config, context):
        rows = config["vocab_size"]
        if self.include_positions:
            rows += config["max_sequence_length"] + 2
        return float(rows * config["hidden_size"])

    def symbolic(self, config, context):
        """Optional: a closed form lets a limit on this metric shape the feasible space."""
        rows = config.number("vocab_size")
        if self.include_positions:
            rows = rows + config.number("max_sequence_length") + 2
        return rows * config.number("hidden_size")

"""The weight-sharing super-student (``method: supernet``): its sub-networks are the models of
their configurations, a killed training resumes to the same weights, and ``solve`` learns
accuracy from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from avatar import objectives
from avatar.objectives import AccuracyEstimator, EstimatorError
from avatar.solver import RunStore, SerialExecutor, Space
from avatar.specs import loads
from avatar.trainer import DistillationProber, _probe, prepare_distillation, train_tokenizer
from avatar.trainer.supernet import SupernetSettings, SuperStudent, largest_of, score_subnetwork, token_map, train_supernet
from avatar.trainer.supernet._finetune import finetuned
from avatar.trainer.supernet._training import _tokenizer
from tests.helpers import REPOSITORY
from tests.trainer_tests.conftest import student_spec

BASE = {"tokenizer": "wordpiece", "vocab_size": 300, "num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "max_sequence_length": 64, "position_embedding_type": "absolute"}  # fmt: skip
WIDER = {
    **BASE,
    "num_hidden_layers": 3,
    "hidden_size": 48,
    "num_attention_heads": 3,
    "intermediate_size": 96,
    "max_sequence_length": 96,
    "position_embedding_type": "relative_key_query",
    "hidden_act": "relu",
}
CORPUS = [f"int f{index}(int a, int b) {{ return a * {index} + b - helper_{index % 7}(a); }}" for index in range(200)]


@pytest.mark.parametrize("task_kind", ["clone", "defect"])
def test_subnetworks_are_independently_built_models_holding_leading_slices(task_kind):
    family = objectives.get_family("roberta")
    small, large = train_tokenizer("wordpiece", 150, CORPUS, 96), train_tokenizer("wordpiece", 400, CORPUS, 96)
    rows = token_map(small, large)
    assert sorted(set(rows.tolist())) != list(range(len(small))), "wordpiece ids differ between vocabulary sizes: rows are looked up by token"
    assert all(large.convert_ids_to_tokens(int(row)) == small.convert_ids_to_tokens(index) for index, row in enumerate(rows.tolist()))
    torch.manual_seed(0)
    superstudent = SuperStudent(family, largest_of([BASE, WIDER]), {"wordpiece": len(large)}, task_kind, 2)
    shape = (3, 2, 20) if task_kind == "clone" else (3, 20)
    inputs = {"input_ids": torch.randint(5, len(small), shape), "attention_mask": torch.ones(shape, dtype=torch.long)}
    for config in (BASE, WIDER):
        config = {**config, "vocab_size": len(small)}
        subnetwork = superstudent.subnetwork(config, rows).eval()
        independent = family.build(config, task_kind, 2).eval()  # built on its own, of that size
        weights = {name: value.detach() for name, value in superstudent.weights(config, rows).items()}
        independent.load_state_dict(weights, strict=False)
        assert {name: value.shape for name, value in independent.state_dict().items()} == {name: value.shape for name, value in superstudent.extract(config, rows).state_dict().items()}
        assert torch.allclose(subnetwork(**inputs).logits, independent(**inputs).logits, atol=1e-6)
        hidden, inner = config["hidden_size"], config["intermediate_size"]
        body = superstudent.body.roberta.encoder.layer[1]
        assert torch.equal(weights["roberta.encoder.layer.1.attention.self.query.weight"], body.attention.self.query.weight[:hidden, :hidden].detach())
        assert torch.equal(weights["roberta.encoder.layer.1.intermediate.dense.weight"], body.intermediate.dense.weight[:inner, :hidden].detach())
        assert torch.equal(weights["roberta.embeddings.word_embeddings.weight"], superstudent.tables["wordpiece"][rows][:, :hidden].detach())
    loss = superstudent.subnetwork({**BASE, "vocab_size": len(small)}, rows).train()(**inputs).logits.sum()
    loss.backward()
    grown = superstudent.body.roberta.encoder.layer[0].attention.self.query.weight.grad
    assert grown[:32, :32].abs().sum() > 0 and grown[32:].abs().sum() == 0, "a sub-network trains its slice of the shared weights, nothing else"
    with pytest.raises(ValueError, match="num_hidden_layers"):
        superstudent.subnetwork({**WIDER, "num_hidden_layers": 4}, rows)


def _tiny(clone_folder, tiny_teacher, tmp_path):
    spec = loads(student_spec("clone", clone_folder, tiny_teacher))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    context = objectives.Context.from_spec(spec)
    pool = [context.resolve(config) for config in Space.from_spec(spec).sample(8, seed=1)]
    return spec, distillation, pool


def test_a_killed_supernet_training_resumes_to_the_same_weights(tmp_path, clone_folder, tiny_teacher):
    spec, distillation, pool = _tiny(clone_folder, tiny_teacher, tmp_path)
    settings = SupernetSettings(epochs=3, batch_size=8)
    arguments = (spec, distillation.data, distillation.outputs, distillation.teacher.fingerprint, pool)
    whole = train_supernet(*arguments, tmp_path / "whole", settings)

    def killed(epoch, record):
        if epoch == 1:
            raise KeyboardInterrupt  # the process dies after epoch 2's checkpoint

    with pytest.raises(KeyboardInterrupt):
        train_supernet(*arguments, tmp_path / "killed", settings, on_epoch=killed)
    started = []
    resumed = train_supernet(*arguments, tmp_path / "killed", settings, on_start=started.append)
    assert started == [2], "it resumes at the epoch it was in"
    assert [record["epoch"] for record in resumed.history] == [0, 1, 2]
    first, second = whole.model.state_dict(), resumed.model.state_dict()
    assert first.keys() == second.keys() and all(torch.equal(first[name], second[name]) for name in first)
    again = []
    cached = train_supernet(*arguments, tmp_path / "killed", settings, on_start=again.append)
    assert again == [] and cached.folder == resumed.folder, "a finished super-student is read from the cache"
    value, weak = score_subnetwork(cached, pool[0], "auc")
    assert 0.0 <= value <= 1.0 and isinstance(weak, list)


def test_a_few_steps_of_its_own_training_let_a_subnetwork_see_its_learning_rate(tmp_path, clone_folder, tiny_teacher):
    """``supernet_finetune_steps``: a copy of the sub-network trains at the configuration's own
    learning rate (a shared weight cannot show it), reproducibly, and the super-student is left
    as it was."""
    spec, distillation, pool = _tiny(clone_folder, tiny_teacher, tmp_path)
    supernet = train_supernet(spec, distillation.data, distillation.outputs, distillation.teacher.fingerprint, pool, tmp_path / "cache", SupernetSettings(epochs=1, batch_size=8))
    shared = {name: value.clone() for name, value in supernet.model.state_dict().items()}
    config = pool[0]
    tokenizer = _tokenizer(supernet.data, str(config["tokenizer"]), int(config["vocab_size"]), int(config["max_sequence_length"]), supernet.cache_dir)
    rows = token_map(tokenizer, supernet.tables[str(config["tokenizer"])])
    sized = {**config, "vocab_size": len(tokenizer)}

    def after(rate: float, steps: int = 6) -> dict[str, torch.Tensor]:
        copy = supernet.model.extract(sized, rows)
        model = finetuned(copy, spec, {**sized, "learning_rate": rate}, supernet.data, supernet.teacher, tokenizer, steps, max_examples=supernet.settings.max_examples)
        assert not model.training, "scored in evaluation mode"
        return {name: value.detach().clone() for name, value in model.state_dict().items()}

    start = {name: value.detach() for name, value in supernet.model.extract(sized, rows).state_dict().items()}
    still, fast, again = after(0.0), after(1e-2), after(1e-2)
    assert all(torch.equal(still[name], start[name]) for name in start), "at rate 0 nothing moves"
    assert any(not torch.allclose(fast[name], start[name]) for name in start), "at the configuration's rate it trains"
    assert all(torch.equal(fast[name], again[name]) for name in fast), "seeded: the same steps give the same weights"
    assert all(torch.equal(value, shared[name]) for name, value in supernet.model.state_dict().items()), "the super-student is left as it was"
    scores = [score_subnetwork(supernet, {**config, "learning_rate": rate}, "auc", finetune_steps=steps)[0] for rate, steps in ((1e-2, 0), (1e-6, 0), (1e-2, 6))]
    assert scores[0] == scores[1], "without fine-tuning the learning rate leaves the score unchanged"
    assert all(0.0 <= value <= 1.0 for value in scores)


class _RemoteExecutor(SerialExecutor):
    """Runs tasks here, but says its workers are elsewhere (as Dask's may be)."""

    remote = True

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []

    def submit(self, task_id, task) -> None:
        self.submitted.append(type(task).__name__)
        super().submit(task_id, task)


def test_a_remote_executor_distils_the_super_student_on_its_worker(tmp_path, clone_folder, tiny_teacher, monkeypatch):
    """On Dask the super-student is distilled where its probes run, into the cache they read;
    this process does not train it, and says how each epoch went. A failure there names it."""
    spec, distillation, _ = _tiny(clone_folder, tiny_teacher, tmp_path)
    estimator = AccuracyEstimator(method="supernet", supernet_epochs=1, supernet_pool=8, probe_score="auc")
    lines: list[str] = []
    prober = DistillationProber(distillation, progress=lines.append)
    executor = _RemoteExecutor()
    prober.prepare("accuracy", estimator, Space.from_spec(spec), executor)
    assert executor.submitted == ["SupernetTraining"] and "accuracy" not in prober.supernets
    assert "on a worker" in lines[0] and "super-student epoch 1/1" in lines[1]
    _probe._loaded.clear()  # another worker process: it reads the super-student from the cache
    monkeypatch.setattr(_probe.SupernetTraining, "run", lambda self: pytest.fail("trained again"))
    config = Space.from_spec(spec).sample(1, seed=3)[0]
    result = prober.task("accuracy", estimator, config).run()
    assert 0.0 <= result["accuracy"] <= 1.0

    def broken(self, **callbacks):
        raise ValueError("no room on the device")

    monkeypatch.setattr(_probe.SupernetTraining, "train", broken)
    monkeypatch.setattr(_probe.SupernetTraining, "run", lambda self: {"history": self.train()})
    with pytest.raises(RuntimeError, match="failed on a worker: .*no room on the device"):
        DistillationProber(distillation).prepare("accuracy", estimator, Space.from_spec(spec), _RemoteExecutor())


def _solve(tmp_path, clone_folder, tiny_teacher, options: str, runs: tuple[str, ...]) -> list[str]:
    """``solve --no-train`` of a clone spec learning accuracy with ``options``, once per run
    folder (one cache), and what each printed."""
    text = student_spec("clone", clone_folder, tiny_teacher).replace(
        "objectives: {size_mb: minimize, gflops: maximize}", f"objectives: {{size_mb: minimize, accuracy: maximize}}\nestimators: {{accuracy: {{options: {options}}}}}"
    )
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(text)
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "AVATAR_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    outputs = []
    for run in runs:
        command = [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(tmp_path / run), "--no-train"]
        result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    return outputs


def test_solve_learns_accuracy_from_a_supernet(tmp_path, clone_folder, tiny_teacher):
    options = "{method: supernet, initial: 6, rounds: 1, per_round: 2, supernet_epochs: 2, supernet_pool: 8, probe_score: auc}"
    outputs = _solve(tmp_path, clone_folder, tiny_teacher, options, ("first", "second"))
    assert "super-student epoch 2/2" in outputs[0] and "super-student read from the cache" in outputs[1]
    store = RunStore(tmp_path / "first" / "evaluations.sqlite")
    probes = store.probes()
    store.close()
    assert len(probes) >= 6 and all(probe.ok and probe.fidelity["method"] == "supernet" for probe in probes)
    learning = json.loads((tmp_path / "first" / "learning.json").read_text())[0]
    assert learning["fits"] and "super-student" in (tmp_path / "first" / "report.md").read_text()


def test_solve_calibrates_a_supernet_with_real_probes(tmp_path, clone_folder, tiny_teacher):
    """``method: supernet+probes`` end to end: sub-network scores and real distillations of a
    share of the same configurations, one store, and a fit over the real probes."""
    options = "{method: supernet+probes, initial: 6, rounds: 1, promote: 0.66, supernet_epochs: 1, supernet_pool: 8, probe_epochs: 1, probe_examples: 32, probe_score: auc}"
    _solve(tmp_path, clone_folder, tiny_teacher, options, ("run",))
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    probes = store.probes()
    store.close()
    sub_networks = [probe for probe in probes if probe.fidelity.get("method") == "supernet"]
    real = [probe for probe in probes if "method" not in probe.fidelity]
    assert len(sub_networks) == 6 and len(real) == 4 and all(probe.ok for probe in probes)
    assert {probe.key for probe in real} <= {probe.key for probe in sub_networks}, "the real probes are of configurations the super-student scored"
    learning = json.loads((tmp_path / "run" / "learning.json").read_text())[0]
    assert learning["fits"][-1]["n"] == 4, "cross-validated over the real probes"
    assert "a ridge on 4 of them" in learning["method"]


def test_supernet_options_are_checked():
    estimator = AccuracyEstimator(method="supernet")
    assert (estimator.initial, estimator.per_round) == (64, 16), "probes of a super-student are cheap: more of them"
    assert estimator.fidelity["method"] == "supernet"
    assert "method" not in AccuracyEstimator(method="probes").fidelity, "short distillations keep the fidelity they had (stored probes stay valid)"
    with pytest.raises(EstimatorError, match="method"):
        AccuracyEstimator(method="oracle")
    with pytest.raises(EstimatorError, match="promote"):
        AccuracyEstimator(method="supernet", promote=0.5)
    with pytest.raises(EstimatorError, match="supernet_epochs"):
        AccuracyEstimator(method="supernet", supernet_epochs=0)
    with pytest.raises(EstimatorError, match="supernet_finetune_steps"):
        AccuracyEstimator(method="supernet", supernet_finetune_steps=-1)
    tuned = AccuracyEstimator(method="supernet", supernet_finetune_steps=8)
    assert tuned.fidelity["finetune_steps"] == 8 and "finetune_steps" not in estimator.fidelity, "scores after fine-tuning are not the scores without it"
    assert "after 8 steps of its own fine-tuning" in tuned.method(objectives.Context(task_kind="clone"))


def test_auto_says_what_it_chose_and_keeps_the_probes_fidelity():
    """``method: auto`` (the default) takes the estimator the measurements against real students
    support (probes, as neither ranked best on both sets), says why, and probes stored by
    ``method: probes`` stay valid."""
    spec = loads(student_spec("clone", "unused", "unused").replace("objectives: {size_mb: minimize, gflops: maximize}", "objectives: {size_mb: minimize, accuracy: maximize}"))
    chosen = objectives.get("accuracy", spec)
    assert chosen.method_name == "probes" and chosen.fidelity == AccuracyEstimator(method="probes").fidelity
    assert "auto: probes" in chosen.method(objectives.Context.from_spec(spec)) and "BigCloneBench" in (chosen.auto_reason or "")
    assert AccuracyEstimator(method="probes").auto_reason is None

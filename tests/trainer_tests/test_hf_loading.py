"""Students load the Hugging Face way, without Avatar: the model card's snippet runs as pasted,
a clone student through its remote code (``auto_map``), and the pipeline reads a text pair."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import torch

from avatar.objectives import RobertaForCloneDetection
from avatar.objectives._roberta_models import split_text_pairs
from avatar.specs import loads
from avatar.trainer import train_selected
from avatar.trainer.students import REMOTE_CODE_FILE
from tests.trainer_tests.conftest import student_spec
from tests.trainer_tests.test_trainer import CONFIG, _select

# Run with Avatar unimportable: the snippet must need torch and transformers only.
WITHOUT_AVATAR = """\
import importlib.abc, sys
class NoAvatar(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "avatar" or name.startswith(("avatar.", "tests")):
            raise ImportError("avatar is not installed here")
sys.meta_path.insert(0, NoAvatar())
"""


def _student(kind, tmp_path, data, teacher):
    spec = loads(student_spec(kind, data, teacher, pretrain_epochs=0, epochs=1), filename=str(tmp_path / "spec.yaml"))
    run = tmp_path / "run"
    _select(run, spec, CONFIG)
    student = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu").students[0].to_dict()
    return run / "students" / student["key"]


def _run_without_avatar(code: str, tmp_path) -> str:
    script = tmp_path / "snippet.py"
    script.write_text(WITHOUT_AVATAR + code)
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env={**environment, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("kind", ["clone", "defect"])
def test_the_model_cards_snippet_runs_as_pasted_without_avatar(kind, tmp_path, clone_folder, defect_file, tiny_teacher):
    folder = _student(kind, tmp_path, clone_folder if kind == "clone" else defect_file, tiny_teacher)
    card = (folder / "README.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    assert str(folder.resolve()) in snippet, "the snippet names the folder wherever it is run from"
    labels = ("different", "clone") if kind == "clone" else ("clean", "defective")
    code = (
        snippet
        + "\n"
        + (
            "print(pipeline('text-classification', model=folder, trust_remote_code=True)({'text': first, 'text_pair': second})['label'])"
            if kind == "clone"
            else "print(pipeline('text-classification', model=folder)(code)[0]['label'])"
        )
    )
    printed = _run_without_avatar(code, tmp_path).split()
    assert len(printed) == 2 and all(label in labels for label in printed), printed
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": labels[0], "1": labels[1]}
    assert ("auto_map" in config) == (kind == "clone") and (folder / REMOTE_CODE_FILE).exists() == (kind == "clone")


def test_the_remote_clone_model_equals_avatars_on_both_input_shapes(tmp_path, clone_folder, tiny_teacher):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = _student("clone", tmp_path, clone_folder, tiny_teacher)
    ours = RobertaForCloneDetection.from_pretrained(folder).eval()
    theirs = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).eval()  # the folder's copy of the code
    assert type(theirs).__module__ != RobertaForCloneDetection.__module__
    tokenizer = AutoTokenizer.from_pretrained(folder)
    first, second = ["int f(int a) { return a + 1; }", "void g() { h(); }"], ["int k(int b) { return 1 + b; }", "void g() { h(); }"]
    separate = [tokenizer(text)["input_ids"] for pair in zip(first, second) for text in pair]
    width = max(len(ids) for ids in separate)
    ids = torch.tensor([ids + [tokenizer.pad_token_id] * (width - len(ids)) for ids in separate]).reshape(2, 2, width)
    mask = (ids != tokenizer.pad_token_id).long()
    with torch.no_grad():
        expected = ours(input_ids=ids, attention_mask=mask).logits
        assert torch.allclose(theirs(input_ids=ids, attention_mask=mask).logits, expected, atol=1e-6)
        joined = tokenizer(first, second, padding=True, return_tensors="pt")
        assert torch.allclose(theirs(**joined).logits, expected, atol=1e-5), "a text pair is split back into its two functions"
    pairs, masks = split_text_pairs(joined["input_ids"], joined["attention_mask"], tokenizer.pad_token_id)
    assert torch.equal(pairs[:, :, :width] * masks[:, :, :width], ids * mask)
    with pytest.raises(ValueError, match="two functions"):
        theirs(**tokenizer(["int f() {}"], return_tensors="pt"))


@pytest.mark.slow
def test_the_card_snippet_runs_in_a_fresh_venv_with_only_torch_and_transformers(tmp_path, clone_folder, tiny_teacher):
    """The user's case itself: a venv with torch and transformers (the versions here) and no
    Avatar, not only Avatar blocked from importing."""
    import transformers

    folder = _student("clone", tmp_path, clone_folder, tiny_teacher)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"torch=={torch.__version__.split('+')[0]}", f"transformers=={transformers.__version__}"], capture_output=True, text=True, timeout=1200
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    assert subprocess.run([str(python), "-c", "import avatar"], capture_output=True, timeout=60).returncode != 0, "Avatar is not in the fresh venv"
    (snippet,) = re.findall(r"```python\n(.*?)```", (folder / "README.md").read_text(), flags=re.S)
    script = tmp_path / "card.py"
    script.write_text(snippet + "\nprint(logits.tolist())\n")
    result = subprocess.run([str(python), str(script)], cwd=tmp_path, env={"PATH": os.environ["PATH"], "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    printed = result.stdout.strip().splitlines()
    assert printed[0] in ("different", "clone")
    from transformers import AutoTokenizer

    ours = RobertaForCloneDetection.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    first, second = "int add(int a, int b) { return a + b; }", "int sum(int x, int y) { return y + x; }"
    with torch.no_grad():
        expected = ours(**tokenizer(first, second, truncation=True, return_tensors="pt")).logits
    assert torch.allclose(torch.tensor(json.loads(printed[1])), expected, atol=1e-5), "the fresh venv computes Avatar's logits"

"""Every YAML block in the README and the documentation passes ``solve --check``: a whole spec
as it is, a fragment (an ``estimators`` section, say) merged into the quick start's spec, the
way a reader uses it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from avatar.solver.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(page.name, block) for page in PAGES for block in re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)]


def _merged(fragment: dict) -> dict:
    document = yaml.safe_load((ROOT / "specs" / "examples" / "quickstart.yaml").read_text())
    for key, value in fragment.items():
        document[key] = {**document[key], **value} if isinstance(value, dict) and isinstance(document.get(key), dict) else value
    document["task"]["data"] = "builtin:python-clones"
    return document


def test_the_documentation_has_yaml_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"{page}-{number}" for number, (page, _) in enumerate(BLOCKS)])
def test_every_yaml_block_of_the_documentation_passes_check(index, tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "plugin_example"))  # the documentation's plugin example
    monkeypatch.setenv("AVATAR_ALLOW_PLUGINS", "avatar_plugin_example")
    block = yaml.safe_load(BLOCKS[index][1])
    document = block if "space" in block else _merged(block)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    assert main([str(path), "--check", "-q"]) == 0, capsys.readouterr()


@pytest.mark.parametrize("example", sorted((ROOT / "specs" / "examples").glob("*.yaml")), ids=lambda path: path.name)
def test_every_example_says_where_its_data_comes_from_and_why_it_has_no_accuracy_objective(example):
    text = example.read_text()
    document = yaml.safe_load(text)
    data = str(document["task"]["data"])
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    if not data.startswith(("builtin:", "hf:")):
        assert "Data (not shipped)" in header and "http" in header, "an example reading data outside Avatar says where to get it"
    if "accuracy" not in document["objectives"]:
        assert "no accuracy objective" in text.lower(), "an example without the accuracy axis says why"

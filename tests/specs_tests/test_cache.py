"""``Cache`` owns the cache folder's layout: the names it gives are the ones earlier versions
wrote, so a user's cached teachers, logits and measurements stay valid."""

from __future__ import annotations

from pathlib import Path

from avatar.objectives import default_cache_dir
from avatar.specs import CACHE_ENVIRONMENT, Cache


def test_every_kind_of_entry_has_its_folder_as_before(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    paths = {
        "measurement": cache.measurement("k"),
        "teacher": cache.teacher("k"),
        "logits": cache.logits("k"),
        "features": cache.features("k"),
        "baseline": cache.baseline("k"),
        "augmented": cache.augmented("k"),
        "tokenizer": cache.tokenizer("k"),
        "pretrained": cache.pretrained("k"),
        "targets": cache.targets("k"),
        "supernet": cache.supernet("k"),
    }
    relative = {kind: path.relative_to(tmp_path).as_posix() for kind, path in paths.items()}
    assert relative == {
        "measurement": "measurements/k.json",
        "teacher": "teachers/k",
        "logits": "logits/k.pt",
        "features": "features/k",
        "baseline": "baseline/k.json",
        "augmented": "augmented/k.jsonl",
        "tokenizer": "tokenizers/k.json",
        "pretrained": "pretrained/k.pt",
        "targets": "targets/k.pt",
        "supernet": "supernets/k",
    }
    assert {path.split("/")[0] for path in relative.values()} == set(Cache.FOLDERS)


def test_the_environment_moves_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(CACHE_ENVIRONMENT, str(tmp_path / "elsewhere"))
    assert Cache().root == default_cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(CACHE_ENVIRONMENT)
    assert Cache().root == Path.home() / ".cache" / "avatar"

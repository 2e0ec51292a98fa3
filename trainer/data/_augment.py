"""An augmented transfer set (``train.augment``): rewrites of the training functions, labelled by
the teacher, so that a student sees more of the teacher's function than the data alone shows.

The rewrites keep a function's meaning as far as a token-level approach can tell, for C-like
languages (C, C++, Java, JavaScript, C#) and Python alike:

* **renaming** locals: names declared in the function (parameters and variables: a type or
  ``var``/``auto`` before them in C-like code, an assignment or a parameter in Python) get new
  names throughout the function; names of called functions, members (after ``.`` or ``->``),
  keywords and the function's own name are kept, as are strings and comments;
* **reordering** two adjacent simple statements that assign literals to different names that
  neither reads;
* **reformatting**: another indentation width, no blank lines, and for C-like code the opening
  brace moved to its own line or back.

Python functions that parse are rewritten through their syntax tree (the built-in set's
rewrites). Each copy is a new unlabelled example (its label kept for the legacy
``hard_label_weight`` only); pairs rewrite both functions. Deterministic for a seed.
"""

from __future__ import annotations

import ast
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

from avatar.specs import write_atomically

from ._task_data import Example

__all__ = ["augment_examples", "rewrite_code", "AUGMENT_VERSION"]

AUGMENT_VERSION = "tokens-1"  # part of the cache key of augmented sets and their teacher outputs

TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/|\#[^\n]*)
      |(?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<space>\s+)
      |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
KEYWORDS = set(
    """auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return
    short signed sizeof static struct switch typedef union unsigned void volatile while bool true false NULL nullptr class public private
    protected new delete this super final abstract interface extends implements import package throws throw try catch finally boolean byte
    instanceof native synchronized transient var let function typeof undefined null in of async await yield def lambda pass elif not and or
    is None True False global nonlocal from as with assert del raise except print self cls string String size_t ssize_t uint8_t uint16_t
    uint32_t uint64_t int8_t int16_t int32_t int64_t template typename namespace using operator virtual override friend mutable explicit
    goto const_cast static_cast dynamic_cast reinterpret_cast""".split()
)
TYPE_WORDS = r"(?:unsigned\s+|signed\s+|const\s+|static\s+|final\s+)*(?:int|long|short|char|float|double|bool|boolean|byte|size_t|ssize_t|var|auto|let|u?int\d+_t|String|[A-Z]\w*(?:<[^<>;()]*>)?)"
DECLARED_C = re.compile(TYPE_WORDS + r"(?:\s*\[\s*\])?[\s*&]+([a-z_]\w*)\s*(?=[=;,)\[])")
DECLARED_PYTHON = re.compile(r"^\s*([a-z_]\w*)\s*(?::[^=\n]+)?=(?!=)", re.MULTILINE)
SIMPLE_ASSIGNMENT = re.compile(r"^\s*(?:" + TYPE_WORDS + r"\s+)?([A-Za-z_]\w*)\s*=\s*(?:-?[\w.]+|\"[^\"\n]*\"|'[^'\n]*')\s*;?\s*$")
STYLES = ("v{}", "var_{}", "tmp{}", "x{}", "item_{}", "local{}")


def _tokens(code: str) -> list[tuple[str, str]]:
    return [(match.lastgroup or "other", match.group()) for match in TOKEN.finditer(code)]


def _python_like(code: str) -> bool:
    return bool(re.match(r"\s*(?:async\s+)?def\s", code)) or ("{" not in code and ":" in code)


def _declared(code: str, tokens: list[tuple[str, str]]) -> list[str]:
    """Names the function declares itself (parameters and locals), in order of appearance."""
    plain = "".join(" " * len(text) if kind in ("comment", "string") else text for kind, text in tokens)
    if _python_like(code):
        names = DECLARED_PYTHON.findall(plain)
        signature = re.match(r"\s*(?:async\s+)?def\s+\w+\s*\(([^)]*)\)", plain)
        if signature:
            names = re.findall(r"(?:^|,)\s*\**([a-z_]\w*)", signature.group(1)) + names
    else:
        names = DECLARED_C.findall(plain)
    own = re.search(r"(\w+)\s*\(", plain)  # the function's own name comes first
    seen: list[str] = []
    for name in names:
        if name not in KEYWORDS and name not in seen and (own is None or name != own.group(1)):
            seen.append(name)
    return seen


def _rename(tokens: list[tuple[str, str]], names: Sequence[str], generator: random.Random) -> list[tuple[str, str]]:
    used = {text for kind, text in tokens if kind == "name"}
    members = {text for index, (kind, text) in enumerate(tokens) if kind == "name" and _member(tokens, index)}
    names = [name for name in names if name not in members]  # also a field's name (ctx->count): a declaration of it may be the field's
    style, counter, mapping = generator.choice(STYLES), 0, {}
    for name in names:
        while style.format(counter) in used:
            counter += 1
        mapping[name] = style.format(counter)
        counter += 1
    renamed = []
    for index, (kind, text) in enumerate(tokens):
        if kind == "name" and text in mapping and not _member(tokens, index):
            text = mapping[text]
        renamed.append((kind, text))
    return renamed


def _member(tokens: list[tuple[str, str]], index: int) -> bool:
    """Whether the name at ``index`` is a member (``x.name``, ``p->name``), not the local."""
    before = [text for kind, text in reversed(tokens[:index]) if kind != "space"][:2]
    return bool(before) and (before[0] == "." or (before[0] == ">" and len(before) == 2 and before[1] == "-"))


def _reorder(code: str, generator: random.Random) -> str:
    lines = code.split("\n")
    for index in range(len(lines) - 1):
        first, second = SIMPLE_ASSIGNMENT.match(lines[index]), SIMPLE_ASSIGNMENT.match(lines[index + 1])
        if not first or not second or first.group(1) == second.group(1):
            continue
        if re.search(rf"\b{re.escape(first.group(1))}\b", lines[index + 1].split("=", 1)[1]) or re.search(rf"\b{re.escape(second.group(1))}\b", lines[index].split("=", 1)[1]):
            continue
        if len(lines[index]) - len(lines[index].lstrip()) != len(lines[index + 1]) - len(lines[index + 1].lstrip()):
            continue
        if generator.random() < 0.7:
            lines[index], lines[index + 1] = lines[index + 1], lines[index]
    return "\n".join(lines)


def _reformat(code: str, python: bool, generator: random.Random) -> str:
    lines = [line for line in code.split("\n") if line.strip()] if generator.random() < 0.5 else code.split("\n")
    unit = generator.choice((2, 4, 8))
    out = []
    for line in lines:
        stripped = line.lstrip(" \t")
        width = len(line[: len(line) - len(stripped)].replace("\t", "    "))
        out.append(" " * (width // 4 * unit if width % 4 == 0 else width) + stripped)
    text = "\n".join(out)
    if not python and generator.random() < 0.5:
        text = re.sub(r"\)\s*\n\s*\{", ") {", text) if generator.random() < 0.5 else re.sub(r"\)[ \t]*\{[ \t]*\n", ")\n{\n", text, count=1)
    return text


def rewrite_code(code: str, generator: random.Random) -> str:
    """One meaning-preserving rewrite of ``code`` (see the module docstring)."""
    if _python_like(code):
        try:
            tree = ast.parse(code)
        except SyntaxError:
            tree = None
        if tree is not None and tree.body and isinstance(tree.body[0], ast.FunctionDef):
            from ._python_clones import rewrite

            return rewrite(tree.body[0], generator)
    tokens = _tokens(code)
    if generator.random() < 0.8:
        tokens = _rename(tokens, _declared(code, tokens), generator)
    text = "".join(text for _, text in tokens)
    if generator.random() < 0.6:
        text = _reorder(text, generator)
    if generator.random() < 0.5:
        text = _reformat(text, _python_like(code), generator)
    return text


def augment_examples(examples: Sequence[Example], copies: int, seed: int, cache_file: Path | None = None) -> list[Example]:
    """``copies`` rewrites of every example (its texts rewritten, its label and groups kept;
    ids ``ID~aug1`` ...); copies equal to their original are left out. Written to
    ``cache_file`` (JSON lines) when given, and read from it when it is there.
    """
    if cache_file is not None and cache_file.exists():
        return [Example(tuple(row["texts"]), row["label"], tuple(row["groups"]), row["id"]) for row in map(json.loads, cache_file.read_text().splitlines())]
    generator = random.Random(seed)
    augmented = []
    for example in examples:
        for copy in range(1, copies + 1):
            texts = tuple(rewrite_code(text, generator) for text in example.texts)
            if texts != example.texts:
                augmented.append(Example(texts, example.label, example.groups, f"{example.id}~aug{copy}"))
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        rows = "".join(json.dumps({"texts": list(item.texts), "label": item.label, "groups": list(item.groups), "id": item.id}) + "\n" for item in augmented)
        write_atomically(cache_file, lambda file: file.write(rows))  # a temporary file of its own: two runs may write it at once
    return augmented

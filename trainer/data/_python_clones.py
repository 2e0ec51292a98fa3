"""``builtin:python-clones``: clone pairs made from the Python standard library's own source.

Units are functions and methods of the standard library (docstrings dropped, 4 to 40
statements). A *rewrite* of a function keeps its meaning: its locals are renamed
consistently, independent adjacent assignments may swap places, and it is reformatted
(``ast.unparse``, sometimes with two-space indentation). A clone pair shows two views of one
function (the original or rewrites); a non-clone pair shows views of two different functions
of similar length (hard negatives). Both kinds use the same mix of views, so formatting alone
says nothing about the label. Deterministic for a seed and a Python version.

``builtin:python-clones-hard`` takes longer functions, rewrites every view, and makes half its
non-clones near misses: a function beside its own mutant (``_mutants``), which only its
meaning tells from a clone.
"""

from __future__ import annotations

import ast
import builtins
import copy
import random
import sysconfig
import textwrap
from pathlib import Path

from avatar.specs import TaskSettings

from ._mutants import copy_function, mutant
from ._task_data import DataError, Example

__all__ = ["builtin_dataset", "stdlib_functions", "functions_in", "rewrite"]

MAX_FUNCTIONS = 1200
NEAR_MISSES = 0.5  # the hard form's share of non-clones that pair a function with its own mutant
BUILTIN_CLONES = ("python-clones", "python-clones-hard")
_SKIPPED_FOLDERS = {"test", "tests", "idle_test", "site-packages", "lib2to3", "turtledemo", "ensurepip", "__pycache__"}
_PROTECTED = set(dir(builtins)) | {"self", "cls"}


def stdlib_functions(seed: int, limit: int = MAX_FUNCTIONS, statements: tuple[int, int] = (4, 40)) -> list[tuple[str, ast.FunctionDef]]:
    """``(id, function)`` pairs from standard-library modules, visited in a seeded order, of
    ``statements`` (at least, at most) statements."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(path for path in root.rglob("*.py") if not _SKIPPED_FOLDERS & set(path.relative_to(root).parts))
    random.Random(seed).shuffle(files)
    functions: list[tuple[str, ast.FunctionDef]] = []
    for path in files:
        functions += functions_in(path, root, statements)
        if len(functions) >= limit:
            break
    return functions[:limit]


def functions_in(path: Path, root: Path, statements: tuple[int, int] = (4, 40)) -> list[tuple[str, ast.FunctionDef]]:
    """The functions of one source file with ``statements`` (at least, at most) statements,
    docstrings dropped, as ``(file:line:name, function)``; none for a file that does not parse."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    return [
        (f"{path.relative_to(root)}:{node.lineno}:{node.name}", _without_docstring(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and statements[0] <= _count_statements(node) <= statements[1]
    ]


def _count_statements(node: ast.AST) -> int:
    return sum(isinstance(child, ast.stmt) for child in ast.walk(node)) - 1


def _without_docstring(node: ast.FunctionDef) -> ast.FunctionDef:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
        body = body[1:] or [ast.Pass()]
    stripped = copy.copy(node)
    stripped.body, stripped.decorator_list = body, []
    return ast.fix_missing_locations(stripped)


class _Renamer(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(self.mapping.get(node.id, node.id), node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self.mapping.get(node.arg, node.arg)
        return node


def _locals(function: ast.FunctionDef) -> list[str]:
    """Names the function binds itself (arguments and assigned names), minus declared globals."""
    declared = {name for node in ast.walk(function) if isinstance(node, (ast.Global, ast.Nonlocal)) for name in node.names}
    names = {argument.arg for argument in ast.walk(function.args) if isinstance(argument, ast.arg)}
    names |= {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return sorted(names - declared - _PROTECTED)


def _rename(function: ast.FunctionDef, generator: random.Random) -> ast.FunctionDef:
    local_names = _locals(function)
    used = {node.id for node in ast.walk(function) if isinstance(node, ast.Name)} | {function.name}
    styles = ("v{}", "arg_{}", "tmp{}", "x{}", "item_{}")
    style = generator.choice(styles)
    mapping, counter = {}, 0
    for name in local_names:
        while style.format(counter) in used:
            counter += 1
        mapping[name] = style.format(counter)
        counter += 1
    return _Renamer(mapping).visit(function)


def _names(node: ast.AST, context: type) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, context)}


def _independent(first: ast.stmt, second: ast.stmt) -> bool:
    """Two simple assignments without calls that neither read nor write each other's names."""
    for statement in (first, second):
        if not isinstance(statement, ast.Assign) or any(isinstance(child, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)) for child in ast.walk(statement)):
            return False
        if any(not isinstance(target, ast.Name) for target in statement.targets):
            return False
    writes_first, writes_second = _names(first, ast.Store), _names(second, ast.Store)
    reads_first, reads_second = _names(first, ast.Load), _names(second, ast.Load)
    return not (writes_first & (writes_second | reads_second) or writes_second & reads_first)


def _reorder(function: ast.FunctionDef, generator: random.Random) -> ast.FunctionDef:
    for node in ast.walk(function):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for index in range(len(body) - 1):
            if _independent(body[index], body[index + 1]) and generator.random() < 0.7:
                body[index], body[index + 1] = body[index + 1], body[index]
    return function


def rewrite(function: ast.FunctionDef, generator: random.Random, *, always: bool = False) -> str:
    """A semantics-preserving rewrite: renamed locals, reordered independent assignments,
    reformatted (each with a chance, or every one with ``always``)."""
    copy = copy_function(function)
    if always or generator.random() < 0.8:
        copy = _rename(copy, generator)
    if always or generator.random() < 0.6:
        copy = _reorder(copy, generator)
    text = ast.unparse(ast.fix_missing_locations(copy))
    if always or generator.random() < 0.4:
        text = "\n".join(_halve_indentation(line) for line in text.splitlines())
    return text


def _halve_indentation(line: str) -> str:
    stripped = line.lstrip(" ")
    width = len(line) - len(stripped)
    return " " * (width // 2) + stripped if width % 4 == 0 else line


def _original(function: ast.FunctionDef) -> str:
    return textwrap.dedent(ast.unparse(function))


def builtin_dataset(name: str, task: TaskSettings) -> dict[str, list[Example]]:
    """The pairs of a built-in dataset, already split by function into train, valid and test
    (pairs are formed within each side, so no function is on two sides and the classes stay
    balanced everywhere)."""
    if name not in BUILTIN_CLONES:
        raise DataError(
            f"unknown built-in dataset 'builtin:{name}'; the built-in ones are 'builtin:python-clones' and 'builtin:python-clones-hard' (pairs) and 'builtin:python-packages' (one function, N labels)"
        )
    if not task.is_pair or task.num_labels != 2:
        raise DataError(f"builtin:{name} is a clone-detection dataset (pairs, 2 labels); set task.kind: clone")
    hard = name == "python-clones-hard"
    split = task.split
    generator = random.Random(split.seed)
    functions = stdlib_functions(split.seed, statements=(12, 60) if hard else (4, 40))
    if len(functions) < 60:
        raise DataError(f"too few functions found in the Python standard library for builtin:{name}")
    order = list(range(len(functions)))
    generator.shuffle(order)
    n_valid, n_test = round(split.valid * len(order)), round(split.test * len(order))
    sides = {"valid": order[:n_valid], "test": order[n_valid : n_valid + n_test], "train": order[n_valid + n_test :]}
    return {side: _pairs([functions[index] for index in members], generator, hard=hard) for side, members in sides.items()}


def _pairs(functions: list[tuple[str, ast.FunctionDef]], generator: random.Random, *, hard: bool = False) -> list[Example]:
    """One clone pair and one hard non-clone pair (a function of similar length) per function.
    The hard form shows no original (every view is rewritten, renaming, reordering and
    reformatting each time), picks the non-clone among the 2 nearest lengths, not 10, and
    half the time pairs the function with a rewrite of its own mutant instead (a near miss)."""
    lengths = [len(ast.unparse(function)) for _, function in functions]
    by_length = sorted(range(len(functions)), key=lambda index: lengths[index])
    rank = {index: position for position, index in enumerate(by_length)}
    reach = 1 if hard else 5

    def view(function: ast.FunctionDef) -> str:
        if hard:
            return rewrite(function, generator, always=True)
        return _original(function) if generator.random() < 0.3 else rewrite(function, generator)

    examples: list[Example] = []
    for index, (identifier, function) in enumerate(functions):
        first, second = view(function), view(function)
        for _ in range(4 if hard else 0):  # two rewrites can coincide (the same naming style): the hard form draws again
            if second != first:
                break
            second = view(function)
        examples.append(Example((first, second), 1, (identifier,), f"{identifier}/{identifier}"))
        near_miss = mutant(function, generator) if hard and generator.random() < NEAR_MISSES else None
        if near_miss is not None:
            examples.append(Example((view(function), view(near_miss)), 0, (identifier,), f"{identifier}/{identifier}~"))
            continue
        window = [candidate for candidate in by_length[max(0, rank[index] - reach) : rank[index] + reach + 1] if candidate != index]
        other_identifier, other_function = functions[generator.choice(window)]
        examples.append(Example((view(function), view(other_function)), 0, (identifier, other_identifier), f"{identifier}/{other_identifier}"))
    generator.shuffle(examples)
    return examples

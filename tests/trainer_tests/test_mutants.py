"""Near-miss non-clones of the hard built-in clone set: mutants change meaning, not form."""

from __future__ import annotations

import ast
import random
import textwrap

from avatar.trainer.data._mutants import mutant

FUNCTION = textwrap.dedent(
    """
    def clamp(value, low=0, high=10, strict=False):
        if value < low:
            value = low
        elif value > high and strict:
            raise ValueError(value)
        total = value + low * 2
        count = 1
        while count <= 3:
            count += 1
        return total
    """
)


def parsed(source: str) -> ast.FunctionDef:
    return ast.parse(source).body[0]


def test_a_mutant_differs_from_its_function_in_meaning_and_leaves_it_as_it_was():
    function = parsed(FUNCTION)
    before = ast.unparse(function)
    for seed in range(20):
        changed = mutant(function, random.Random(seed))
        assert changed is not None and ast.unparse(changed) != before
        ast.parse(ast.unparse(changed))  # still Python
        assert changed.name == "clamp"
        assert ast.unparse(function) == before


def test_the_changes_fall_in_the_first_half_of_the_function():
    function = parsed(FUNCTION)
    tail = ast.unparse(function).splitlines()[-4:]  # the while loop and the return
    for seed in range(20):
        assert ast.unparse(mutant(function, random.Random(seed))).splitlines()[-len(tail) :] == tail


def test_mutants_are_deterministic_for_a_seed_and_vary_across_seeds():
    function = parsed(FUNCTION)
    assert ast.unparse(mutant(function, random.Random(1))) == ast.unparse(mutant(function, random.Random(1)))
    assert len({ast.unparse(mutant(function, random.Random(seed))) for seed in range(20)}) > 5


def test_a_function_with_nothing_to_change_has_no_mutant():
    assert mutant(parsed("def name():\n    return sys.platform"), random.Random(0)) is None

"""Pair splits: how many pairs each side keeps when no function may be on two sides.

Compares the previous random assignment of functions to sides (``split_pairs_at_random``) with
the assignment along the pair graph (``split_pairs``: components whole, large ones cut into
breadth-first regions, then single-function moves that keep more pairs without leaving a side
short of its share) on two pooled pair sets:

* the 4,000 BigCloneBench pairs over 911 Java methods in ``../shared/data``;
* a pair set made from ``builtin:python-clones`` with long functions: every side of the
  built-in set pooled, keeping the pairs whose functions both have at least ``--min-lines``
  lines (a clone pair is two views of one function; a non-clone pair joins two functions of
  similar length).

For each, at the default 70/10/20 split, the median over ``--seeds`` seeds (and the range) of the
pairs kept in training, validation and test, in all, and dropped; then the new assignment's
ratio to the old one. No timing targets: figures only. About 10 seconds on 2 CPU cores.

    python bench/splits.py [--seeds 5] [--data ../shared/data] [--min-lines 12]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from avatar.specs import TaskSettings
from avatar.trainer import Example, PairSplit, read_examples, split_pairs, split_pairs_at_random

FRACTIONS = (0.7, 0.1, 0.2)
COLUMNS = ("train", "valid", "test", "kept", "dropped")


def bigclonebench(data: Path) -> list[Example]:
    return read_examples(TaskSettings("clone", str(data / "bigclonebench-codexglue-test4000")))["all"]


def long_python_clones(min_lines: int) -> list[Example]:
    parts = read_examples(TaskSettings("clone", "builtin:python-clones"))
    pooled = [example for part in parts.values() for example in part]
    return [example for example in pooled if all(text.count("\n") + 1 >= min_lines for text in example.texts)]


def figures(split: PairSplit) -> list[int]:
    return [*(len(part) for part in split.parts), split.kept, split.dropped]


def measure(examples: Sequence[Example], splitter: Callable[..., PairSplit], seeds: int) -> list[list[int]]:
    return [figures(splitter(examples, FRACTIONS, random.Random(seed))) for seed in range(seeds)]


def cell(values: list[int]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,}-{max(values):,})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--min-lines", type=int, default=12)
    arguments = parser.parse_args()
    console = Console(width=160)
    sets = {"BigCloneBench (4,000 pairs)": bigclonebench(arguments.data), f"python-clones, functions of {arguments.min_lines}+ lines": long_python_clones(arguments.min_lines)}
    for name, examples in sets.items():
        functions = len({group for example in examples for group in example.groups})
        table = Table(title=f"{name}: {len(examples):,} pairs over {functions:,} functions, split 70/10/20, median (range) of {arguments.seeds} seeds", title_justify="left")
        table.add_column("assignment")
        for column in COLUMNS:
            table.add_column(column, justify="right")
        old = measure(examples, split_pairs_at_random, arguments.seeds)
        new = measure(examples, split_pairs, arguments.seeds)
        for label, runs in (("random (before)", old), ("pair graph (now)", new)):
            table.add_row(label, *(cell([run[index] for run in runs]) for index in range(len(COLUMNS))))
        ratios = [statistics.median(run[index] for run in new) / max(1, statistics.median(run[index] for run in old)) for index in range(len(COLUMNS))]
        table.add_row("ratio now / before", *(f"{ratio:.2f}x" for ratio in ratios))
        console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

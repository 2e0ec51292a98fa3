"""When Z3 gives up, feasibility is decided by an exact count or a feasible point found by
sampling; otherwise it is undecided: exit 4 with the time limit and how to raise it, and no
search starts."""

from __future__ import annotations

import pytest

from avatar.solver import Space
from avatar.solver._errors import UndecidedSpaceError
from avatar.solver.cli import EXIT_UNDECIDED, main
from avatar.solver.space import Count
from avatar.solver.space._smt import SmtCheck
from avatar.specs import loads

from .helpers import SPEC
from .test_overflow_counts import _spec

FERMAT = _spec({name: "{range: [1, 1000000]}" for name in ("a", "b", "d")}, "a ** 3 + b ** 3 == d ** 3")


def _giving_up(space: Space) -> Space:
    space.smt.check = lambda: SmtCheck("unknown")  # what Z3 says when its time runs out
    return space


def test_an_exact_count_decides_when_z3_gives_up():
    assert _giving_up(Space.from_spec(loads(SPEC))).check().feasible is True
    empty = _giving_up(Space.from_spec(loads(SPEC.replace("size_mb <= 1", "size_mb <= 0.001"))))
    assert empty.check().feasible is False


def test_undecided_is_not_feasible():
    space = _giving_up(Space.from_spec(loads(FERMAT)))
    space.grid.count = lambda **_: Count(0, False, 0, 10**12, 1000, 0.1)  # sampling found no feasible point
    assert space.check().feasible is None
    with pytest.raises(UndecidedSpaceError, match="--smt-timeout"):
        space.require_feasible()


@pytest.mark.slow
def test_solve_says_undecided_with_its_own_exit_code(tmp_path, capsys):
    path = tmp_path / "spec.yaml"
    path.write_text(FERMAT)
    assert main([str(path), "--out", str(tmp_path / "run"), "--smt-timeout", "0.5"]) == EXIT_UNDECIDED
    captured = capsys.readouterr()
    assert "feasibility could not be decided" in captured.err and "0.5 s per query" in captured.err and "--smt-timeout" in captured.err
    assert "valid and feasible" not in captured.out and not (tmp_path / "run" / "evaluations.sqlite").exists()

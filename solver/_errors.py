"""Why a run cannot start or go on: each kind has its own exit code in ``solve``."""

from __future__ import annotations

__all__ = ["RunError", "RepeatedFailureError", "UndecidedSpaceError"]


class RunError(Exception):
    """A run cannot start or go on as asked (its directory holds another run or other files, the
    store is damaged, a file cannot be written). ``solve`` exits with code 2."""


class RepeatedFailureError(RunError):
    """Evaluations keep failing with one and the same error: the cause is the environment (a
    plugin missing on the workers, a broken teacher), not the configurations. The failures of the
    streak are not kept, so ``--resume`` evaluates them again once the cause is fixed. ``solve``
    exits with code 5."""

    def __init__(self, error: str, count: int) -> None:
        self.error = error
        self.count = count
        super().__init__(
            f"the run stopped: the last {count} evaluations all failed with the same error: {error}. "
            "Fix the cause, then continue with --resume (search.max_identical_failures sets how many such failures stop a run; 0 never stops)"
        )


class UndecidedSpaceError(RunError):
    """Z3 could not decide within its time limit whether any point meets the hard constraints,
    and no feasible point was found otherwise. ``solve`` exits with code 4."""

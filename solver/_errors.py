"""Why a run cannot start or go on: each kind has its own exit code in ``solve``."""

from __future__ import annotations

from avatar.specs import AvatarError

__all__ = ["RunError", "RepeatedFailureError", "UndecidedSpaceError", "FailureStreak"]


class RunError(AvatarError):
    """A run cannot start or go on as asked (its directory holds another run or other files, the
    store is damaged, a file cannot be written). ``solve`` exits with code 2."""


class RepeatedFailureError(RunError):
    """Evaluations keep failing with one and the same error: the cause is the environment (a
    plugin missing on the workers, a broken teacher), not the configurations. The failures of the
    streak are not kept, so ``--resume`` evaluates them again once the cause is fixed. ``solve``
    exits with code 5."""

    def __init__(self, error: str, count: int, what: str = "evaluations") -> None:
        self.error = error
        self.count = count
        super().__init__(
            f"the run stopped: the last {count} {what} all failed with the same error: {error}. "
            "Fix the cause, then continue with --resume (search.max_identical_failures sets how many such failures stop a run; 0 never stops)"
        )


class FailureStreak:
    """Consecutive failures with one and the same error, in the order results arrive: the
    evidence for ``RepeatedFailureError``. A success or another error starts it over."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: never
        self.keys: list[str] = []
        self.error: str | None = None

    def add(self, key: str, error: str | None) -> list[str]:
        """Record one result (``error`` None for a success); the keys of the streak once it
        reaches the limit, else an empty list."""
        if error is None or error != self.error:
            self.keys = []
        self.error = error
        if error is not None:
            self.keys.append(key)
        return list(self.keys) if self.limit and len(self.keys) >= self.limit else []


class UndecidedSpaceError(RunError):
    """Z3 could not decide within its time limit whether any point meets the hard constraints,
    and no feasible point was found otherwise. ``solve`` exits with code 4."""

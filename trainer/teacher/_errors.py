"""The teacher room's errors: a teacher that cannot be had, and one too weak to distil from."""

from __future__ import annotations

from avatar.specs import AvatarError

__all__ = ["TeacherError", "WeakTeacherError"]


class TeacherError(AvatarError):
    """The teacher cannot be found or loaded (a user-fixable problem)."""


class WeakTeacherError(AvatarError):
    """The teacher predicts (almost) one class: students distilled from it would learn a
    constant, so the run stops before probes and students are paid for (``solve`` exits 6).
    ``train.teacher.accept_weak: true`` distils from it anyway."""

    exit_code = 6

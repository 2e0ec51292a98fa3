"""What realising a run took in energy: the teacher's fine-tuning and the students'
distillation, each measured where the hardware allowed (RAPL, NVML) and estimated where it did
not, and said so (``EnergyRecord``)."""

from __future__ import annotations

from collections.abc import Sequence

from avatar.specs import EnergyRecord, StudentsRecord

__all__ = ["training_energy_text"]


def training_energy_text(summary: StudentsRecord) -> str | None:
    """One sentence on the energy of fine-tuning the teacher here and of distilling the
    students (``None`` when neither was measured: a cached teacher and students of an older
    version)."""
    validation = summary.teacher.validation
    teacher = validation.training_energy if validation is not None else None
    students = [student.training_energy for student in summary.students if student.training_energy is not None]
    parts = []
    if teacher is not None:
        parts.append(f"fine-tuning the teacher took {_amount([teacher])}, once (a rerun reuses the cached teacher)")
    if students:
        whose = f"the {len(students)} students" if len(students) > 1 else "the student"
        parts.append(f"distilling {whose} took {_amount(students)}")
    if not parts:
        return None
    sources = sorted({record.source for record in ([teacher] if teacher is not None else []) + students})
    return f"Training energy: {'; '.join(parts)}. Source: {'; '.join(sources)}."


def _amount(records: Sequence[EnergyRecord]) -> str:
    """Joules (in kJ and Wh) and grams CO2e, summed; ``estimated`` unless every one was measured."""
    joules = sum(record.joules for record in records)
    grams = [record.carbon_g for record in records if record.carbon_g is not None]
    carbon = f", {sum(grams):.3g} g CO2e" if len(grams) == len(records) else ""
    how = "measured" if all(record.measured for record in records) else "estimated"
    return f"{joules / 1000:.3g} kJ ({joules / 3600:.3g} Wh{carbon}), {how}"

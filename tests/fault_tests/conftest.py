"""The trainer tests' tiny data and teachers, for fault tests that need a teacher to run."""

from tests.trainer_tests.conftest import clone_folder, defect_file, tiny_classifier, tiny_teacher  # noqa: F401 - fixtures

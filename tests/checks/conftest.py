"""The tests of the exercise checks share helpers in ``check_helpers.py``."""

import pytest

# Before the test modules import it: its asserts then report like a test's own.
pytest.register_assert_rewrite("check_helpers")

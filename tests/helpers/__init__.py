"""What several test modules share: the helpers live here, never in a test module.

A test module imports only `tests.helpers.*` and `tests.conftest`
(tests/unit/test_test_layout.py keeps that rule)."""

"""Test data builders shared by the tests (not shipped in the package)."""

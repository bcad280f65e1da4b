"""Test fixtures: redis."""

"""Test fixtures: postgres."""

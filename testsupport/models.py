"""Test fixtures: models."""

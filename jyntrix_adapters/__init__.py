"""Adapters: one sub-package per technology, each implementing domain ports."""

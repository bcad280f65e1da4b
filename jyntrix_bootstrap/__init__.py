"""The composition root: settings -> adapters -> services.

The API, the worker, the CLI and the benchmarks all get their services here.
"""

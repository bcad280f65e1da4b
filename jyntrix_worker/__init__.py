"""Background worker: dramatiq actors and the in-process runner."""

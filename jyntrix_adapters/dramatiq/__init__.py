"""dramatiq adapters."""

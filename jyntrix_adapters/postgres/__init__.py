"""postgres adapters."""

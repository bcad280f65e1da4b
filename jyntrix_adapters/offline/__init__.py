"""offline adapters."""

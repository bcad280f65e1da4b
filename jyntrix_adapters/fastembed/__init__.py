"""fastembed adapters."""

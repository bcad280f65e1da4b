"""bm25 adapters."""

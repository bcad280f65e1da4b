"""qdrant adapters."""

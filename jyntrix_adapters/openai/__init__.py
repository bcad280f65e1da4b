"""openai adapters."""

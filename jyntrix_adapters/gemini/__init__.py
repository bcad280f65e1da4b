"""gemini adapters."""

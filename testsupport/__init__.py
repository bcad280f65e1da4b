"""Fixtures and fakes shared by tests/ and contracts/ (not shipped)."""

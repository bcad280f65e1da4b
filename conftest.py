"""Fixtures shared by tests/ and contracts/; each module owns one backend's provisioning."""

pytest_plugins = [
    "testsupport.postgres",
    "testsupport.redis",
    "testsupport.models",
]

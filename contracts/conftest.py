"""Fixtures every contract suite shares."""

from __future__ import annotations

import pytest

from jyntrix_domain.model import new_id


@pytest.fixture
def user() -> str:
    """A fresh user id: tests share the servers, so each isolates itself by its own user."""
    return new_id()

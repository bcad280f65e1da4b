"""Safe by default: with ENVIRONMENT unset, a loopback bind is development and any other bind must be configured."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from litestar import get

from jyntrix_bootstrap.settings import SettingsError, load_settings
from jyntrix_http.routes.console import dev_tokens_enabled
from testsupport.app import Client, bearer, make_settings


def test_unset_environment_on_loopback_behaves_as_development(tmp_path: Path) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path)})
    assert settings.environment is None
    assert settings.is_development
    assert settings.supabase_jwt_secret  # the local secret, so `make run` and `jyntrix token` need nothing
    assert dev_tokens_enabled(settings)
    assert not settings.shows_error_causes


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_a_non_loopback_bind_without_a_secret_or_jwks_refuses_to_start(tmp_path: Path, host: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), "HOST": host})
    message = str(refused.value)
    assert "SUPABASE_JWT_SECRET" in message and "SUPABASE_JWKS_URL" in message and host in message
    assert not (tmp_path / "jwt-secret").exists()


def test_a_non_loopback_bind_with_a_secret_starts_without_development_powers(tmp_path: Path) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), "HOST": "0.0.0.0", "SUPABASE_JWT_SECRET": "s" * 40})
    assert not settings.is_development
    assert not dev_tokens_enabled(settings)
    explicit = load_settings({"JYNTRIX_DATA_DIR": str(tmp_path), "HOST": "0.0.0.0", "ENVIRONMENT": "development"})
    assert explicit.is_development and explicit.shows_error_causes


@get("/api/test/explode")
async def explode() -> None:
    raise RuntimeError("password=hunter2 in relation memories_pkey")


async def test_a_500_shows_only_its_code_and_request_id_unless_development_is_explicit(
    tmp_path: Path, app_factory: Callable[..., Client]
) -> None:
    async with app_factory(make_settings(tmp_path, environment=None), extra_route_handlers=[explode]) as client:
        response = await client.get("/api/test/explode", headers=bearer("alice"))
    assert response.status_code == 500
    problem = response.json()
    assert problem["code"] == "internal_error"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text and "memories_pkey" not in response.text
    assert "RuntimeError" not in response.text

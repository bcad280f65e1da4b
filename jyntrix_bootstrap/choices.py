"""The choices a setting makes among: environment, deployment, index adapters, task runner."""

from __future__ import annotations

import enum


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Deployment(enum.StrEnum):
    """`embedded` picks real adapters from the URLs set (unset means embedded); `in_process` is for tests."""

    EMBEDDED = "embedded"
    IN_PROCESS = "in_process"


class VectorIndexKind(enum.StrEnum):
    """Which VectorIndex adapter the embedded deployment opens (unset: `qdrant` with QDRANT_URL, else `qdrant-edge`)."""

    QDRANT_EDGE = "qdrant-edge"
    QDRANT = "qdrant"
    PGVECTOR = "pgvector"


class KeywordIndexKind(enum.StrEnum):
    """Which KeywordIndex adapter the embedded deployment opens (unset: `bm25s`)."""

    BM25S = "bm25s"
    POSTGRES = "postgres"


class TaskRunner(enum.StrEnum):
    """`in_process` runs background tasks inside the API; `dramatiq` sends them to a worker through Redis."""

    IN_PROCESS = "in_process"
    DRAMATIQ = "dramatiq"

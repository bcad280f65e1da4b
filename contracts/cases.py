"""The cases the contract fixtures run each port's suite on: the settings that select each adapter the plan can
choose (testsupport/plan_cases.py), one case per server at hand for an adapter that lives on one."""

from __future__ import annotations

from jyntrix_bootstrap.resources import QDRANT_IN_MEMORY
from testsupport.pgvector import PGVECTOR_SERVERS
from testsupport.plan_cases import EMBEDDED, IN_PROCESS, Case, on_servers
from testsupport.postgres import POSTGRES_SERVERS

STORE_CASES = [Case("in_process", IN_PROCESS), *on_servers("postgres", EMBEDDED, POSTGRES_SERVERS)]
VECTOR_CASES = [
    Case("in_process", IN_PROCESS),
    # qdrant-client's local mode stands in for a Qdrant server: the same client, collection and filters.
    Case("qdrant", {"VECTOR_INDEX": "qdrant", "QDRANT_URL": QDRANT_IN_MEMORY}),
    Case("qdrant_edge", {"VECTOR_INDEX": "qdrant-edge"}),
    *on_servers("pgvector", {"VECTOR_INDEX": "pgvector"}, PGVECTOR_SERVERS),
]
KEYWORD_CASES = [
    Case("in_process", IN_PROCESS),
    Case("bm25s", {"KEYWORD_INDEX": "bm25s"}),
    *on_servers("postgres", {"KEYWORD_INDEX": "postgres"}, POSTGRES_SERVERS),
]
TOKEN_COUNTER_CASES = [Case("regex", IN_PROCESS), Case("tokenizers", EMBEDDED)]

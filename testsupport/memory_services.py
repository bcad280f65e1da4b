"""A MemoryService over a test's own stores, with in-process indexes and the hash embedder."""

from __future__ import annotations

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex
from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.ports import Clock, EntityGraph, MemoryPorts, MemoryStore
from jyntrix_domain.query import QueryAnalyzer
from jyntrix_domain.ranking import HybridRanker
from jyntrix_domain.retrieval import RetrievalService


def memory_service(store: MemoryStore, graph: EntityGraph, clock: Clock) -> MemoryService:
    """Memories kept in `store` and `graph` (a real database's, say), indexed in process."""
    ports = MemoryPorts(
        store=store,
        vectors=InProcessVectorIndex(),
        keywords=InProcessKeywordIndex(),
        graph=graph,
        embedder=HashEmbedder(),
        clock=clock,
    )
    return MemoryService(
        ports, retrieval=RetrievalService(ports, ranker=HybridRanker(), analyzer=QueryAnalyzer(EnglishLanguage()))
    )

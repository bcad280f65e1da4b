"""RetrievalService: five strategies run concurrently, each scoped to one user, then ranked."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import msgspec

from jyntrix_domain.analytics import BufferedEmitter, track_span
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import (
    USER_NODE,
    Memory,
    MemoryFilter,
    MemoryId,
    MemoryType,
    SpanKind,
    UserId,
    entity_key,
    new_id,
)
from jyntrix_domain.ports import Clock, Embedder, EntityGraph, KeywordIndex, MemoryStore, VectorIndex
from jyntrix_domain.query import QueryAnalysis, QueryAnalyzer
from jyntrix_domain.ranking import Candidate, HybridRanker, RankedMemory

log = logging.getLogger(__name__)


class RetrievalConfig(msgspec.Struct, frozen=True, kw_only=True):
    limit: int = 20
    per_strategy_limit: int = 40
    # Cosine below this is noise for sentence embeddings; such hits would only crowd the context.
    min_vector_score: float = 0.1
    strategy_timeout_s: float = 1.0
    graph_depth: int = 2
    recent_days: int = 7
    profile_limit: int = 20
    recent_limit: int = 10

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise Invalid("limit must be at least 1")
        if not self.strategy_timeout_s > 0:
            raise Invalid("strategy_timeout_s must be positive")


class StrategyOutcome(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    status: str
    hits: int
    duration_ms: float
    error: str | None = None


class RetrievalResult(msgspec.Struct, frozen=True, kw_only=True):
    analysis: QueryAnalysis
    memories: list[RankedMemory]
    strategies: list[StrategyOutcome]


class _Signals(msgspec.Struct):
    keyword: float = 0.0
    vector: float = 0.0
    match_types: set[str] = msgspec.field(default_factory=set)


_Found = dict[MemoryId, _Signals]


def _merge(into: _Found, name: str, signals: dict[MemoryId, tuple[float, float]]) -> None:
    for memory_id, (keyword, vector) in signals.items():
        slot = into.setdefault(memory_id, _Signals())
        slot.keyword = max(slot.keyword, keyword)
        slot.vector = max(slot.vector, vector)
        slot.match_types.add(name)


class RetrievalService:
    """Finds the memories that matter for a query.

    Every strategy receives the user id and searches only that user's data: the
    scope is applied before search by each port, never by filtering afterwards.
    A failing or slow strategy is recorded and skipped; retrieval still answers.
    """

    def __init__(
        self,
        *,
        store: MemoryStore,
        vectors: VectorIndex,
        keywords: KeywordIndex,
        graph: EntityGraph,
        embedder: Embedder,
        ranker: HybridRanker,
        clock: Clock,
        analyzer: QueryAnalyzer | None = None,
        config: RetrievalConfig | None = None,
        emitter: BufferedEmitter | None = None,
    ) -> None:
        self._store = store
        self._vectors = vectors
        self._keywords = keywords
        self._graph = graph
        self._embedder = embedder
        self._ranker = ranker
        self._clock = clock
        self._analyzer = analyzer or QueryAnalyzer()
        self._config = config or RetrievalConfig()
        self._emitter = emitter

    @property
    def config(self) -> RetrievalConfig:
        return self._config

    def analyze(self, text: str) -> QueryAnalysis:
        return self._analyzer.analyze(text, self._clock.now())

    async def retrieve(
        self,
        user_id: UserId,
        query: str | QueryAnalysis,
        *,
        limit: int | None = None,
        types: frozenset[MemoryType] | None = None,
        trace_id: str | None = None,
    ) -> RetrievalResult:
        analysis = self.analyze(query) if isinstance(query, str) else query
        trace = trace_id or new_id()
        limit = limit or self._config.limit
        strategies: dict[str, Callable[[], Awaitable[dict[MemoryId, tuple[float, float]]]]] = {
            "vector": lambda: self._vector(user_id, analysis, types),
            "keyword": lambda: self._keyword(user_id, analysis, types),
            "graph": lambda: self._by_graph(user_id, analysis),
            "profile": lambda: self._profile(user_id),
            "recent": lambda: self._recent(user_id, analysis),
        }
        runs = await asyncio.gather(*(self._run(name, run, user_id, trace) for name, run in strategies.items()))
        found: _Found = {}
        outcomes = []
        for name, (outcome, signals) in zip(strategies, runs, strict=True):
            outcomes.append(outcome)
            _merge(found, name, signals)
        memories = await self._store.get_many(user_id, list(found))
        candidates = [
            Candidate(
                memory=m,
                keyword=found[m.id].keyword,
                vector=found[m.id].vector,
                match_types=frozenset(found[m.id].match_types),
            )
            for m in memories
            if m.is_current and (types is None or m.type in types)
        ]
        ranked = self._ranker.rank(candidates, self._clock.now(), intent=analysis.intent)
        return RetrievalResult(analysis=analysis, memories=ranked[:limit], strategies=outcomes)

    async def _run(
        self,
        name: str,
        strategy: Callable[[], Awaitable[dict[MemoryId, tuple[float, float]]]],
        user_id: UserId,
        trace_id: str,
    ) -> tuple[StrategyOutcome, dict[MemoryId, tuple[float, float]]]:
        started = time.perf_counter()
        try:
            async with track_span(
                self._emitter, name, SpanKind.STRATEGY, trace_id, self._clock, user_id=user_id
            ) as attributes:
                signals = await asyncio.wait_for(strategy(), self._config.strategy_timeout_s)
                attributes["hits"] = len(signals)
        except TimeoutError:
            return self._failed(name, "timeout", started, f"exceeded {self._config.strategy_timeout_s}s"), {}
        except Exception as exc:  # a strategy must never fail retrieval as a whole
            log.warning("retrieval strategy %s failed: %s", name, exc)
            return self._failed(name, "error", started, f"{type(exc).__name__}: {exc}"), {}
        elapsed = (time.perf_counter() - started) * 1000
        return StrategyOutcome(name=name, status="ok", hits=len(signals), duration_ms=elapsed), signals

    @staticmethod
    def _failed(name: str, status: str, started: float, error: str) -> StrategyOutcome:
        elapsed = (time.perf_counter() - started) * 1000
        return StrategyOutcome(name=name, status=status, hits=0, duration_ms=elapsed, error=error)

    async def _vector(
        self, user_id: UserId, analysis: QueryAnalysis, types: frozenset[MemoryType] | None
    ) -> dict[MemoryId, tuple[float, float]]:
        vector = await self._embedder.embed_query(analysis.text, user_id=user_id)
        hits = await self._vectors.search(user_id, vector, self._config.per_strategy_limit, types)
        floor = self._config.min_vector_score
        return {hit.id: (0.0, min(1.0, hit.score)) for hit in hits if hit.score >= floor}

    async def _keyword(
        self, user_id: UserId, analysis: QueryAnalysis, types: frozenset[MemoryType] | None
    ) -> dict[MemoryId, tuple[float, float]]:
        text = " ".join(analysis.keywords) or analysis.text
        hits = await self._keywords.search(user_id, text, self._config.per_strategy_limit, types)
        # BM25 has no fixed scale; relative to the best match it becomes a 0..1 signal.
        best = max((hit.score for hit in hits), default=0.0)
        if best <= 0:
            return {}
        return {hit.id: (hit.score / best, 0.0) for hit in hits if hit.score > 0}

    async def _by_graph(self, user_id: UserId, analysis: QueryAnalysis) -> dict[MemoryId, tuple[float, float]]:
        if not analysis.entities:
            return {}
        hops = await self._reachable(user_id, analysis.entities)
        if not hops:
            return {}
        mentions = await self._graph.mentions(user_id, list(hops), self._config.per_strategy_limit)
        # An entity named in the query is a lexical match; each hop away halves its strength.
        signals: dict[MemoryId, tuple[float, float]] = {}
        for memory_id, key in mentions:
            strength = 0.5 ** hops.get(key, self._config.graph_depth)
            if strength > signals.get(memory_id, (0.0, 0.0))[0]:
                signals[memory_id] = (strength, 0.0)
        return signals

    async def _reachable(self, user_id: UserId, names: tuple[str, ...]) -> dict[str, int]:
        """Entity keys within `graph_depth` hops, never walking through the user's own node.

        Every fact about the user hangs off that node, so stepping through it would reach
        everything the user ever mentioned and drown the real neighbours.
        """
        hops = {entity_key(name): 0 for name in names}
        frontier = [key for key in hops if key != USER_NODE]
        for depth in range(1, self._config.graph_depth + 1):
            if not frontier:
                break
            found = await self._graph.neighbours(user_id, frontier, 1)
            frontier = []
            for key in found:
                if key not in hops:
                    hops[key] = depth
                    if key != USER_NODE:
                        frontier.append(key)
        hops.pop(USER_NODE, None)
        return hops

    async def _profile(self, user_id: UserId) -> dict[MemoryId, tuple[float, float]]:
        found = await self._store.list(
            user_id, MemoryFilter(types=frozenset({MemoryType.PROFILE}), limit=self._config.profile_limit)
        )
        return {m.id: (0.0, 0.0) for m in found}

    async def _recent(self, user_id: UserId, analysis: QueryAnalysis) -> dict[MemoryId, tuple[float, float]]:
        now = self._clock.now()
        if analysis.time_range is not None:
            after, before = analysis.time_range.start, analysis.time_range.end
        else:
            after, before = now - timedelta(days=self._config.recent_days), None
        found: list[Memory] = await self._store.list(
            user_id,
            MemoryFilter(
                types=frozenset({MemoryType.EPISODIC}),
                created_after=after,
                created_before=before,
                limit=self._config.recent_limit,
            ),
        )
        return {m.id: (0.0, 0.0) for m in found}

"""RetrievalService: five strategies run concurrently, each scoped to one user, then ranked.

Each strategy returns `Match`es (memory id, the signal it feeds, a raw strength, and the row when
the strategy read one). Raw strengths are calibrated per strategy (`jyntrix_domain.fusion`), rows
missing from the matches are read once, derived signals (the query's time range) are added, and the
ranker weighs the signals into one score with its breakdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import msgspec

from jyntrix_domain.analytics import BufferedEmitter, OpenSpan, track_span
from jyntrix_domain.assistant_turns import assistant_turns_weighed
from jyntrix_domain.attributes import family_slots
from jyntrix_domain.derived_matches import subject_matches, succession_matches, time_matches
from jyntrix_domain.fusion import calibrate
from jyntrix_domain.model import (
    USER_NODE,
    Memory,
    MemoryFilter,
    MemoryKind,
    MemoryType,
    SpanKind,
    StrategyOutcome,
    UserId,
    Vector,
    entity_key,
    new_id,
)
from jyntrix_domain.ports import MemoryPorts
from jyntrix_domain.query import QueryAnalysis, QueryAnalyzer
from jyntrix_domain.ranking import HybridRanker, Match, RankedMemory
from jyntrix_domain.retrieval_config import SEED_RETRIEVAL, RetrievalConfig, retrieval_config_for
from jyntrix_domain.stand_ins import facts_before_their_turns
from jyntrix_domain.turn_places import place_matches

log = logging.getLogger(__name__)

__all__ = [
    "SEED_RETRIEVAL",
    "RetrievalConfig",
    "RetrievalResult",
    "RetrievalService",
    "feedback_terms",
    "retrieval_config_for",
]


class RetrievalResult(msgspec.Struct, frozen=True, kw_only=True):
    analysis: QueryAnalysis
    memories: list[RankedMemory]
    strategies: list[StrategyOutcome]

    @property
    def degraded(self) -> bool:
        """Some strategy failed or timed out, so the memories may be missing some that match."""
        return any(s.status != "ok" for s in self.strategies)

    @property
    def failed(self) -> bool:
        """Every strategy failed or timed out: there is no answer, not an empty one."""
        return bool(self.strategies) and all(s.status != "ok" for s in self.strategies)


_Strategy = Callable[[], Awaitable[list[Match]]]


class RetrievalService:
    """Finds the memories that matter for a query.

    Every strategy receives the user id and searches only that user's data: the
    scope is applied before search by each port, never by filtering afterwards.
    A failing or slow strategy is recorded and skipped; retrieval still answers.
    """

    def __init__(
        self,
        ports: MemoryPorts,
        *,
        ranker: HybridRanker,
        analyzer: QueryAnalyzer,
        config: RetrievalConfig | None = None,
        emitter: BufferedEmitter | None = None,
    ) -> None:
        self._ports = ports
        self._ranker = ranker
        self._analyzer = analyzer
        self._config = config or RetrievalConfig()
        self._emitter = emitter

    @property
    def config(self) -> RetrievalConfig:
        return self._config

    async def embed_query(self, user_id: UserId, text: str) -> Vector:
        """The query embedding retrieval would compute, for a caller that uses it twice (a chat turn)."""
        return await self._ports.embedder.embed_query(text, user_id=user_id)

    def analyze(self, text: str, as_of: datetime | None = None) -> QueryAnalysis:
        """The query's analysis; "now" in its time phrases is `as_of` when given."""
        return self._analyzer.analyze(text, as_of or self._ports.clock.now())

    async def retrieve(
        self,
        user_id: UserId,
        query: str | QueryAnalysis,
        *,
        limit: int | None = None,
        types: frozenset[MemoryType] | None = None,
        kinds: frozenset[MemoryKind] | None = None,
        exclude: frozenset[str] = frozenset(),
        vector: Vector | None = None,
        trace_id: str | None = None,
        record: bool = True,
        as_of: datetime | None = None,
    ) -> RetrievalResult:
        """Rank the user's memories for `query`; `record=False` keeps the strategy spans out of analytics.

        `kinds` keeps only memories of those kinds; `exclude` leaves out memories by id (a chat turn's own
        turn memory); `vector` is the query's embedding when the caller has it already, so it is not
        embedded twice. `as_of` searches the memory as it stood then: memories that began later are left
        out, and recency, "now" in the query and whether a memory is current are reckoned at that time.

        Memories that ended are found too (marked not current), so that a question about before has its
        answer; the `standing` signal ranks current ones first for a question about now. An assistant's turn
        is kept only when the query asks what the assistant said, or it matches the query strongly
        (`RetrievalConfig.assistant_min_match`), and then weighs less: both in `jyntrix_domain.assistant_turns`.
        """
        now = as_of or self._ports.clock.now()
        analysis = self.analyze(query, now) if isinstance(query, str) else query
        # The strategies' reads of the stores share one transaction (they take it in turn).
        async with self._ports.transactions.shared(user_id):
            analysis, kin_names = await self._with_kin(user_id, analysis)
            trace = trace_id or new_id()
            limit = limit or self._config.limit
            strategies: dict[str, _Strategy] = {
                "vector": lambda: self._vector(user_id, analysis, types, vector, exclude),
                "keyword": lambda: self._keyword(user_id, analysis, types, exclude),
                "graph": lambda: self._by_graph(user_id, analysis),
                "profile": lambda: self._profile(user_id, analysis),
                "recent": lambda: self._recent(user_id, analysis),
            }
            emitter = self._emitter if record else None
            runs = await asyncio.gather(
                *(self._run(name, run, user_id, trace, emitter) for name, run in strategies.items())
            )
            outcomes = [outcome for outcome, _ in runs]
            found = [m for _, hits in runs for m in hits if m.memory_id not in exclude]
            matches = await self._with_rows(user_id, found, types, kinds, as_of)
        matches += time_matches(matches, analysis)
        succession = succession_matches(matches, analysis)
        subjects = subject_matches(matches, analysis, self._analyzer.language, kin_names)
        matches += succession + subjects
        matches += place_matches(matches, self._ranker.weights_for(analysis.intent), analysis.entities)
        givens = (("graph", analysis.entities or subjects), ("time", analysis.time_range or succession))
        ranked = self._ranker.rank(
            matches,
            now,
            intent=analysis.intent,
            asks_history=analysis.asks_history,
            asks_now=analysis.asks_now,
            absent=[name for name, given in givens if not given],
        )
        weighed = assistant_turns_weighed(
            ranked,
            min_match=self._config.assistant_min_match,
            share=self._config.assistant_share,
            about_assistant=analysis.about_assistant,
        )
        ranked = facts_before_their_turns(weighed)
        return RetrievalResult(analysis=analysis, memories=ranked[:limit], strategies=outcomes)

    async def _with_kin(self, user_id: UserId, analysis: QueryAnalysis) -> tuple[QueryAnalysis, tuple[str, ...]]:
        """The analysis with the people the query names by relation ("my husband") named as well (Tom): their
        names join its keywords and the graph's starting points; and those names. A graph that cannot answer
        adds none."""
        if not analysis.kin:
            return analysis, ()
        try:
            found = await asyncio.wait_for(
                self._ports.graph.related(user_id, USER_NODE, analysis.kin), self._config.strategy_timeout_s
            )
        except Exception as exc:  # an aid to the query, never a reason for it to fail
            log.warning("resolving %s failed: %s", analysis.kin, exc)
            return analysis, ()
        resolved = tuple(dict.fromkeys(e.name for e in found))
        names = tuple(n for n in resolved if n.casefold() not in {e.casefold() for e in analysis.entities})
        if not names:
            return analysis, resolved
        replaced = msgspec.structs.replace(
            analysis, entities=(*analysis.entities, *names), keywords=(*analysis.keywords, *names)
        )
        return replaced, resolved

    async def _with_rows(
        self,
        user_id: UserId,
        matches: list[Match],
        types: frozenset[MemoryType] | None,
        kinds: frozenset[MemoryKind] | None = None,
        as_of: datetime | None = None,
    ) -> list[Match]:
        """The matches with their rows, each missing row read once; kept only for findable memories of `types`
        and `kinds` that had begun by `as_of`."""
        rows = {m.memory_id: m.memory for m in matches if m.memory is not None}
        missing = list(dict.fromkeys(m.memory_id for m in matches if m.memory_id not in rows))
        if missing:
            rows.update((m.id, m) for m in await self._ports.store.get_many(user_id, missing))
        out = []
        for m in matches:
            row = rows.get(m.memory_id)
            if (
                row is not None
                and row.findable
                and (as_of is None or row.valid_from <= as_of)
                and (types is None or row.type in types)
                and (kinds is None or row.kind in kinds)
            ):
                out.append(m if m.memory is row else msgspec.structs.replace(m, memory=row))
        return out

    async def _run(
        self, name: str, strategy: _Strategy, user_id: UserId, trace_id: str, emitter: BufferedEmitter | None
    ) -> tuple[StrategyOutcome, list[Match]]:
        span: OpenSpan | None = None
        try:
            async with track_span(
                emitter, name, SpanKind.STRATEGY, trace_id, self._ports.clock, user_id=user_id
            ) as span:
                matches = await asyncio.wait_for(strategy(), self._config.strategy_timeout_s)
                span.attributes["hits"] = len(matches)
        except TimeoutError:
            return self._failed(name, "timeout", span, f"exceeded {self._config.strategy_timeout_s}s"), []
        except Exception as exc:  # a strategy must never fail retrieval as a whole
            log.warning("retrieval strategy %s failed: %s", name, exc)
            return self._failed(name, "error", span, f"{type(exc).__name__}: {exc}"), []
        return StrategyOutcome(name=name, status="ok", hits=len(matches), duration_ms=span.duration_ms), matches

    @staticmethod
    def _failed(name: str, status: str, span: OpenSpan | None, error: str) -> StrategyOutcome:
        elapsed = span.duration_ms if span is not None else 0.0
        return StrategyOutcome(name=name, status=status, hits=0, duration_ms=elapsed, error=error)

    async def _vector(
        self,
        user_id: UserId,
        analysis: QueryAnalysis,
        types: frozenset[MemoryType] | None,
        given: Vector | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Match]:
        vector = given if given is not None else await self._ports.embedder.embed_query(analysis.text, user_id=user_id)
        limit = self._config.per_strategy_limit + len(exclude)
        hits = [h for h in await self._ports.vectors.search(user_id, vector, limit, types) if h.id not in exclude]
        floor = self._config.min_vector_score
        # Excluded before calibrating: the query's own turn (a cosine of 1) would flatten every other hit.
        found = [Match(memory_id=h.id, strategy="vector", signal="vector", strength=h.score) for h in hits]
        found = [m for m in found if m.strength >= floor]
        return calibrate(found, self._config.vector_calibration, self._config.calibration_slope)

    async def _keyword(
        self,
        user_id: UserId,
        analysis: QueryAnalysis,
        types: frozenset[MemoryType] | None,
        exclude: frozenset[str] = frozenset(),
    ) -> list[Match]:
        text = " ".join(analysis.keywords) or analysis.text
        limit = self._config.per_strategy_limit + len(exclude)
        hits = [h for h in await self._ports.keywords.search(user_id, text, limit, types) if h.id not in exclude]
        rows: dict[str, Memory] = {}
        if self._config.prf_terms > 0 and hits:
            best = await self._ports.store.get_many(user_id, [h.id for h in hits[: self._config.prf_docs]])
            rows = {m.id: m for m in best}
            terms = self._analyzer.language.index_terms
            extra = feedback_terms(text, [m.content for m in best], self._config.prf_terms, terms)
            if extra:
                hits = await self._ports.keywords.search(user_id, " ".join([text, *extra]), limit, types)
                hits = [h for h in hits if h.id not in exclude]
        found = [
            Match(memory_id=h.id, strategy="keyword", signal="keyword", strength=h.score, memory=rows.get(h.id))
            for h in hits
        ]
        return calibrate(
            [m for m in found if m.strength > 0], self._config.keyword_calibration, self._config.calibration_slope
        )

    async def _by_graph(self, user_id: UserId, analysis: QueryAnalysis) -> list[Match]:
        if not analysis.entities:
            return []
        hops = await self._reachable(user_id, analysis.entities)
        if not hops:
            return []
        mentions = await self._ports.graph.mentions(user_id, list(hops), self._config.per_strategy_limit)
        # An entity named in the query is a full match; each hop away halves its strength.
        signal = self._config.graph_signal
        return [
            Match(
                memory_id=memory_id,
                strategy="graph",
                signal=signal,
                strength=0.5 ** hops.get(key, self._config.graph_depth),
            )
            for memory_id, key in mentions
        ]

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
            found = await self._ports.graph.neighbours(user_id, frontier, 1)
            frontier = []
            for key in found:
                if key not in hops:
                    hops[key] = depth
                    if key != USER_NODE:
                        frontier.append(key)
        hops.pop(USER_NODE, None)
        return hops

    async def _profile(self, user_id: UserId, analysis: QueryAnalysis) -> list[Match]:
        """The user's profile, and the facts holding an attribute the query asks about, ended ones included (a
        question about a previous job is answered by them, however it is worded)."""
        found = await self._ports.store.list(
            user_id, MemoryFilter(types=frozenset({MemoryType.PROFILE}), limit=self._config.profile_limit)
        )
        slots = frozenset(s for family in analysis.attributes for s in family_slots(family))
        if slots:
            held = MemoryFilter(slots=slots, current_only=False, limit=self._config.profile_limit)
            found += await self._ports.store.list(user_id, held)
        return _nominated("profile", found)

    async def _recent(self, user_id: UserId, analysis: QueryAnalysis) -> list[Match]:
        now = self._ports.clock.now()
        if analysis.time_range is not None:
            after, before = analysis.time_range.start, analysis.time_range.end
        else:
            after, before = now - timedelta(days=self._config.recent_days), None
        found = await self._ports.store.list(
            user_id,
            MemoryFilter(
                types=frozenset({MemoryType.EPISODIC}),
                created_after=after,
                created_before=before,
                limit=self._config.recent_limit,
            ),
        )
        return _nominated("recent", found)


def feedback_terms(query: str, texts: Sequence[str], limit: int, terms: Callable[[str], list[str]]) -> list[str]:
    """Up to `limit` terms not in the query that most of `texts` share (at least two), most shared first; a text's
    terms are `terms` of it (`Language.index_terms`)."""
    asked = set(terms(query))
    counts: dict[str, int] = {}
    for text in texts:
        for term in set(terms(text)) - asked:
            counts[term] = counts.get(term, 0) + 1
    shared = sorted((t for t, n in counts.items() if n >= 2), key=lambda t: (-counts[t], t))
    return shared[:limit]


def _nominated(strategy: str, memories: Sequence[Memory]) -> list[Match]:
    """Memories a strategy puts forward without a strength of its own, rows included."""
    return [Match(memory_id=m.id, strategy=strategy, memory=m) for m in memories]

"""MemoryService: the one place that writes memories, keeping store and indexes in step."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, TypedDict, Unpack

import msgspec

from jyntrix_domain.bulk import BulkLimiter
from jyntrix_domain.errors import Conflict, Invalid, NotFound, Unavailable
from jyntrix_domain.import_outcomes import ImportOutcome, ImportReport
from jyntrix_domain.locks import KeyedLocks
from jyntrix_domain.memory_imports import Importer
from jyntrix_domain.memory_indexing import MemoryIndexer
from jyntrix_domain.memory_rules import check_content, check_entities, check_reliability, check_slot, merge_metadata
from jyntrix_domain.memory_writes import NewMemory, build_memory, own_relations
from jyntrix_domain.model import (
    ChangeKind,
    Memory,
    MemoryChange,
    MemoryFilter,
    MemoryId,
    MemoryKind,
    MemoryType,
    Relation,
    UserId,
    Vector,
)
from jyntrix_domain.ports import (
    MemoryPorts,
)
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.retrieval import RetrievalResult, RetrievalService
from jyntrix_domain.succession import same_memory, successor_problem
from jyntrix_domain.turn_places import follower_id, without_words_before

__all__ = ["MemoryService", "NewMemory", "Remembered", "SearchOptions"]

log = logging.getLogger(__name__)


SEARCH_LIMIT = 10


class SearchOptions(TypedDict, total=False):
    """What a search may narrow: at most `limit` memories (10), of `types` and `kinds` when given;
    `record=False` for internal lookups that are not a user's search (kept out of analytics); `as_of` searches
    the memory as it stood then (see RetrievalService.retrieve)."""

    limit: int
    types: frozenset[MemoryType] | None
    kinds: frozenset[MemoryKind] | None
    record: bool
    as_of: datetime | None


class Remembered(msgspec.Struct, frozen=True, kw_only=True):
    """What a write of one memory did: the memory (the one created, or the one that said it already)."""

    memory: Memory
    outcome: ImportOutcome

    @property
    def duplicate(self) -> bool:
        return self.outcome is ImportOutcome.DUPLICATE


class MemoryService:
    """CRUD, search, import, history and deletion of a user's memories (the export: jyntrix_domain.portability).

    The store is the source of truth: it is written first, then the vector and
    keyword indexes and the entity graph, which `reindex` can rebuild from it.
    Superseded and deleted memories leave the indexes, so search sees current truth.
    """

    def __init__(
        self,
        ports: MemoryPorts,
        *,
        retrieval: RetrievalService,
        bulk: BulkLimiter | None = None,
    ) -> None:
        self._store = ports.store
        self._clock = ports.clock
        self._keywords = ports.keywords
        self._vectors = ports.vectors
        self._graph = ports.graph
        self._embedder = ports.embedder
        self._indexer = MemoryIndexer(ports)
        self._retrieval = retrieval
        # Edits of one memory run one at a time, so its indexes end with what the store ended with.
        self._locks = KeyedLocks()
        self._bulk = bulk or BulkLimiter()
        self._importer = Importer(ports.store, ports.clock, self._indexer, self._locks)

    async def create(self, user_id: UserId, new: NewMemory) -> Memory:
        """The memory `new` asks for: created, or the current memory that says the same already."""
        return (await self.put(user_id, new)).memory

    async def put(self, user_id: UserId, new: NewMemory) -> Remembered:
        """Create a memory and say whether it was new: content a current memory holds already (after
        normalising whitespace and case) is that memory, which gains `new`'s sources."""
        report = await self._importer.run(user_id, [new], None)
        return Remembered(memory=report.memories[0], outcome=report.outcomes[0])

    async def bulk_import(
        self,
        user_id: UserId,
        items: Sequence[NewMemory],
        *,
        vectors: Sequence[Vector] | None = None,
        read_back: bool = True,
    ) -> list[Memory]:
        """Create many memories with one embedding batch; ids given by the caller make it idempotent.

        `vectors`, one per item, are the items' embeddings when the caller has them already (a chat
        turn embeds its message once, for retrieval and for its turn memory). With `read_back` false,
        memories that were all created come back as built rather than read again from the store (a chat
        turn, which does not use them, saves a round trip).
        """
        return (await self._importer.run(user_id, items, vectors, read_back=read_back)).memories

    async def import_report(self, user_id: UserId, items: Sequence[NewMemory]) -> ImportReport:
        """A user's bulk import, saying for each item whether it was created, was there already, or conflicts.

        It takes one of the user's bulk slots (RateLimited when they are in use, Unavailable when the server's are).
        """
        async with self._bulk.slot(user_id):
            return await self._importer.run(user_id, items, None)

    async def get(self, user_id: UserId, memory_id: MemoryId) -> Memory:
        memory = await self._store.get(user_id, memory_id)
        if memory is None:
            raise NotFound(f"memory {memory_id} not found")
        return memory

    async def get_many(self, user_id: UserId, ids: Sequence[MemoryId]) -> builtins.list[Memory]:
        """The user's memories among `ids`, in no particular order; unknown ids are skipped."""
        return await self._store.get_many(user_id, ids) if ids else []

    async def list(self, user_id: UserId, filter: MemoryFilter) -> list[Memory]:
        return await self._store.list(user_id, filter)

    async def count(self, user_id: UserId, filter: MemoryFilter) -> int:
        return await self._store.count(user_id, filter)

    async def update(
        self,
        user_id: UserId,
        memory_id: MemoryId,
        *,
        content: str | None = None,
        type: MemoryType | None = None,
        reliability: float | None = None,
        entities: Sequence[str] | None = None,
        relations: Sequence[Relation] | None = None,
        metadata: Mapping[str, Any] | None = None,
        source_message_ids: Sequence[str] = (),
        value: str | None = None,
    ) -> Memory:
        """Edit a current memory; what is not given stays as it was.

        `metadata` is merged into the current metadata key by key (a key set to None is removed);
        `source_message_ids` are added to the ones it came from; `value` replaces the slot's value
        (consolidation's rewording of a fact). The memory keeps its relations unless given new ones,
        and its graph links are rebuilt from them.
        """
        async with self._locks.hold(user_id, memory_id):
            current = await self.get(user_id, memory_id)
            if not current.is_current:
                raise Invalid("a superseded memory cannot be edited; update its successor")
            new_relations = current.relations if relations is None else own_relations(relations)
            check_slot(current.slot, current.value if value is None else value)
            updated = msgspec.structs.replace(
                current,
                content=check_content(current.content if content is None else content),
                type=current.type if type is None else type,
                reliability=check_reliability(current.reliability if reliability is None else reliability),
                entities=check_entities(current.entities if entities is None else entities, new_relations),
                relations=new_relations,
                value=current.value if value is None else value,
                metadata=current.metadata if metadata is None else merge_metadata(current.metadata, metadata),
                source_message_ids=tuple(dict.fromkeys((*current.source_message_ids, *source_message_ids))),
                updated_at=self._clock.now(),
            )
            saved = await self._store.update(updated, ChangeKind.UPDATE)
            await self._indexer.refresh(user_id, saved)
            return saved

    async def supersede(
        self, user_id: UserId, old_id: MemoryId, new: NewMemory, *, keep_findable: bool = True
    ) -> Memory:
        """Replace a memory with a newer one: the old one ends (`valid_until`, when the newer one begins, and a
        link to its successor) and stays as history, still found by search (marked not current) unless
        `keep_findable` is False (a summary replaced by a later summary of the same conversation). When a
        current memory says what `new` says already, that memory is the successor.

        Of concurrent replacements of one memory exactly one succeeds; the others raise Conflict,
        unless they ask for the very successor that won (a retried task), which they get back. The
        successor must be a new memory (`jyntrix_domain.succession`; the very one asked for, still current, when
        retried): its own id is Invalid, the id of another memory that says something else, or is no longer
        current, a Conflict.
        """
        if new.id == old_id:
            raise Invalid("a memory cannot supersede itself")
        async with self._locks.hold(user_id, old_id):
            old = await self.get(user_id, old_id)
            now = self._clock.now()
            successor = build_memory(user_id, new, now)
            if old.is_current:
                holder = await self._store.supersede(user_id, old_id, successor, min(successor.valid_from, now))
                if holder is not None:
                    if not keep_findable:
                        await self._indexer.unindex(user_id, [old_id])
                    stored = await self.get(user_id, holder)
                    if holder == successor.id:
                        await self._indexer.index(user_id, [stored])
                    return stored
            return await self._replaced_by(user_id, old_id, successor, id_given=new.id is not None)

    async def _replaced_by(self, user_id: UserId, old_id: MemoryId, wanted: Memory, *, id_given: bool) -> Memory:
        """Why the store did not link `wanted` to `old_id`: the successor it has when `wanted` is it (a retry),
        else Conflict (or Invalid when the memory ended without a successor)."""
        old = await self.get(user_id, old_id)
        if old.is_current:
            taken = await self._store.get(user_id, wanted.id)
            raise Conflict(successor_problem(old_id, wanted, taken) or f"memory {old_id} could not be superseded")
        if old.superseded_by is None:
            raise Invalid("memory is no longer current")
        successor = await self.get(user_id, old.superseded_by)
        # A retried supersede: the same id saying the same, or, when the caller gave no id, the same content.
        same_id = successor.id == wanted.id and same_memory(successor, wanted)
        if same_id or (not id_given and successor.content == wanted.content):
            return successor
        raise Conflict(f"memory {old_id} was already superseded by {successor.id}")

    async def delete(self, user_id: UserId, memory_id: MemoryId) -> None:
        async with self._locks.hold(user_id, memory_id):
            row = await self._store.get(user_id, memory_id)
            if not await self._store.delete(user_id, memory_id):
                raise NotFound(f"memory {memory_id} not found")
            await self._indexer.unindex(user_id, [memory_id])
        await self._forget_words_kept_after(user_id, [row] if row is not None else [])

    async def forget_said(self, user_id: UserId, message_ids: Sequence[str]) -> int:
        """Forget what these messages said: a turn memory citing only them is deleted, one that another message
        said too keeps that message as its source. Returns how many turns were deleted."""
        if not message_ids:
            return 0
        gone = frozenset(message_ids)
        turns = await self._store.list(
            user_id,
            MemoryFilter(sources=gone, kinds=frozenset({MemoryKind.TURN}), current_only=False, limit=len(gone) + 100),
        )
        doomed = [t.id for t in turns if gone.issuperset(t.source_message_ids)]
        for turn in turns:
            if turn.id not in doomed:
                kept = tuple(m for m in turn.source_message_ids if m not in gone)
                await self._store.update(msgspec.structs.replace(turn, source_message_ids=kept), ChangeKind.UPDATE)
        return await self.forget(user_id, doomed)

    async def forget(self, user_id: UserId, ids: Sequence[MemoryId]) -> int:
        """Delete those of `ids` that exist (others are skipped); return how many were deleted.

        Every one of `ids` leaves the indexes, stored or not: a write that raced a deletion (a turn in
        flight during a delete-all) may have indexed a memory whose row is gone already. For the same
        reason a user left with no memory at all is left with no entity graph either.
        """
        rows = await self._store.get_many(user_id, ids)
        deleted = [memory_id for memory_id in ids if await self._store.delete(user_id, memory_id)]
        if ids:
            await self._indexer.unindex(user_id, ids)
            if not await self._store.count(user_id, MemoryFilter(current_only=False)):
                await self._graph.forget_user(user_id)
        gone = set(deleted)
        await self._forget_words_kept_after(user_id, [r for r in rows if r.id in gone])
        return len(deleted)

    async def _forget_words_kept_after(self, user_id: UserId, forgotten: Sequence[Memory]) -> None:
        """A forgotten turn's words leave the keyword text of the turn after it (jyntrix_domain.turn_places)."""
        followers = [i for i in (follower_id(m) for m in forgotten) if i is not None]
        for follower in await self._store.get_many(user_id, followers) if followers else []:
            cleaned = without_words_before(follower)
            if cleaned is not None:
                await self._indexer.refresh(user_id, await self._store.update(cleaned, ChangeKind.UPDATE))

    async def history(self, user_id: UserId, memory_id: MemoryId) -> builtins.list[MemoryChange]:
        changes = await self._store.history(user_id, memory_id)
        if not changes and await self._store.get(user_id, memory_id) is None:
            raise NotFound(f"memory {memory_id} not found")
        return changes

    async def search(
        self, user_id: UserId, query: str, **options: Unpack[SearchOptions]
    ) -> builtins.list[RankedMemory]:
        """Ranked memories for `query`, none when every strategy failed (see `SearchOptions`)."""
        return (await self.search_result(user_id, query, whole=False, **options)).memories

    async def search_result(
        self, user_id: UserId, query: str, *, whole: bool = True, **options: Unpack[SearchOptions]
    ) -> RetrievalResult:
        """The ranked memories with each strategy's outcome. With `whole`, a search whose every strategy
        failed or timed out has no answer rather than an empty one: Unavailable (503 with Retry-After)."""
        if not query.strip():
            raise Invalid("query must not be empty")
        result = await self._retrieval.retrieve(
            user_id,
            query,
            limit=options.get("limit", SEARCH_LIMIT),
            types=options.get("types"),
            kinds=options.get("kinds"),
            record=options.get("record", True),
            as_of=options.get("as_of"),
        )
        if whole and result.failed:
            failed = ", ".join(f"{s.name} ({s.status})" for s in result.strategies)
            raise Unavailable(f"every retrieval strategy failed: {failed}; try again shortly")
        return result

    def now(self) -> datetime:
        return self._clock.now()

    async def end(self, user_id: UserId, memory_id: MemoryId, *, by: MemoryId, at: datetime) -> bool:
        """End a current memory at `at`, replaced by `by` (a turn whose facts ended, a statement a later one
        changed); it stays findable as history. False when it was not current."""
        async with self._locks.hold(user_id, memory_id):
            memory = await self._store.get(user_id, memory_id)
            if memory is None or not memory.current:
                return False
            await self._store.update(memory.ended(at, by), ChangeKind.SUPERSEDE)
            return True

    async def meaning_matches(
        self, user_id: UserId, text: str, *, limit: int = SEARCH_LIMIT, min_similarity: float = 0.0
    ) -> builtins.list[Memory]:
        """The user's memories closest in meaning to `text` (cosine at least `min_similarity`), best first: the
        vector index alone."""
        vector = await self._embedder.embed_query(text, user_id=user_id)
        hits = [h for h in await self._vectors.search(user_id, vector, limit) if h.score >= min_similarity]
        by_id = {m.id: m for m in await self._store.get_many(user_id, [h.id for h in hits])}
        return [by_id[h.id] for h in hits if h.id in by_id]

    async def word_matches(
        self, user_id: UserId, text: str, *, types: frozenset[MemoryType] | None = None, limit: int = SEARCH_LIMIT
    ) -> builtins.list[Memory]:
        """Current memories sharing words with `text`, best first: the keyword index alone (a lookup for
        consolidation, not a user's search)."""
        if not text.strip():
            raise Invalid("text must not be empty")
        hits = await self._keywords.search(user_id, text, 2 * limit, types)
        by_id = {m.id: m for m in await self._store.get_many(user_id, [h.id for h in hits])}
        return [by_id[h.id] for h in hits if h.id in by_id and by_id[h.id].current][:limit]

    def bulk_slot(self, user_id: UserId) -> AbstractAsyncContextManager[None]:
        """One of the user's bulk slots, shared with imports here, for other bulk work (a transcript import)."""
        return self._bulk.slot(user_id)

    async def reindex(self, user_id: UserId) -> int:
        """Rebuild the user's indexes and graph links (entities and relations) from the store; return how many.

        Rebuilds of one user queue behind each other (a background task waits rather than fail).
        """
        async with self._locks.hold(user_id, "reindex"):
            return await self._indexer.rebuild(user_id)

    async def index_again(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        """Index these stored memories afresh (the current ones): what a crash between the store's write and
        the indexes' left unindexed. Unknown ids are skipped."""
        await self._indexer.index(user_id, await self._store.get_many(user_id, ids))

    async def record_access(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if ids:
            await self._store.record_access(user_id, ids, self._clock.now())

"""Ports: one small async Protocol per piece of infrastructure the domain needs.

Every method that touches a user's data takes the user id first, and adapters scope
the operation to that user before searching or writing, never afterwards.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.language_port import Language as Language  # re-exported: the port lives with the others
from jyntrix_domain.model import (
    ChangeKind,
    Conversation,
    Entity,
    Hit,
    KeywordDoc,
    Memory,
    MemoryChange,
    MemoryFilter,
    MemoryId,
    MemoryType,
    Message,
    PendingBatch,
    Profile,
    RateDecision,
    Relation,
    Span,
    UserId,
    Vector,
    VectorItem,
)
from jyntrix_domain.prompts import Chunk, Completion, Prompt
from jyntrix_domain.tasks import QueueStats, TaskMessage


class MemoryStore(Protocol):
    """A user's memories and their history.

    One content is one current memory per user: no two current memories of a user share a
    `content_key` (a memory that ended may share it with the one current now).
    """

    async def add(self, memory: Memory) -> bool:
        """Insert; return False (and change nothing) when that id already exists, or when the memory is
        current and a current memory of the user has its content key."""

    async def add_many(self, user_id: UserId, memories: Sequence[Memory]) -> builtins.list[bool]:
        """`add` for each of one user's memories (distinct ids), in one write: whether each was inserted.

        Raises Invalid when a memory is another user's or an id comes twice.
        """

    async def restore(
        self, user_id: UserId, memories: Sequence[Memory], history: Sequence[MemoryChange]
    ) -> builtins.list[bool]:
        """Insert one user's memories exactly as given (restoring an export), with `history`, oldest first, as
        their history instead of the rows a write records; in one write. Whether each memory was inserted: one
        whose id exists is left as it is, a current one with the content of a current memory of the user (as
        `add` does) is left out, and the rows of `history` of either are not added.

        Raises Invalid when a memory or a history row is another user's, or a memory id comes twice.
        """

    async def get(self, user_id: UserId, memory_id: MemoryId) -> Memory | None: ...

    async def get_many(self, user_id: UserId, ids: Sequence[MemoryId]) -> list[Memory]:
        """The user's memories among `ids`, in no particular order; unknown ids are skipped."""

    async def update(self, memory: Memory, kind: ChangeKind = ChangeKind.UPDATE) -> Memory:
        """Replace the stored memory and write a history row of `kind` (update|supersede).

        Raises NotFound when the user has no memory with that id, Conflict when the memory is current
        and another current memory of the user has its content.
        """

    async def supersede(self, user_id: UserId, old_id: MemoryId, successor: Memory, at: datetime) -> MemoryId | None:
        """In one atomic step: while `old_id` is still current, end it at `at`, insert the successor and
        link the old memory to it, with their history rows. Returns the id of the memory that now
        replaces `old_id`.

        When a current memory of the user already says what the successor says (a content twin, or the
        successor's own id on a retry), that memory is kept as it is and linked: one successor for several
        memories. Returns None, changing nothing, when `old_id` is unknown or no longer current, so two
        concurrent replacements of one memory can never both succeed, and when the successor's id is taken
        by a memory that may not succeed it (`jyntrix_domain.succession`: it is `old_id` itself, is no
        longer current, or says something else).
        """

    async def delete(self, user_id: UserId, memory_id: MemoryId) -> bool:
        """Delete and write a history row; False when there was nothing to delete."""

    async def list(self, user_id: UserId, filter: MemoryFilter) -> list[Memory]:
        """Newest first."""

    async def count(self, user_id: UserId, filter: MemoryFilter) -> int: ...

    async def history(self, user_id: UserId, memory_id: MemoryId) -> builtins.list[MemoryChange]:
        """Oldest first."""

    async def record_access(self, user_id: UserId, ids: Sequence[MemoryId], at: datetime) -> None:
        """Bump access_count and last_accessed_at of each memory."""

    async def forget_user(self, user_id: UserId) -> int:
        """Remove every memory of the user and its history; return how many memories."""

    async def user_ids(self) -> builtins.list[UserId]:
        """Every user with at least one memory, in id order (maintenance, such as `jyntrix reindex`)."""


class ConversationStore(Protocol):
    async def create(self, conversation: Conversation) -> Conversation: ...

    async def get(self, user_id: UserId, conversation_id: str) -> Conversation | None: ...

    async def list(self, user_id: UserId, limit: int = 50, offset: int = 0) -> list[Conversation]:
        """Most recently updated first."""

    async def delete(self, user_id: UserId, conversation_id: str) -> bool:
        """Delete the conversation and its messages."""

    async def add_message(self, message: Message) -> Message:
        """Append, idempotent by message id; bumps the conversation's updated_at."""

    async def add_messages(
        self, messages: Sequence[Message], pending: PendingBatch | None = None
    ) -> builtins.list[Message]:
        """Append several messages of one conversation, each as `add_message` would, in one transaction.

        With `pending`, the batch is recorded as pending in the TaskLedger that shares this store's
        transactions, in the same write: messages are never stored without their pending batch.
        Returns the stored messages in the order given.
        """

    async def messages(
        self, user_id: UserId, conversation_id: str, limit: int = 100, before: datetime | None = None
    ) -> builtins.list[Message]:
        """The last `limit` messages (older than `before` when given), oldest first.

        Messages are in the order of their time, those of the same time in the order they were stored.
        """

    async def messages_before(
        self, user_id: UserId, conversation_id: str, message_id: str, limit: int = 100
    ) -> builtins.list[Message]:
        """The last `limit` messages that come before `message_id` in that order, oldest first: the cursor
        that pages back through every message, those that share a time included. Raises Invalid when
        `message_id` is no message of this conversation."""

    async def get_messages(self, user_id: UserId, ids: Sequence[str]) -> builtins.list[Message]: ...

    async def forget_user(self, user_id: UserId) -> int:
        """Remove the user's conversations and messages; return how many conversations."""


class TaskLedger(Protocol):
    """Which background batches are pending and which are done, durably (idempotency of tasks).

    A batch becomes pending with the messages it reads (`ConversationStore.add_messages`, or
    `mark_pending`) and done when claimed after it succeeded; `unfinished` finds the batches a
    crash left pending. Deleting a conversation drops its pending batches.
    """

    async def mark_pending(self, batch: PendingBatch) -> bool:
        """Record the batch as pending; False (and no change) when its key is known already."""

    async def claim(self, user_id: UserId, key: str) -> bool:
        """Record `key` as done; False when it was recorded as done before."""

    async def claimed(self, user_id: UserId, key: str) -> bool:
        """Whether `key` was recorded as done, without recording it."""

    async def unfinished(self, older_than: datetime, limit: int = 100) -> builtins.list[PendingBatch]:
        """Pending batches of every user, pending since before `older_than`, oldest first."""

    async def pending_count(self, user_id: UserId, conversation_id: str) -> int:
        """How many of the conversation's batches are still pending (0 once extraction caught up)."""

    async def forget_user(self, user_id: UserId) -> None: ...


class ProfileStore(Protocol):
    async def get(self, user_id: UserId) -> Profile | None: ...

    async def put(self, profile: Profile) -> Profile: ...

    async def forget_user(self, user_id: UserId) -> bool:
        """Delete the user's profile; False when there was none."""


class EntityGraph(Protocol):
    async def link(
        self, user_id: UserId, memory_id: MemoryId, entities: Sequence[Entity], relations: Sequence[Relation] = ()
    ) -> None:
        """Upsert entities and relations and record that the memory mentions the entities."""

    async def unlink(self, user_id: UserId, memory_id: MemoryId) -> None:
        """Forget the memory's mentions and the relations it asserted."""

    async def neighbours(self, user_id: UserId, names: Sequence[str], depth: int) -> dict[str, int]:
        """Entity keys reachable from `names` within `depth` hops, with their hop count."""

    async def mentions(self, user_id: UserId, keys: Sequence[str], limit: int) -> list[tuple[MemoryId, str]]:
        """(memory id, entity key) pairs for memories that mention any of `keys`."""

    async def related(self, user_id: UserId, source: str, predicates: Sequence[str]) -> list[Entity]:
        """The entities `source` points to by any of `predicates` ("user" -husband-> Tom), each once."""

    async def entities(self, user_id: UserId) -> list[Entity]: ...

    async def relations(self, user_id: UserId) -> list[Relation]: ...

    async def forget_user(self, user_id: UserId) -> None: ...


class VectorIndex(Protocol):
    async def upsert(self, user_id: UserId, items: Sequence[VectorItem]) -> None: ...

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None: ...

    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        """Cosine similarity, best first, only the user's items."""

    async def forget_user(self, user_id: UserId) -> None: ...


class KeywordIndex(Protocol):
    async def upsert(self, user_id: UserId, docs: Sequence[KeywordDoc]) -> None: ...

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None: ...

    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        """BM25 score, best first, only the user's documents, only scores above zero."""

    async def forget_user(self, user_id: UserId) -> None: ...


class Embedder(Protocol):
    @property
    def dimension(self) -> int: ...

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        """Unit-length vectors, one per text."""

    async def embed_query(self, text: str, *, user_id: UserId | None = None) -> Vector:
        """One query's vector; `user_id` scopes any cache, so no tenant can observe another's queries."""


class LanguageModel(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def restates_only(self) -> bool:
        """True for a model whose answers only restate the memories and messages it is given (an extractive
        responder): they tell nothing new, so they are never kept as evidence of what the assistant said."""

    def stream(self, prompt: Prompt) -> AsyncIterator[Chunk]: ...

    async def complete(self, prompt: Prompt) -> Completion: ...

    async def structured(self, prompt: Prompt, schema: Mapping[str, Any]) -> Any:
        """A JSON value that follows `schema`; raises Unsupported when the model has no such mode."""


class Extractor(Protocol):
    """Reads facts about the user from a batch of messages: a language model, or rules for one language."""

    name: str
    # Whether it reads the user's current facts (`known`): only then does extraction look them up.
    reads_known: bool

    async def extract(self, messages: Sequence[Message], known: Sequence[Memory] = ()) -> list[FactCandidate]:
        """Candidates from a batch of messages; `known` are the user's current facts the batch may change
        (an extractor that reads them may say which of them a candidate replaces)."""


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...

    def count_many(self, texts: Sequence[str]) -> list[int]: ...


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_s: float) -> RateDecision:
        """Count one request against a sliding window."""


class TaskQueue(Protocol):
    async def enqueue(self, task: TaskMessage, delay_s: float = 0.0) -> None:
        """Run `task` in the background after `delay_s`; a no-op while a task with its key is pending."""


class TaskQueueStats(Protocol):
    async def stats(self) -> QueueStats:
        """The queue's depth and dead letters now, over every user (for monitoring)."""


class SpanObserver(Protocol):
    def observe(self, span: Span) -> None:
        """See a finished span as it is emitted; called on the request path, so it must be quick and not raise."""


class AnalyticsSink(Protocol):
    async def write(self, spans: Sequence[Span]) -> None: ...

    async def query(
        self, since: datetime, until: datetime, user_id: UserId | None = None, kind: str | None = None
    ) -> list[Span]: ...

    async def purge(self, before: datetime) -> int:
        """Delete spans that started before `before`; return how many."""

    async def forget_user(self, user_id: UserId) -> int:
        """Delete every span of the user; return how many."""


class Transactions(Protocol):
    """Store calls grouped into one transaction of the database behind the stores, where it has them.

    A chat turn makes a dozen small store calls; on Postgres each was a transaction of its own (BEGIN, the
    user's scope, COMMIT), which cost more than the statements. Grouped, they cost one.
    """

    def shared(self, user_id: UserId) -> AbstractAsyncContextManager[None]:
        """The block's store calls for `user_id` (from its task and the tasks it starts) in one transaction:
        each call as atomic as on its own (a refused call leaves the others standing), and what the block
        wrote committed together when it ends. Calls may run concurrently (they take the transaction in turn).

        On a database with transactions none of it is kept when the block raises; stores whose calls stand
        alone (in process) keep what each call did."""


class CallsStandAlone:
    """Transactions of stores whose every call stands alone and that have no transaction to share (the
    in-process stores): `shared` groups nothing."""

    def shared(self, user_id: UserId) -> AbstractAsyncContextManager[None]:
        return nullcontext()


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryPorts:
    """Where a user's memories live, passed to the services that read and write them as one.

    `store` is the source of truth; `vectors`, `keywords` and `graph` are derived from it (the
    embedder makes the vectors), and `clock` stamps every change. `transactions` groups store calls.
    """

    store: MemoryStore
    vectors: VectorIndex
    keywords: KeywordIndex
    graph: EntityGraph
    embedder: Embedder
    clock: Clock
    transactions: Transactions = field(default_factory=CallsStandAlone)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationPorts:
    """Where a user's conversations live: the store, the ledger of their extraction batches (written in the
    store's transactions: a batch becomes pending with its messages), the clock that stamps them, the grouping
    of store calls into one transaction, and the language their messages are read in (which of them state
    something, and so are remembered as said)."""

    conversations: ConversationStore
    ledger: TaskLedger
    clock: Clock
    language: Language
    transactions: Transactions = field(default_factory=CallsStandAlone)

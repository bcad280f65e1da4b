"""Background work as typed messages, the rule for which failures are retried, and dead letters.

Each task is a msgspec struct tagged with its type name (the `type` field on the wire), and its
`key` is derived from its fields: enqueueing a task whose key is already waiting or running is a
no-op, and the handlers are idempotent, so a retried or duplicated task adds nothing. Every
TaskQueue adapter encodes tasks with `encode_task`, decodes them with `decode_task`, and asks
`is_retryable` whether a failed attempt is worth another one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, TypeAlias, Union

import msgspec

from jyntrix_domain.errors import Forbidden, Invalid, Unsupported


class TaskMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every task: a tagged struct with an idempotency key, whose `required_text` fields must not be empty."""

    required_text: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self.required_text:
            _require_text(name, getattr(self, name))

    @property
    def key(self) -> str:
        """Equal for tasks that would do the same work."""
        raise NotImplementedError

    @classmethod
    def type_name(cls) -> str:
        """The tag: the task's name on the wire and the dramatiq actor's name."""
        return str(cls.__struct_config__.tag)


def _require(ok: bool, problem: str) -> None:
    if not ok:
        raise Invalid(problem)


def _require_text(name: str, value: str) -> None:
    _require(bool(value), f"task field {name!r} must be a non-empty string")


def extraction_key(conversation_id: str, message_ids: Collection[str]) -> str:
    """The key of an extraction batch: its pending row in the TaskLedger, its claim, and its task's key.

    It names the batch by its first message: a chat turn's batch is pending from the moment its user
    message is stored, before the answer (which the task then also names) exists.
    """
    first = next(iter(message_ids), "")
    return f"extract:{conversation_id}:{first}"


class ExtractMemories(TaskMessage, frozen=True, kw_only=True, omit_defaults=True, tag="extract_memories"):
    """Extract memories from a batch of messages of one conversation.

    `now` is the time the batch was said at (an imported transcript's own time): what extraction
    dates by when a fact carries no time of its own. None means the clock's now, and is left off the
    wire (a task without it reads as before). `recovered` marks a batch a crash left pending
    (jyntrix_domain.recovery): its turn memories may be missing too, and are written first
    (jyntrix_domain.turn_recovery); off the wire when false.
    """

    user_id: str
    conversation_id: str
    message_ids: tuple[str, ...]
    now: datetime | None = None
    recovered: bool = False

    required_text = ("user_id", "conversation_id")

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(bool(self.message_ids) and all(self.message_ids), "task field 'message_ids' must be non-empty ids")

    @property
    def key(self) -> str:
        return extraction_key(self.conversation_id, self.message_ids)


class SummariseSession(TaskMessage, frozen=True, kw_only=True, tag="summarise_session"):
    """Summarise a conversation; with `if_last_message_id`, only if nothing was said after that message."""

    user_id: str
    conversation_id: str
    if_last_message_id: str | None = None

    required_text = ("user_id", "conversation_id")

    @property
    def key(self) -> str:
        return f"summarise:{self.conversation_id}:{self.if_last_message_id or ''}"


class ReindexUser(TaskMessage, frozen=True, kw_only=True, tag="reindex_user"):
    """Rebuild a user's vector and keyword indexes from the memory store."""

    user_id: str

    required_text = ("user_id",)

    @property
    def key(self) -> str:
        return f"reindex:{self.user_id}"


class PurgeAnalytics(TaskMessage, frozen=True, kw_only=True, tag="purge_analytics"):
    """The retention purge of one day: once per day however many workers schedule it."""

    day: date

    @classmethod
    def of(cls, at: datetime) -> PurgeAnalytics:
        return cls(day=at.date())

    @property
    def key(self) -> str:
        return f"purge_analytics:{self.day.isoformat()}"


Task: TypeAlias = ExtractMemories | SummariseSession | ReindexUser | PurgeAnalytics
"""Every task Jyntrix runs in the background."""

TASK_TYPES: tuple[type[TaskMessage], ...] = (ExtractMemories, SummariseSession, ReindexUser, PurgeAnalytics)

TaskHandler = Callable[[Any], Awaitable[None]]
"""Runs one task; raises to have it retried (see `is_retryable`)."""

Handlers: TypeAlias = Mapping[type[TaskMessage], TaskHandler]
"""A handler per task type."""


# ------------------------------------------------------------------ which failures are retried

NEVER_RETRIED: tuple[type[Exception], ...] = (Invalid, Forbidden, Unsupported)
"""Errors that say the task itself is wrong: retrying cannot help, so it is dead-lettered at once.

NotFound is not among them: a task may arrive before what it names is visible (a message
committed a moment later), and a retry then succeeds.
"""


def is_retryable(error: BaseException) -> bool:
    """Whether a failed attempt may succeed when tried again (every TaskQueue applies this)."""
    return not isinstance(error, NEVER_RETRIED)


# ------------------------------------------------------------------ the wire format


def encode_task(task: TaskMessage) -> bytes:
    """JSON with the task's type in `type`."""
    return msgspec.json.encode(task)


def task_union(types: Collection[type[TaskMessage]]) -> Any:
    """The type to decode any of `types` with (a tagged union)."""
    if not types:
        raise Invalid("no task types")
    return Union[tuple(types)]  # noqa: UP007 - built from a runtime tuple of types


def decode_task(data: bytes | str | Mapping[str, Any], types: Collection[type[TaskMessage]] = TASK_TYPES) -> Any:
    """A task of one of `types` from JSON (or its builtins form); Invalid when it is not one."""
    union = task_union(types)
    try:
        if isinstance(data, Mapping):
            return msgspec.convert(dict(data), union)
        return msgspec.json.decode(data, type=union)
    except msgspec.ValidationError as exc:
        raise Invalid(f"not a task: {exc}") from None
    except msgspec.DecodeError as exc:
        raise Invalid(f"not a task: {exc}") from None


def task_builtins(task: TaskMessage) -> dict[str, Any]:
    """The task as JSON-ready builtins (what a broker message carries)."""
    found: dict[str, Any] = msgspec.to_builtins(task)
    return found


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A task that failed for good (retries exhausted, or an error `is_retryable` refuses).

    `task` is None when the message could not be decoded as a task; `payload` keeps what it held.
    `message_id` and `queue` identify it in a broker (empty for the in-process queue).
    """

    key: str
    task: Task | None
    attempts: int
    error: str
    failed_at: datetime
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    message_id: str = ""
    queue: str = ""


class QueueStats(msgspec.Struct, frozen=True, kw_only=True):
    """A task queue's backlog at one moment: `depth` tasks waiting, backing off or running; `dead_letters`
    tasks that failed for good and wait for an operator."""

    depth: int
    dead_letters: int

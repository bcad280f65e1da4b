"""ChatService: one chat turn as a stream of typed events, grounded in the user's memories."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing, nullcontext
from typing import Annotated, NamedTuple

import msgspec

from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.chat_events import ChatEvent, ContextEvent, ConversationEvent, DoneEvent, ErrorEvent, TokenEvent
from jyntrix_domain.context import BuiltContext, ContextBuilder
from jyntrix_domain.errors import DomainError, Invalid, NotFound
from jyntrix_domain.in_flight import still_there
from jyntrix_domain.locks import KeyedLocks, UserGate
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import (
    MAX_MESSAGE_CHARS,
    Conversation,
    Message,
    Role,
    UserId,
    Vector,
    new_id,
)
from jyntrix_domain.phases import Phases
from jyntrix_domain.ports import ConversationPorts, LanguageModel, TaskQueue
from jyntrix_domain.prompts import ChatTurn, Prompt, Usage, stop_sequences
from jyntrix_domain.retrieval import RetrievalResult, RetrievalService
from jyntrix_domain.tasks import ExtractMemories
from jyntrix_domain.turn_messages import answer_id_of, ephemeral, pending_extraction, turn_before
from jyntrix_domain.turn_retries import check_same_message, conversation_for
from jyntrix_domain.turns import remember_turns, turn_memory_id

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a helpful assistant with a long-term memory of this user. "
    "Use the remembered facts below when they are relevant, cite them by their [number], "
    "and say so plainly when you do not remember something instead of guessing."
)


class ChatConfig(msgspec.Struct, frozen=True, kw_only=True):
    system_prompt: str = SYSTEM_PROMPT
    history_messages: int = 20
    # Turns preparing at once (setup, then retrieval and context, each taken in turn); the others wait
    # their turn first. Past the cores' capacity more at once only makes every turn slower, and their
    # waits for Postgres connections and worker threads count against the strategies' timeouts.
    concurrent_preparations: Annotated[int, msgspec.Meta(ge=1)] = 16


class _Setup(NamedTuple):
    """What a turn's setup stored and read: the conversation (and whether it was created just now), the user
    message as stored, the messages before it (itself included), and whether it was stored before (a retry)."""

    conversation: Conversation
    created: bool
    message: Message
    earlier: list[Message]
    retried: bool


def _context_event(built: BuiltContext, result: RetrievalResult) -> ContextEvent:
    return ContextEvent(
        memories=list(built.items),
        tokens_by_section=built.tokens_by_section,
        total_tokens=built.total_tokens,
        intent=result.analysis.intent.value,
        strategies=result.strategies,
    )


class ChatService:
    """Runs a chat turn: setup, query analysis, retrieval, context, LLM stream, save, enqueue.

    The user's message is stored, with its turn memory, before the first event, so an `error` event
    never loses it: sending the same `message_id` again retries the turn. A failure before that (the
    message's embedding, the setup's one write) is raised before the stream starts, with nothing stored.
    """

    def __init__(
        self,
        conversations: ConversationPorts,
        *,
        retrieval: RetrievalService,
        memories: MemoryService,
        context: ContextBuilder,
        llm: LanguageModel,
        tasks: TaskQueue,
        emitter: BufferedEmitter | None = None,
        config: ChatConfig | None = None,
        gate: UserGate | None = None,
    ) -> None:
        self._ports = conversations
        self._retrieval = retrieval
        self._memories = memories
        self._context = context
        self._llm = llm
        self._tasks = tasks
        self._emitter = emitter
        self._config = config or ChatConfig()
        self._preparing = asyncio.Semaphore(self._config.concurrent_preparations)
        # The tries of one message id, one at a time (jyntrix_domain.turn_retries).
        self._tries = KeyedLocks()
        # Shared with ForgetService: a delete-all never lands inside a turn's setup (jyntrix_domain.in_flight).
        self._gate = gate if gate is not None else UserGate()

    @property
    def model_name(self) -> str:
        """The name of the language model that answers (its LanguageModel.name)."""
        return self._llm.name

    async def start_conversation(
        self, user_id: UserId, title: str | None = None, *, conversation_id: str | None = None
    ) -> Conversation:
        """A new conversation (with `conversation_id`, when given, an existing one is returned as it is)."""
        now = self._ports.clock.now()
        conversation = Conversation(
            id=conversation_id or new_id(), user_id=user_id, created_at=now, updated_at=now, title=title
        )
        return await self._ports.conversations.create(conversation)

    async def send_message_stream(
        self,
        user_id: UserId,
        content: str,
        conversation_id: str | None = None,
        *,
        message_id: str | None = None,
        name: str | None = None,
        history: Sequence[ChatTurn] | None = None,
        stop: Sequence[str] = (),
    ) -> AsyncIterator[ChatEvent]:
        """Yield `conversation`, `context`, `token`…, `done`; or `error` after which nothing is lost.

        The tries of one `message_id` run one at a time: a later one replays the answer of the first, and
        one that is not the same message (other words, another conversation) is a Conflict before the
        first event (jyntrix_domain.turn_retries). See `_send` for the turn itself.
        """
        held = self._tries.hold(user_id, message_id) if message_id is not None else nullcontext()
        turn = self._send(user_id, content, conversation_id, message_id, name, history, stop)
        async with held, aclosing(turn):
            async for event in turn:
                yield event

    async def _send(
        self,
        user_id: UserId,
        content: str,
        conversation_id: str | None,
        message_id: str | None,
        name: str | None,
        history: Sequence[ChatTurn] | None,
        stop: Sequence[str],
    ) -> AsyncGenerator[ChatEvent, None]:
        """Yield `conversation`, `context`, `token`…, `done`; or `error` after which nothing is lost.

        The setup phase stores the user message and its turn memory (stored and indexed before the
        model streams), embedding the text once for both the turn memory and retrieval. `name` is the
        speaker's, when the caller gives one.

        `history` replaces the stored conversation as the turns before this message, for this call only: it is
        not stored (an OpenAI-style caller sends the whole exchange each time; only its last message is new).
        `stop` holds sequences at which the answer ends (see `Prompt`); the stored answer ends there too.
        """
        text = content.strip()
        if not text:
            raise Invalid("message must not be empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise Invalid(f"message is longer than {MAX_MESSAGE_CHARS} characters")
        stops = stop_sequences(stop)
        trace_id = new_id()
        phases = Phases(self._emitter, self._ports.clock, trace_id, user_id)

        async with phases.span("setup"), self._gate.shared(user_id), self._preparing:
            # Two parts of setup timed on their own too (phase_timings "setup.embedding", "setup.turn_memory").
            # The model runs before the transaction opens, which then holds no connection while it waits.
            async with phases.span("setup.embedding"):
                vector = await self._retrieval.embed_query(user_id, text)
            # One transaction: the message, its pending batch and its turn memory are stored together or not at all.
            async with self._ports.transactions.shared(user_id):
                setup = await self._setup(user_id, text, conversation_id, message_id, name, history, vector, phases)
        conversation, created, user_message, earlier = setup.conversation, setup.created, setup.message, setup.earlier
        yield ConversationEvent(id=conversation.id, created=created, user_message_id=user_message.id)
        # Only a message that was stored before (a retry) can have an answer already.
        answered = (
            await self._ports.conversations.get_messages(user_id, [answer_id_of(user_message)]) if setup.retried else []
        )
        if answered:
            for event in self._replay(user_message, answered[0], phases):
                yield event
            return

        try:
            async for event in self._answer(
                user_id, conversation, user_message, earlier, vector, phases, trace_id, stops
            ):
                yield event
        except DomainError as exc:
            log.warning("chat turn failed: %s", exc)
            own = [turn_memory_id(user_id, user_message.id)]
            if not await still_there(self._ports.conversations, self._memories, user_id, conversation.id, own):
                # Forgotten (or deleted) while the turn ran (its turn memory is gone with it, jyntrix_domain.in_flight):
                # say that, not which write found it gone.
                yield ErrorEvent(
                    code="not_found", message="the conversation was deleted during the turn", retryable=False
                )
            else:
                yield ErrorEvent(code=exc.code, message=str(exc), user_message_id=user_message.id)
        except Exception:
            log.exception("chat turn failed")
            yield ErrorEvent(code="internal", message="the turn failed", user_message_id=user_message.id)

    async def _setup(
        self,
        user_id: UserId,
        text: str,
        conversation_id: str | None,
        message_id: str | None,
        name: str | None,
        history: Sequence[ChatTurn] | None,
        vector: Vector,
        phases: Phases,
    ) -> _Setup:
        """Store the user message with its pending batch and its turn memory."""
        retried = (await self._ports.conversations.get_messages(user_id, [message_id])) if message_id else []
        if retried:
            conversation_id = check_same_message(retried[0], conversation_id, text, name)
        conversation, created = await self._conversation(user_id, conversation_id, text, message_id)
        said = Message(
            id=message_id or new_id(),
            conversation_id=conversation.id,
            user_id=user_id,
            role=Role.USER,
            content=text,
            created_at=self._ports.clock.now(),
            name=name,
        )
        # Its extraction batch is pending from the same write, so a crash before the answer loses nothing.
        (user_message,) = await self._ports.conversations.add_messages([said], pending=pending_extraction(said))
        # Another process's first try of this message id may have stored it first: the same message, or a 409.
        check_same_message(user_message, conversation.id, text, name)
        if history is not None:
            earlier = ephemeral(history[-self._config.history_messages :], user_message)
        elif created:
            earlier = [user_message]  # a conversation created just now holds only this message
        else:
            earlier = await self._ports.conversations.messages(
                user_id, conversation.id, limit=self._config.history_messages + 1
            )
        async with phases.span("setup.turn_memory"):
            # The stored turn memory is not used here: no need to read it back.
            language = self._ports.language
            follows = turn_before(user_message, earlier if history is None else [], language)
            await remember_turns(
                self._memories, user_id, [user_message], [vector], language=language, follows=follows, read_back=False
            )
        return _Setup(conversation, created, user_message, earlier, retried=bool(retried))

    def _replay(self, user_message: Message, answer: Message, phases: Phases) -> list[ChatEvent]:
        """The events of a turn that was answered already: a retry after success stores nothing more."""
        analysis = self._retrieval.analyze(user_message.content)
        return [
            ContextEvent(
                memories=[], tokens_by_section={}, total_tokens=0, intent=analysis.intent.value, strategies=[]
            ),
            TokenEvent(delta=answer.content),
            DoneEvent(
                message_id=answer.id,
                user_message_id=user_message.id,
                conversation_id=answer.conversation_id,
                usage=Usage(),
                phase_timings=dict(phases.timings),
            ),
        ]

    async def _conversation(
        self, user_id: UserId, conversation_id: str | None, text: str, message_id: str | None
    ) -> tuple[Conversation, bool]:
        if conversation_id is None:
            derived = conversation_for(user_id, message_id) if message_id is not None else None
            return await self.start_conversation(user_id, title=text[:80], conversation_id=derived), True
        found = await self._ports.conversations.get(user_id, conversation_id)
        if found is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return found, False

    async def _answer(
        self,
        user_id: UserId,
        conversation: Conversation,
        user_message: Message,
        history: list[Message],
        vector: Vector,
        phases: Phases,
        trace_id: str,
        stop: tuple[str, ...],
    ) -> AsyncIterator[ChatEvent]:
        async with self._preparing:
            async with phases.span("query_analysis") as attributes:
                analysis = self._retrieval.analyze(user_message.content)
                attributes["intent"] = analysis.intent.value
            async with phases.span("retrieval") as attributes:
                if analysis.requires_memory:
                    # The turn's own memory is what was just said: never context for this turn.
                    own = frozenset({turn_memory_id(user_id, user_message.id)})
                    result = await self._retrieval.retrieve(
                        user_id, analysis, exclude=own, vector=vector, trace_id=trace_id
                    )
                else:
                    result = RetrievalResult(analysis=analysis, memories=[], strategies=[])
                attributes["memories"] = len(result.memories)
            async with phases.span("context_building") as attributes:
                earlier = [m for m in history if m.id != user_message.id]
                # Counting tokens of a full context takes tens of milliseconds: keep it off the event loop.
                built = await asyncio.to_thread(
                    self._context.build, result.memories, history=earlier, entities=analysis.entities
                )
                attributes["tokens"] = built.total_tokens
        yield _context_event(built, result)

        prompt = Prompt(
            system=self._config.system_prompt,
            context_text=built.text,
            context_items=built.items,
            messages=(*built.history, ChatTurn(role=Role.USER, content=user_message.content)),
            stop=stop,
        )
        parts: list[str] = []
        usage = Usage()
        async with phases.span("llm_streaming", model=self._llm.name) as attributes:
            async for chunk in self._llm.stream(prompt):
                if chunk.text:
                    parts.append(chunk.text)
                    yield TokenEvent(delta=chunk.text)
                if chunk.usage is not None:
                    usage = chunk.usage
            attributes["input_tokens"] = usage.input_tokens
            attributes["output_tokens"] = usage.output_tokens

        # The answer and the memories' access counts in one transaction.
        async with phases.span("save_response"), self._ports.transactions.shared(user_id):
            answer = await self._ports.conversations.add_message(
                Message(
                    id=answer_id_of(user_message),
                    conversation_id=conversation.id,
                    user_id=user_id,
                    role=Role.ASSISTANT,
                    content="".join(parts),
                    created_at=self._ports.clock.now(),
                    metadata={
                        "memories": [item.memory_id for item in built.items],
                        "model": self._llm.name,
                        # An extractive model's answer only restates its context: never evidence of its own.
                        "restates": self._llm.restates_only,
                    },
                )
            )
            await self._memories.record_access(user_id, [item.memory_id for item in built.items])

        async with phases.span("enqueue_tasks"):
            await self._tasks.enqueue(
                ExtractMemories(
                    user_id=user_id, conversation_id=conversation.id, message_ids=(user_message.id, answer.id)
                )
            )
        yield DoneEvent(
            message_id=answer.id,
            user_message_id=user_message.id,
            conversation_id=conversation.id,
            usage=usage,
            phase_timings=dict(phases.timings),
        )

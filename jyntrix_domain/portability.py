"""A user's whole account as one document, out and back in: the export, and the restore of an export.

The export holds everything Jyntrix keeps about a user but their analytics: the memories, current and superseded,
each with its history; the entity graph; the profile; the conversations with all their messages. Its parts are
the model's own structs, so a field the model gains travels in it with no change here.

A restore writes an export into an account that holds nothing else, as the export has it: memories keep their
ids, kinds, types, times, validity (superseded chains) and sources, each with its history; conversations and
messages keep their ids and times. Extraction does not run again (the facts drawn from the messages are in the
export); the indexes and the graph are rebuilt from the restored memories. It is idempotent: what the account
holds already with the same id stays as it is, so running a restore again, or again after a failure cut it short,
adds only what is missing. An account that holds anything the export does not is refused (Conflict): a merge
could leave two current values of one fact, so the user forgets the account's data first or restores elsewhere.

The export may be another user's id (an account moving to a new identity): every user id in it becomes the
restoring user's, and the ids Jyntrix derives from a user id to find things again (a turn memory's, from its
message; an answer's, from the message it answers) are derived again from the new one, wherever they are named,
so that deleting a restored conversation or forgetting a restored turn works as it would on the original account.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from jyntrix_domain.account_export import AccountExport, ExportedConversation, RestoreCounts, RestoreReport
from jyntrix_domain.errors import Conflict, Invalid
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.memory_rules import (
    MAX_PREFERENCES,
    check_content,
    check_entities,
    check_reliability,
    check_slot,
)
from jyntrix_domain.model import (
    ChangeKind,
    Conversation,
    Memory,
    MemoryChange,
    MemoryFilter,
    Profile,
    UserId,
    new_id,
)
from jyntrix_domain.ports import ConversationPorts, MemoryPorts, ProfileStore
from jyntrix_domain.turn_messages import answer_id
from jyntrix_domain.turn_places import turn_memory_id

# Longer than any id Jyntrix makes or takes from a client (uuids; a client's memory or message id of up to 200).
MAX_ID_CHARS = 200
_PAGE = 500
# A conversation's messages are read in one call: pages by time could skip messages sharing a page's edge.
_WHOLE_CONVERSATION = 2**62


class PortabilityService:
    """Exports a user's account, and restores an export into an account (see the module docstring)."""

    def __init__(
        self,
        memory: MemoryPorts,
        conversations: ConversationPorts,
        *,
        memories: MemoryService,
        profiles: ProfileStore,
    ) -> None:
        self._store = memory.store
        self._graph = memory.graph
        self._clock = memory.clock
        self._conversations = conversations.conversations
        self._memories = memories
        self._profiles = profiles

    async def export(self, user_id: UserId) -> AccountExport:
        memories = await self._all_memories(user_id)
        conversations = [
            ExportedConversation(
                **{name: getattr(c, name) for name in Conversation.__struct_fields__},
                messages=await self._conversations.messages(user_id, c.id, limit=_WHOLE_CONVERSATION),
            )
            for c in await self._all_conversations(user_id)
        ]
        return AccountExport(
            user_id=user_id,
            exported_at=self._clock.now(),
            memories=memories,
            history={m.id: await self._store.history(user_id, m.id) for m in memories},
            entities=await self._graph.entities(user_id),
            relations=await self._graph.relations(user_id),
            profile=await self._profiles.get(user_id),
            conversations=conversations,
        )

    async def restore(self, user_id: UserId, export: AccountExport) -> RestoreReport:
        """Restore `export` into the account of `user_id`, which holds nothing but (part of) this export.

        Everything is checked before anything is written (Invalid naming the item); an account holding
        other data is a Conflict. It takes one of the user's bulk slots, as an import does.
        """
        wanted = moved(export, user_id)
        check_restorable(wanted)
        async with self._memories.bulk_slot(user_id):
            await self._refuse_other_data(user_id, wanted)
            memories = await self._restore_memories(user_id, wanted)
            conversations, messages = await self._restore_conversations(user_id, wanted.conversations)
            profile = await self._restore_profile(user_id, wanted.profile)
            await self._memories.reindex(user_id)
        return RestoreReport(
            user_id=user_id,
            restored=RestoreCounts(
                memories=memories[0], conversations=conversations[0], messages=messages[0], profile=profile[0]
            ),
            unchanged=RestoreCounts(
                memories=memories[1], conversations=conversations[1], messages=messages[1], profile=profile[1]
            ),
        )

    async def _all_memories(self, user_id: UserId) -> builtins.list[Memory]:
        memories: builtins.list[Memory] = []
        while True:
            page = await self._store.list(user_id, MemoryFilter(current_only=False, limit=_PAGE, offset=len(memories)))
            memories.extend(page)
            if len(page) < _PAGE:
                return memories

    async def _all_conversations(self, user_id: UserId) -> builtins.list[Conversation]:
        conversations: builtins.list[Conversation] = []
        while True:
            page = await self._conversations.list(user_id, limit=_PAGE, offset=len(conversations))
            conversations.extend(page)
            if len(page) < _PAGE:
                return conversations

    async def _refuse_other_data(self, user_id: UserId, wanted: AccountExport) -> None:
        memories = {m.id for m in await self._all_memories(user_id)} - {m.id for m in wanted.memories}
        conversations = {c.id for c in await self._all_conversations(user_id)} - {c.id for c in wanted.conversations}
        profile = await self._profiles.get(user_id)
        other_profile = profile is not None and profile != wanted.profile
        if memories or conversations or other_profile:
            held = f"{len(memories)} memories, {len(conversations)} conversations" + (
                " and a profile" if other_profile else ""
            )
            raise Conflict(
                f"the account holds data the export does not ({held}): restore into an empty account, "
                "or forget everything in this one first"
            )

    async def _restore_memories(self, user_id: UserId, wanted: AccountExport) -> tuple[int, int]:
        restored = 0
        for start in range(0, len(wanted.memories), _PAGE):
            batch = wanted.memories[start : start + _PAGE]
            history = [change for m in batch for change in wanted.history.get(m.id) or [_created(m)]]
            restored += sum(await self._store.restore(user_id, batch, history))
        return restored, len(wanted.memories) - restored

    async def _restore_conversations(
        self, user_id: UserId, exported: Sequence[ExportedConversation]
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        conversations = messages = 0
        for conversation in exported:
            if await self._conversations.get(user_id, conversation.id) is None:
                conversations += 1
            await self._conversations.create(conversation.conversation())
            ids = [m.id for m in conversation.messages]
            there = len(await self._conversations.get_messages(user_id, ids)) if ids else 0
            for start in range(0, len(ids), _PAGE):
                # No pending batch: the facts drawn from these messages are restored with the memories.
                await self._conversations.add_messages(conversation.messages[start : start + _PAGE])
            messages += len(ids) - there
        total = sum(len(c.messages) for c in exported)
        return (conversations, len(exported) - conversations), (messages, total - messages)

    async def _restore_profile(self, user_id: UserId, profile: Profile | None) -> tuple[int, int]:
        if profile is None:
            return 0, 0
        if await self._profiles.get(user_id) == profile:
            return 0, 1
        await self._profiles.put(profile)
        return 1, 0


def _created(memory: Memory) -> MemoryChange:
    """The history of a memory that an export gives none: it was created as it is."""
    return MemoryChange(
        id=new_id(),
        memory_id=memory.id,
        user_id=memory.user_id,
        kind=ChangeKind.CREATE,
        at=memory.created_at,
        content_after=memory.content,
    )


def moved(export: AccountExport, user_id: UserId) -> AccountExport:
    """The export as the account of `user_id` holds it: every user id theirs, and the ids derived from the
    exporting user's id derived from theirs, wherever the document names them (see the module docstring)."""

    def own(item: Any) -> Any:
        return msgspec.structs.replace(item, user_id=user_id)

    owned = msgspec.structs.replace(
        export,
        user_id=user_id,
        memories=[own(m) for m in export.memories],
        history={memory_id: [own(c) for c in changes] for memory_id, changes in export.history.items()},
        profile=own(export.profile) if export.profile is not None else None,
        conversations=[
            msgspec.structs.replace(own(c), messages=[own(m) for m in c.messages]) for c in export.conversations
        ],
    )
    renames = _rederived_ids(export, user_id)
    if not renames:
        return owned
    plain = msgspec.to_builtins(owned, builtin_types=(datetime,))
    return msgspec.convert(_renamed(plain, renames), AccountExport)


def _rederived_ids(export: AccountExport, user_id: UserId) -> dict[str, str]:
    """Each id in `export` that Jyntrix derives from its user's id, and what it is for `user_id`."""
    source = export.user_id
    if source == user_id:
        return {}
    messages = [m for c in export.conversations for m in c.messages]
    message_ids = {m.id for m in messages}
    memory_ids = {m.id for m in export.memories}
    renames: dict[str, str] = {}
    for message in messages:
        if (answer := answer_id(source, message.id)) in message_ids:
            renames[answer] = answer_id(user_id, message.id)
    for message in messages:
        # A turn's id derives from its message's, itself derived again when it is an answer.
        if (turn := turn_memory_id(source, message.id)) in memory_ids:
            renames[turn] = turn_memory_id(user_id, renames.get(message.id, message.id))
    return renames


def _renamed(value: Any, renames: dict[str, str]) -> Any:
    """A JSON-like value with every string (values and keys) that `renames` holds replaced."""
    if isinstance(value, str):
        return renames.get(value, value)
    if isinstance(value, list):
        return [_renamed(item, renames) for item in value]
    if isinstance(value, dict):
        return {renames.get(k, k) if isinstance(k, str) else k: _renamed(v, renames) for k, v in value.items()}
    return value


def check_restorable(export: AccountExport) -> None:
    """Raise Invalid naming the first part of `export` that cannot be restored (nothing is written then)."""
    memory_ids: set[str] = set()
    said: dict[str, int] = {}
    for n, memory in enumerate(export.memories):
        where = f"memories[{n}]"
        _check_id(f"{where}.id", memory.id, memory_ids)
        # One content is one current memory: an export made before that rule may hold two.
        if memory.is_current and (twin := said.setdefault(memory.content_key, n)) != n:
            raise Invalid(f"{where} says what memories[{twin}] says, and both are current: keep one")
        try:
            check_content(memory.content)
            check_reliability(memory.reliability)
            check_entities(memory.entities, memory.relations)
            check_slot(memory.slot, memory.value)
        except Invalid as exc:
            raise Invalid(f"{where}: {exc}") from None
    for memory_id, changes in export.history.items():
        if memory_id not in memory_ids:
            raise Invalid(f"history names memory {memory_id!r}, which `memories` does not hold")
        change_ids: set[str] = set()
        for n, change in enumerate(changes):
            _check_id(f"history[{memory_id!r}][{n}].id", change.id, change_ids)
            if change.memory_id != memory_id:
                raise Invalid(f"history[{memory_id!r}][{n}] is a change of memory {change.memory_id!r}")
    conversation_ids: set[str] = set()
    message_ids: set[str] = set()
    for n, conversation in enumerate(export.conversations):
        where = f"conversations[{n}]"
        _check_id(f"{where}.id", conversation.id, conversation_ids)
        for k, message in enumerate(conversation.messages):
            _check_id(f"{where}.messages[{k}].id", message.id, message_ids)
            if message.conversation_id != conversation.id:
                raise Invalid(f"{where}.messages[{k}] belongs to conversation {message.conversation_id!r}")
    if export.profile is not None and len(export.profile.preferences) > MAX_PREFERENCES:
        raise Invalid(f"a profile holds at most {MAX_PREFERENCES} preferences")


def _check_id(where: str, value: str, seen: set[str]) -> None:
    if not 0 < len(value) <= MAX_ID_CHARS:
        raise Invalid(f"{where} must be 1 to {MAX_ID_CHARS} characters")
    if value in seen:
        raise Invalid(f"{where} {value!r} is given twice")
    seen.add(value)

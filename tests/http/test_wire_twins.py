"""The domain's structs and their wire twins in jyntrix_client (jyntrix_http.wire): one shape, converted faithfully.

The server sends the client's structs; these tests fail when a field is added to one side of a pair and
not to the other, when a conversion loses or changes a value, or when a limit differs.
"""

from __future__ import annotations

import enum
import typing
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from jyntrix_client import limits
from jyntrix_client import types as wire
from jyntrix_domain import import_outcomes, memory_rules, model, prompts, transcripts
from jyntrix_domain.account_export import AccountExport, ExportedConversation
from jyntrix_domain.chat_events import ContextEvent, DoneEvent, ErrorEvent, TokenEvent
from jyntrix_domain.signals import SIGNAL_NAMES, ScoreBreakdown, Signals
from jyntrix_http.wire import TWINS, chat_event, to_wire, to_wire_all
from tests.agents.schema_shapes import differences, type_shape

NOW = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)


def sent_shape(domain: type[Any], twin: type[Any]) -> Any:
    """The shape `to_wire` sends of a domain struct: its fields, and each property its twin has a field for
    (to_wire reads attributes, so a property can serve a wire field: a rename, or a value derived from others)."""
    kind, fields = type_shape(domain)
    named = {name for name, _, _ in fields}
    derived = []
    for field in msgspec.inspect.type_info(twin).fields:
        attribute = getattr(domain, field.name, None)
        if field.encode_name not in named and isinstance(attribute, property):
            returns = typing.get_type_hints(attribute.fget)["return"]
            derived.append((field.encode_name, type_shape(returns), field.required))
    return (kind, tuple(sorted((*fields, *derived))))


@pytest.mark.parametrize(("domain", "twin"), list(TWINS.items()), ids=lambda kind: kind.__name__)
def test_each_domain_struct_has_the_shape_of_its_wire_twin(domain: type[Any], twin: type[Any]) -> None:
    assert differences(sent_shape(domain, twin), type_shape(twin)) == []


class _Fact(msgspec.Struct, frozen=True, kw_only=True):
    content: str
    superseded_by: str | None = None

    @property
    def current(self) -> bool:
        return self.superseded_by is None


class _WireFact(msgspec.Struct, frozen=True, kw_only=True):
    content: str
    superseded_by: str | None = None
    current: bool


class _WireFactMissingOne(msgspec.Struct, frozen=True, kw_only=True):
    content: str
    current: bool


def test_a_property_serves_a_wire_field_and_a_field_left_out_is_caught() -> None:
    assert to_wire(_Fact(content="x", superseded_by="y"), _WireFact).current is False
    assert differences(sent_shape(_Fact, _WireFact), type_shape(_WireFact)) == []
    assert differences(sent_shape(_Fact, _WireFactMissingOne), type_shape(_WireFactMissingOne)) == [
        "$.superseded_by: served by the API, missing from the client"
    ]


@pytest.mark.parametrize(
    ("domain", "twin"),
    [
        (model.MemoryType, wire.MemoryType),
        (model.MemoryKind, wire.MemoryKind),
        (model.ChangeKind, wire.ChangeKind),
        (model.Role, wire.Role),
        (import_outcomes.ImportOutcome, wire.ImportOutcome),
    ],
    ids=lambda kind: kind.__name__,
)
def test_each_domain_enum_has_the_values_of_its_twin(domain: type[enum.Enum], twin: type[enum.Enum]) -> None:
    assert [m.value for m in domain] == [m.value for m in twin]


def test_the_wire_signals_are_the_rankings_signals() -> None:
    assert tuple(wire.Signals.__struct_fields__) == SIGNAL_NAMES


def test_the_clients_limits_are_the_domains() -> None:
    assert (
        limits.MAX_CONTENT_CHARS,
        limits.MAX_NAME_CHARS,
        limits.MAX_ENTITIES,
        limits.MAX_RELATIONS,
        limits.MAX_PREFERENCES,
        limits.MAX_MESSAGE_CHARS,
        limits.MAX_TRANSCRIPT_MESSAGES,
        limits.MAX_SPEAKER_CHARS,
        limits.MAX_TRANSCRIPT_CONTENT_CHARS,
        limits.MAX_CLIENT_ID_CHARS,
    ) == (
        memory_rules.MAX_CONTENT_CHARS,
        memory_rules.MAX_NAME_CHARS,
        memory_rules.MAX_ENTITIES,
        memory_rules.MAX_RELATIONS,
        memory_rules.MAX_PREFERENCES,
        model.MAX_MESSAGE_CHARS,
        transcripts.MAX_TRANSCRIPT_MESSAGES,
        transcripts.MAX_SPEAKER_CHARS,
        transcripts.MAX_TRANSCRIPT_CONTENT_CHARS,
        transcripts.MAX_CLIENT_ID_CHARS,
    )


def _memory(**changes: Any) -> model.Memory:
    base = model.Memory(
        id="m-1",
        user_id="ada",
        type=model.MemoryType.PROFILE,
        content="Ada lives in Lisbon.",
        created_at=NOW,
        updated_at=NOW,
        valid_from=NOW,
        reliability=0.9,
        access_count=3,
        last_accessed_at=NOW,
        valid_until=NOW,
        superseded_by="m-2",
        source_message_ids=("msg-1", "msg-2"),
        entities=("Ada", "Lisbon"),
        relations=(model.Relation(source="user", predicate="lives in", target="Lisbon", memory_id="m-1"),),
        kind=model.MemoryKind.FACT,
        slot="home",
        value="Lisbon",
        metadata={"source": {"app": "notes", "tags": ["a", 1, None]}},
    )
    return msgspec.structs.replace(base, **changes)


def _same_json(domain: msgspec.Struct, sent: msgspec.Struct) -> None:
    assert msgspec.json.decode(msgspec.json.encode(sent)) == msgspec.json.decode(msgspec.json.encode(domain))


def test_a_memory_goes_out_with_every_field_as_the_domain_holds_it() -> None:
    domain = _memory()
    sent = to_wire(domain, wire.Memory)
    assert isinstance(sent, wire.Memory)
    assert sent.type is wire.MemoryType.PROFILE and sent.kind is wire.MemoryKind.FACT
    assert isinstance(sent.relations[0], wire.Relation)
    _same_json(domain, sent)
    assert [m.id for m in to_wire_all([domain, _memory(id="m-3")], wire.Memory)] == ["m-1", "m-3"]


def test_a_context_event_goes_out_under_the_wire_names() -> None:
    item = prompts.ContextItem(
        ref=1,
        memory_id="m-1",
        type=model.MemoryType.SEMANTIC,
        content="Ada lives in Lisbon.",
        score=0.7,
        tokens=6,
        match_types=("keyword", "vector"),
        scores=ScoreBreakdown.of(Signals(keyword=0.5, vector=0.8, recency=0.1), Signals(keyword=1.0, vector=1.0)),
        relevant=True,
    )
    outcome = model.StrategyOutcome(name="vector", status="ok", hits=3, duration_ms=1.5)
    domain = ContextEvent(
        memories=[item], tokens_by_section={"semantic": 6}, total_tokens=6, intent="question", strategies=[outcome]
    )
    sent = chat_event(domain)
    assert isinstance(sent, wire.ContextEvent)
    assert sent.memories[0].id == "m-1"
    assert sent.memories[0].scores.signals.as_dict()["vector"] == 0.8
    assert sent.memories[0].scores.total == 1.3
    _same_json(domain, sent)


@pytest.mark.parametrize(
    "event",
    [
        TokenEvent(delta="Lis"),
        DoneEvent(
            message_id="a",
            user_message_id="u",
            conversation_id="c",
            usage=prompts.Usage(input_tokens=3, output_tokens=4),
            phase_timings={"llm": 1.0},
        ),
        ErrorEvent(code="llm_failed", message="no answer", user_message_id="u"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_each_chat_event_goes_out_as_its_twin_with_its_tag(event: msgspec.Struct) -> None:
    sent = chat_event(event)  # type: ignore[arg-type]
    assert type(sent) is TWINS[type(event)]
    _same_json(event, sent)


def test_an_export_goes_out_whole() -> None:
    signals = Signals(keyword=1.0)
    assert to_wire(ScoreBreakdown.of(signals, signals), wire.ScoreBreakdown).total == 1.0
    chat = model.Conversation(id="c-1", user_id="ada", created_at=NOW, updated_at=NOW, title="Lisbon")
    said = model.Message(
        id="msg-1", conversation_id="c-1", user_id="ada", role=model.Role.USER, content="Hi", created_at=NOW
    )
    domain = AccountExport(
        user_id="ada",
        exported_at=NOW,
        memories=[_memory()],
        history={
            "m-1": [model.MemoryChange(id="h", memory_id="m-1", user_id="ada", kind=model.ChangeKind.CREATE, at=NOW)]
        },
        entities=[model.Entity(name="Lisbon", kind="place")],
        relations=[model.Relation(source="user", predicate="lives in", target="Lisbon")],
        profile=model.Profile(user_id="ada", updated_at=NOW, display_name="Ada", preferences={"tone": "brief"}),
        conversations=[ExportedConversation(**msgspec.structs.asdict(chat), messages=[said])],
    )
    sent = to_wire(domain, wire.AccountExport)
    assert sent.conversations[0].messages[0].content == "Hi"
    assert sent.profile is not None and sent.profile.display_name == "Ada"
    _same_json(domain, sent)

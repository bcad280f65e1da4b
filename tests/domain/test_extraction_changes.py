"""Extraction over time: supersession and consolidation of what was extracted before; idempotency."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import msgspec
import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.consolidation import Consolidator, Operation
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import (
    ChangeKind,
    MemoryFilter,
)
from tests.domain.extraction_support import (
    USER,
    P,
    S,
    conversation_with,
    current,
    new_kit,
    service,
    unclaimed_service,
)

# ------------------------------------------------------------------ supersession


async def test_a_move_supersedes_the_old_location_and_retrieval_returns_the_new_one() -> None:
    kit = new_kit()
    extract = service(kit)
    first = await conversation_with(kit, ["I live in Paris."], "c1")
    await extract.extract(USER, "c1", first)
    [paris] = await current(kit)
    kit.clock.advance(timedelta(days=40))
    later = await conversation_with(kit, ["I moved from Paris to Berlin."], "c2")
    report = await extract.extract(USER, "c2", later)
    assert (report.added, report.superseded) == (0, 1)

    found = await kit.memories.search(USER, "where do I live?")
    contents = [r.memory.content for r in found]
    # The old home is history: still found, marked not current, and ranked below the current one.
    standing = {r.memory.content: r.current for r in found}
    assert standing == {"The user lives in Berlin": True, "The user lives in Paris": False}
    assert contents.index("The user lives in Berlin") < contents.index("The user lives in Paris")

    berlin = next(r.memory for r in found if r.memory.content == "The user lives in Berlin")
    old = await kit.memories.get(USER, paris.id)
    assert old.valid_until == kit.clock.now()
    assert old.superseded_by == berlin.id
    assert berlin.source_message_ids == (later[0],)
    assert [c.kind for c in await kit.memories.history(USER, paris.id)][-1] is ChangeKind.SUPERSEDE
    everything = await kit.memories.list(USER, MemoryFilter(current_only=False))
    assert {m.content for m in everything} == {"The user lives in Paris", "The user lives in Berlin"}


# What was said first, what was said later, how the report counts the change, and the one fact current after
# it: the later statement supersedes the earlier, or rewords it in place (an update) where it says the same
# fact has ended.
@pytest.mark.parametrize(
    ("first", "later", "counted", "now"),
    [
        ("I work at Google.", "I work for Microsoft.", "superseded", "The user works at Microsoft"),
        ("I love coffee.", "I hate coffee.", "superseded", "The user hates coffee"),
        ("I quit smoking.", "I started smoking again.", "superseded", "The user smokes"),
        ("I'm vegetarian.", "I eat meat again.", "superseded", "The user eats meat"),
        ("I'm vegan.", "I stopped being vegan.", "updated", "The user is no longer vegan"),
        (
            "I live in Madrid.",
            "I used to live in Madrid, but I'm in Seville now.",
            "superseded",
            "The user lives in Seville",
        ),
    ],
)
async def test_a_later_statement_replaces_what_it_changes(first: str, later: str, counted: str, now: str) -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, [first]))
    report = await extract.extract(USER, "c1", await conversation_with(kit, [later]))
    assert getattr(report, counted) == 1
    assert [m.content for m in await current(kit)] == [now]


async def test_a_habit_given_up_supersedes_the_habit_and_the_liking() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I love coffee. I drink coffee every day."]))
    ids = await conversation_with(kit, ["I don't drink coffee anymore."])
    report = await extract.extract(USER, "c1", ids)
    assert (report.added, report.superseded) == (0, 1)
    [stopped] = await current(kit)
    assert stopped.content == "The user doesn't drink coffee"
    everything = await kit.memories.list(USER, MemoryFilter(current_only=False))
    assert {m.superseded_by for m in everything if m.id != stopped.id} == {stopped.id}
    again = await unclaimed_service(kit).extract(USER, "c1", ids)
    assert (again.added, again.superseded, again.ignored) == (0, 0, 1)


async def test_no_longer_eating_meat_keeps_a_diet_it_agrees_with() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I'm vegetarian. I love pizza."]))
    report = await extract.extract(USER, "c1", await conversation_with(kit, ["I no longer eat meat."]))
    assert (report.added, report.superseded) == (1, 0)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I don't eat breakfast."]))
    assert {m.content for m in await current(kit)} == {
        "The user is vegetarian",
        "The user loves pizza",
        "The user doesn't eat meat",
        "The user doesn't eat breakfast",
    }


async def test_a_second_sister_does_not_replace_the_first() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["My sister is called Anna."]))
    await extract.extract(USER, "c1", await conversation_with(kit, ["My sister is called Eva."]))
    assert {m.content for m in await current(kit)} == {"The user's sister is Anna", "The user's sister is Eva"}


async def test_a_restatement_is_ignored_and_a_rewording_updates() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I like jazz."]))
    [liked] = await current(kit)
    again = await extract.extract(USER, "c1", await conversation_with(kit, ["I like jazz!"]))
    assert (again.added, again.ignored) == (0, 1)
    stronger = await extract.extract(USER, "c1", await conversation_with(kit, ["I love jazz."]))
    assert stronger.updated == 1
    [loved] = await current(kit)
    assert (loved.id, loved.content) == (liked.id, "The user loves jazz")


async def test_a_more_specific_value_updates_instead_of_superseding() -> None:
    kit = new_kit()
    consolidator = Consolidator(kit.memories, EnglishLanguage())
    base = FactCandidate(type=P, content="The user lives in Berlin", slot="location", value="Berlin")
    await consolidator.apply(
        USER, await consolidator.decide(USER, msgspec.structs.replace(base, source_message_ids=("a",)))
    )
    finer = FactCandidate(
        type=P,
        content="The user lives in Berlin, Germany",
        slot="location",
        value="Berlin, Germany",
        source_message_ids=("b",),
    )
    decision = await consolidator.decide(USER, finer)
    assert decision.operation is Operation.UPDATE
    await consolidator.apply(USER, decision)
    [memory] = await current(kit)
    assert memory.content == "The user lives in Berlin, Germany"
    assert memory.source_message_ids[-1] == "b"
    assert len(memory.source_message_ids) == len(set(memory.source_message_ids))


async def test_an_unslotted_fact_restated_with_more_detail_updates_it() -> None:
    kit = new_kit()
    consolidator = Consolidator(kit.memories, EnglishLanguage())
    short = FactCandidate(type=S, content="The user plays the guitar", source_message_ids=("a",))
    await consolidator.apply(USER, await consolidator.decide(USER, short))
    longer = FactCandidate(type=S, content="The user plays the guitar in a jazz band", source_message_ids=("b",))
    decision = await consolidator.decide(USER, longer)
    assert decision.operation is Operation.UPDATE
    await consolidator.apply(USER, decision)
    assert [m.content for m in await current(kit)] == ["The user plays the guitar in a jazz band"]


# ------------------------------------------------------------------ idempotency


async def test_extracting_the_same_batch_twice_adds_nothing_the_second_time() -> None:
    kit = new_kit()
    extract = service(kit)
    ids = await conversation_with(kit, ["I'm Maria. I live in Lisbon and I love fado."])
    first = await extract.extract(USER, "c1", ids)
    before = sorted(m.id for m in await current(kit))
    second = await extract.extract(USER, "c1", ids)
    assert first.added == 3 and not first.already_done
    # A finished batch is skipped up front: nothing is extracted or consolidated again.
    assert (second.added, second.updated, second.superseded, second.ignored) == (0, 0, 0, 0)
    assert second.already_done
    # Redone after a crash before its claim, every memory is met again and ignored.
    redone = await unclaimed_service(kit).extract(USER, "c1", ids)
    assert (redone.added, redone.updated, redone.superseded, redone.ignored) == (0, 0, 0, 3)
    assert sorted(m.id for m in await current(kit)) == before


async def test_concurrent_extractions_of_one_batch_create_no_duplicates() -> None:
    kit = new_kit()
    ids = await conversation_with(
        kit, ["I'm Maria. I live in Lisbon. My dog is called Bolt. I'm going to Porto tomorrow."]
    )
    workers = [service(kit) for _ in range(4)]
    await asyncio.gather(*(w.extract(USER, "c1", ids) for w in workers))
    memories = await current(kit)
    assert len(memories) == 4
    assert len({m.content for m in memories}) == 4


async def test_a_retried_supersession_keeps_one_successor() -> None:
    kit = new_kit()
    extract = service(kit)
    await extract.extract(USER, "c1", await conversation_with(kit, ["I live in Paris."]))
    ids = await conversation_with(kit, ["I moved to Berlin."])
    await asyncio.gather(extract.extract(USER, "c1", ids), extract.extract(USER, "c1", ids))
    await extract.extract(USER, "c1", ids)
    everything = await kit.memories.list(USER, MemoryFilter(current_only=False))
    assert sorted(m.content for m in everything) == ["The user lives in Berlin", "The user lives in Paris"]

"""EntityGraph contract: every adapter behaves the same."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Entity, Relation, new_id
from jyntrix_domain.ports import EntityGraph


@pytest.fixture
def graph(storage: Storage) -> EntityGraph:
    return storage.graph


def rel(source: str, predicate: str, target: str) -> Relation:
    return Relation(source=source, predicate=predicate, target=target)


async def chain(graph: EntityGraph, user: str, *names: str) -> None:
    """Link names[0] - names[1] - ... each by its own memory."""
    for a, b in itertools.pairwise(names):
        await graph.link(user, f"m-{a}-{b}", [Entity(name=a), Entity(name=b)], [rel(a, "knows", b)])


async def test_link_round_trip_with_normalised_keys(graph: EntityGraph, user: str) -> None:
    await graph.link(
        user,
        "m1",
        [Entity(name="Anna", kind="person"), Entity(name="Acme  Corp", kind="org")],
        [rel("Anna", "works at", "ACME corp")],
    )
    assert await graph.entities(user) == [Entity(name="Acme  Corp", kind="org"), Entity(name="Anna", kind="person")]
    assert await graph.relations(user) == [
        Relation(source="anna", predicate="works at", target="acme corp", memory_id="m1")
    ]
    assert await graph.mentions(user, ["ANNA", "acme corp"], 10) == [("m1", "acme corp"), ("m1", "anna")]


async def test_relation_endpoints_become_entities(graph: EntityGraph, user: str) -> None:
    await graph.link(user, "m1", [], [rel("Anna", "lives in", "Berlin")])
    assert {e.name for e in await graph.entities(user)} == {"Anna", "Berlin"}
    assert await graph.mentions(user, ["anna", "berlin"], 10) == []
    assert await graph.neighbours(user, ["Anna"], 1) == {"anna": 0, "berlin": 1}


async def test_related_follows_a_source_by_its_predicates_each_target_once(graph: EntityGraph, user: str) -> None:
    await graph.link(user, "m1", [Entity(name="Tom", kind="person")], [rel("user", "husband", "Tom")])
    await graph.link(user, "m2", [Entity(name="Ella")], [rel("user", "daughter", "Ella"), rel("Tom", "son", "Max")])
    await graph.link(user, "m3", [], [rel("USER", "husband", "tom")])
    assert [(e.name, e.kind) for e in await graph.related(user, "user", ["husband"])] == [("Tom", "person")]
    assert [e.name for e in await graph.related(user, "user", ["husband", "daughter"])] == ["Tom", "Ella"]
    assert await graph.related(user, "user", ["son"]) == []
    assert await graph.related(user, "user", []) == []
    assert await graph.related(new_id(), "user", ["husband"]) == []


async def test_a_specific_kind_is_not_overwritten_by_the_default(graph: EntityGraph, user: str) -> None:
    await graph.link(user, "m1", [Entity(name="Anna", kind="person")])
    await graph.link(user, "m2", [Entity(name="anna")])
    await graph.link(user, "m3", [], [rel("ANNA", "likes", "tea")])
    assert [(e.name, e.kind) for e in await graph.entities(user) if e.name.lower() == "anna"] == [("anna", "person")]
    await graph.link(user, "m4", [Entity(name="Anna", kind="pet")])
    assert ("Anna", "pet") in [(e.name, e.kind) for e in await graph.entities(user)]


async def test_relinking_a_memory_adds_nothing_twice(graph: EntityGraph, user: str) -> None:
    for _ in range(3):
        await graph.link(user, "m1", [Entity(name="Anna"), Entity(name="anna")], [rel("Anna", "likes", "Tea")] * 2)
    assert len(await graph.relations(user)) == 1
    assert await graph.mentions(user, ["anna"], 10) == [("m1", "anna")]


async def test_neighbours_respect_depth_and_count_hops(graph: EntityGraph, user: str) -> None:
    await chain(graph, user, "a", "b", "c", "d")
    assert await graph.neighbours(user, ["a"], 0) == {"a": 0}
    assert await graph.neighbours(user, ["a"], 1) == {"a": 0, "b": 1}
    assert await graph.neighbours(user, ["a"], 2) == {"a": 0, "b": 1, "c": 2}
    assert await graph.neighbours(user, ["a"], 10) == {"a": 0, "b": 1, "c": 2, "d": 3}


async def test_neighbours_traverse_relations_in_both_directions(graph: EntityGraph, user: str) -> None:
    await chain(graph, user, "a", "b", "c")
    assert await graph.neighbours(user, ["c"], 2) == {"c": 0, "b": 1, "a": 2}
    assert await graph.neighbours(user, ["B"], 1) == {"b": 0, "a": 1, "c": 1}


async def test_neighbours_take_the_shortest_path_through_cycles(graph: EntityGraph, user: str) -> None:
    await chain(graph, user, "a", "b", "c", "d", "e", "a")
    assert await graph.neighbours(user, ["a"], 5) == {"a": 0, "b": 1, "e": 1, "c": 2, "d": 2}
    assert await graph.neighbours(user, ["a", "c"], 1) == {"a": 0, "c": 0, "b": 1, "d": 1, "e": 1}


async def test_neighbours_ignore_unknown_names_and_refuse_negative_depth(graph: EntityGraph, user: str) -> None:
    await chain(graph, user, "a", "b")
    assert await graph.neighbours(user, ["nobody", ""], 3) == {}
    assert await graph.neighbours(user, [], 3) == {}
    with pytest.raises(Invalid):
        await graph.neighbours(user, ["a"], -1)


async def test_mentions_are_most_recent_first_and_limited(graph: EntityGraph, user: str) -> None:
    for i in range(5):
        await graph.link(user, f"m{i}", [Entity(name="Tea")])
    await graph.link(user, "other", [Entity(name="Coffee")])
    assert await graph.mentions(user, ["tea"], 3) == [("m4", "tea"), ("m3", "tea"), ("m2", "tea")]
    assert await graph.mentions(user, ["tea", "coffee"], 2) == [("other", "coffee"), ("m4", "tea")]
    assert await graph.mentions(user, ["tea"], 0) == []
    assert await graph.mentions(user, ["unknown"], 5) == []


async def test_unlink_forgets_the_memorys_mentions_and_relations_only(graph: EntityGraph, user: str) -> None:
    await graph.link(user, "m1", [Entity(name="Anna"), Entity(name="Berlin")], [rel("Anna", "lives in", "Berlin")])
    await graph.link(
        user, "m2", [Entity(name="Anna")], [rel("Anna", "lives in", "Berlin"), rel("Anna", "likes", "tea")]
    )
    await graph.unlink(user, "m2")
    assert await graph.relations(user) == [
        Relation(source="anna", predicate="lives in", target="berlin", memory_id="m1")
    ]
    assert await graph.mentions(user, ["anna"], 10) == [("m1", "anna")]
    assert await graph.neighbours(user, ["anna"], 1) == {"anna": 0, "berlin": 1}
    await graph.unlink(user, "m1")
    assert await graph.relations(user) == []
    assert await graph.neighbours(user, ["anna"], 1) == {"anna": 0}
    await graph.unlink(user, "never-linked")


async def test_empty_graph(graph: EntityGraph, user: str) -> None:
    assert await graph.entities(user) == []
    assert await graph.relations(user) == []
    assert await graph.neighbours(user, ["a"], 2) == {}
    assert await graph.mentions(user, ["a"], 5) == []
    await graph.link(user, "m1", [])
    await graph.forget_user(user)


async def test_another_users_graph_is_never_returned_nor_changed(graph: EntityGraph, user: str) -> None:
    intruder = new_id()
    await chain(graph, user, "anna", "berlin")
    await graph.link(intruder, "x", [Entity(name="Anna")], [rel("Anna", "knows", "Mallory")])

    assert await graph.neighbours(intruder, ["anna"], 3) == {"anna": 0, "mallory": 1}
    assert await graph.mentions(intruder, ["berlin"], 10) == []
    assert {e.name for e in await graph.entities(intruder)} == {"Anna", "Mallory"}
    await graph.unlink(intruder, "m-anna-berlin")
    await graph.forget_user(intruder)

    assert await graph.entities(intruder) == []
    assert await graph.neighbours(user, ["anna"], 3) == {"anna": 0, "berlin": 1}
    assert await graph.mentions(user, ["anna"], 10) == [("m-anna-berlin", "anna")]


async def test_forget_user_removes_entities_relations_and_mentions(graph: EntityGraph, user: str) -> None:
    await chain(graph, user, "a", "b", "c")
    await graph.forget_user(user)
    assert await graph.entities(user) == []
    assert await graph.relations(user) == []
    assert await graph.mentions(user, ["a", "b"], 10) == []
    assert await graph.neighbours(user, ["a"], 3) == {}


async def test_unicode_names_are_keyed_by_casefold(graph: EntityGraph, user: str) -> None:
    await graph.link(
        user, "m1", [Entity(name="Straße", kind="place"), Entity(name="東京")], [rel("STRASSE", "nahe", "東京")]
    )
    assert [e.name for e in await graph.entities(user)] == ["Straße", "東京"]
    assert await graph.neighbours(user, ["strasse"], 1) == {"strasse": 0, "東京": 1}
    assert await graph.mentions(user, ["STRASSE"], 5) == [("m1", "strasse")]


async def test_overlong_names_are_refused(graph: EntityGraph, user: str) -> None:
    with pytest.raises(Invalid):
        await graph.link(user, "m1", [Entity(name="x" * 100_000)])
    with pytest.raises(Invalid):
        await graph.link(user, "m1", [], [rel("a", "p" * 201, "b")])
    await graph.link(user, "m1", [Entity(name="東" * 200)], [rel("東" * 200, "p" * 200, "b")])
    assert await graph.neighbours(user, ["b"], 1) == {"b": 0, "東" * 200: 1}


async def test_concurrent_links_on_shared_entities_all_land(graph: EntityGraph, user: str) -> None:
    people = [f"person {i}" for i in range(30)]
    await asyncio.gather(
        *(
            graph.link(
                user, f"m{i}", [Entity(name=p), Entity(name="Hub")], [rel(p, "near", "hub"), rel("hub", "near", p)]
            )
            for i, p in enumerate(people)
        )
    )
    assert len(await graph.entities(user)) == 31
    assert len(await graph.relations(user)) == 60
    assert len(await graph.mentions(user, ["hub"], 100)) == 30
    assert await graph.neighbours(user, ["person 0"], 2) == {"person 0": 0, "hub": 1} | {p: 2 for p in people[1:]}

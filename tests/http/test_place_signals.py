"""A transcript's turns carry their place: /search and the SSE context event show the place signals."""

from __future__ import annotations

from typing import Any

from jyntrix_domain.signals import PLACE_SIGNALS, SIGNAL_NAMES
from tests.http.sse import parse_events
from testsupport.app import Client, drain_tasks

SAID = [
    ("Caroline", "I went to a support group yesterday."),
    ("Melanie", "Oh nice, how did that feel?"),
    ("Caroline", "It was powerful, everyone there was so accepting."),
    ("Melanie", "My kids painted a sunrise at school."),
]


async def import_dialogue(client: Client, headers: dict[str, str]) -> None:
    body = {
        "title": "session 1",
        "messages": [
            {"role": "user", "name": name, "content": text, "created_at": "2023-05-08T13:56:00Z", "id": f"D1:{n}"}
            for n, (name, text) in enumerate(SAID, start=1)
        ],
    }
    response = await client.post("/api/chat/conversations/import", json=body, headers=headers)
    assert response.status_code == 201, response.text


def by_content(results: list[dict[str, Any]], start: str) -> dict[str, float]:
    signals: dict[str, float] = next(r["scores"]["signals"] for r in results if start in r["memory"]["content"])
    return signals


async def test_search_breaks_out_the_neighbour_session_and_speaker_signals(
    client: Client, headers: dict[str, str]
) -> None:
    await import_dialogue(client, headers)
    query = {"query": "What did Caroline think of the support group?", "limit": 10, "kind": ["turn"]}
    response = await client.post("/api/memories/search", json=query, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(set(r["scores"]["signals"]) == set(SIGNAL_NAMES) for r in results)
    group = by_content(results, "Caroline: I went to a support group")
    # The query names Caroline, who said it; its conversation's best match is itself.
    assert group["speaker"] == 1.0
    assert group["session"] > 0
    reply = by_content(results, "Melanie: Oh nice")
    # Said by Melanie, just after the best match: lifted by its neighbour, not by its speaker.
    assert reply["speaker"] == 0.0
    assert reply["neighbour"] > 0
    weights = results[0]["scores"]["weights"]
    assert all(weights[name] > 0 for name in PLACE_SIGNALS)


async def test_the_context_event_carries_the_place_signals(client: Client, headers: dict[str, str]) -> None:
    await import_dialogue(client, headers)
    response = await client.post(
        "/api/chat/messages/stream", json={"content": "How did Caroline feel at the support group?"}, headers=headers
    )
    assert response.status_code == 200, response.text
    context = next(e for e in parse_events(response.text) if e.event == "context").data
    # (The first turn's fact stands in for it in the context; the turn after it is Caroline's too.)
    turn = next(m for m in context["memories"] if m["content"].startswith("Caroline: It was powerful"))
    signals = turn["scores"]["signals"]
    assert set(signals) == set(SIGNAL_NAMES)
    assert signals["speaker"] == 1.0 and signals["session"] > 0


async def test_search_results_come_in_the_order_of_the_scores_they_show(
    client: Client, headers: dict[str, str]
) -> None:
    await import_dialogue(client, headers)
    drain_tasks(client)  # the turns' facts, which the rule "a fact before its turn" places
    query = {"query": "What did Caroline think of the support group?", "limit": 20}
    response = await client.post("/api/memories/search", json=query, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) > 1
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for r in results:
        explained = r["scores"]
        assert abs(sum(explained["contributions"].values()) + explained["adjustment"] - r["score"]) < 1e-9
        assert (explained["adjustment"] > 0) == (explained["adjusted_by"] is not None)

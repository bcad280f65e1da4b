"""The BEAM bench's reading, scoring and baselines on a tiny BEAM-shaped chat written here (never the real data).

No server: the Jyntrix side is scored from search results as the route shapes them, and the dense baseline
runs on the in-process hash embedder, so that the test checks the bench's own logic and nothing else.
"""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_CONTENT_CHARS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import beam_recall
from beam_data import Chat, load_chats
from recall_baselines import Baselines, rrf


def message(role: str, id_: int, content: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "id": id_, "content": content, **extra}


BATCHES = [
    {
        "batch_number": 1,
        "time_anchor": None,
        "turns": [
            [
                message("user", 0, "I adopted a greyhound called Pixel ->-> 1,1", time_anchor="March-15-2024"),
                message("assistant", 1, "Greyhounds love short sprints and long naps."),
            ],
            [
                message("user", 2, "My sourdough starter is named Bubbles ->-> 1,2"),
                message("assistant", 3, "Feed the starter flour and water every day." + " Stir." * 5000),
            ],
        ],
    },
    {
        "batch_number": 2,
        "time_anchor": None,
        "turns": [
            [
                message(
                    "user",
                    4,
                    "I moved to Lisbon for a new job ->-> 2,(rephrase this detail)",
                    time_anchor="May-02-2024",
                ),
                message("assistant", 5, "Lisbon has great pastel de nata near the river."),
            ],
            [
                message("user", 6, "Pixel now sleeps on the sofa every afternoon"),
                message("assistant", 7, "A sofa is a greyhound's favourite place."),
            ],
        ],
    },
]
PROBING = {
    "abstention": [{"question": "What is my sister's name?"}],
    "information_extraction": [
        {"question": "What is my greyhound called?", "source_chat_ids": [0]},
        {"question": "Which pastry did you suggest in Lisbon?", "source_chat_ids": [5]},
    ],
    "event_ordering": [{"question": "Greyhound then Lisbon: in what order?", "source_chat_ids": [[0, 6], 4]}],
    "knowledge_update": [
        {"question": "Where does Pixel sleep?", "source_chat_ids": {"original_info": [0], "updated_info": [6]}}
    ],
}


@pytest.fixture
def chat(tmp_path: Path) -> Chat:
    folder = tmp_path / "7"
    folder.mkdir()
    (folder / "chat.json").write_text(json.dumps(BATCHES))
    (folder / "probing_questions.json").write_text(json.dumps(PROBING))
    (loaded,) = load_chats(tmp_path)
    return loaded


def test_a_chat_reads_as_dated_sessions_with_flattened_evidence(chat: Chat) -> None:
    assert [s.number for s in chat.sessions] == ["1", "2"]
    assert [s.at.date().isoformat() for s in chat.sessions] == ["2024-03-15", "2024-05-02"]
    turns = chat.turns()
    assert [t.id for t in turns] == [str(n) for n in range(8)]
    assert turns[0].content == "I adopted a greyhound called Pixel"
    assert turns[4].content == "I moved to Lisbon for a new job"
    assert len(turns[3].content) == MAX_TRANSCRIPT_CONTENT_CHARS and chat.truncated == 1

    by_text = {q.text: q for q in chat.questions}
    assert "What is my sister's name?" not in by_text  # no evidence: not asked
    assert by_text["Greyhound then Lisbon: in what order?"].evidence == {"0", "4", "6"}
    assert by_text["Where does Pixel sleep?"].evidence == {"0", "6"}

    bodies = beam_recall.transcripts(chat)
    assert [len(b["messages"]) for b in bodies] == [4, 4]
    assert bodies[1]["messages"][1] == {
        "role": "assistant",
        "content": "Lisbon has great pastel de nata near the river.",
        "created_at": "2024-05-02T00:00:00+00:00",
        "id": "5",
    }


def test_the_track_tarball_reads_as_its_unpacked_folders(chat: Chat, tmp_path: Path) -> None:
    archive = tmp_path / "packed" / "beam-500K.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "7", arcname="7")
    assert load_chats(archive.parent) == [chat]


def test_questions_are_taken_across_the_categories_in_turn(chat: Chat) -> None:
    assert [q.category for q in beam_recall.asked(chat, 3)] == [
        "information_extraction",
        "event_ordering",
        "knowledge_update",
    ]
    assert len(beam_recall.asked(chat, None)) == 4


def test_a_result_credits_one_evidence_turn_and_a_wide_memory_none(chat: Chat) -> None:
    question = next(q for q in chat.questions if q.text.startswith("Greyhound then Lisbon"))
    cites: list[list[str | None]] = [
        ["0", "1", "2", "4"],  # a summary-like memory citing four messages: no credit
        ["0", "6"],  # a fact drawn from two evidence turns: one of them
        [None],  # a memory of no known message
        ["6"],
    ]
    (row,) = beam_recall.scored(chat, [question], [cites])
    assert row["turn@5"] == pytest.approx(2 / 3)  # turns 0 and 6, never 4
    assert row["session@5"] == 1.0  # sessions 1 and 2
    assert row["turn@5"] == row["turn@10"] == row["turn@20"]


def test_baselines_rank_each_scope_and_fuse_them(chat: Chat) -> None:
    questions = beam_recall.asked(chat, None)
    embedder = HashEmbedder()
    vectors = beam_recall.embed(embedder, [t.content for t in chat.turns()], None)
    queries = beam_recall.embed(embedder, [q.text for q in questions], None)
    assert vectors.shape == (8, embedder.dimension)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)

    cites = beam_recall.baseline_cites(chat, questions, vectors, queries)
    assert set(cites) == set(beam_recall.SYSTEMS) - {"jyntrix"}
    assistant = {t.id for t in chat.turns() if t.role == "assistant"}
    for name in ("bm25_user", "dense_user", "rrf_user"):
        assert all(c[0] not in assistant for ranked in cites[name] for c in ranked)

    pastry = next(n for n, q in enumerate(questions) if "pastry" in q.text)
    greyhound = next(n for n, q in enumerate(questions) if q.text == "What is my greyhound called?")
    assert cites["bm25_all"][greyhound][0] == ["0"]  # the one turn with both "greyhound" and "called"
    # "Lisbon" is in a user turn and in the assistant's: only the search over all turns can find the latter.
    assert ["5"] in cites["bm25_all"][pastry][:2]
    assert ["5"] not in cites["bm25_user"][pastry]

    rows = {name: beam_recall.scored(chat, questions, found) for name, found in cites.items()}
    report = beam_recall.summary(rows["rrf_all"])
    assert set(report) == {"turn", "session", "by_type"}
    assert report["by_type"]["information_extraction"]["questions"] == 2
    assert set(report["turn"]) == {"recall@5", "recall@10", "recall@20"}
    # Eight turns and k >= 5: every system that ranks every turn finds every session.
    assert report["session"]["recall@10"] == 1.0


def test_bm25_ranks_only_matching_documents_and_rrf_favours_agreement() -> None:
    texts = ["the greyhound sleeps", "sourdough starter", "a greyhound and a sourdough loaf"]
    baselines = Baselines(texts, np.eye(3, dtype=np.float32))
    assert baselines.bm25("sourdough", 10) == [1, 2]
    assert baselines.bm25("the a", 10) == []  # stopwords only
    assert baselines.dense(np.array([0.0, 0.0, 1.0], dtype=np.float32), 2) == [2, 0]
    # 1/61 + 1/63 > 2/62: first and third place in two lists beat second place in both; a tie goes to index order.
    assert rrf([[0, 1, 2], [2, 1, 0]], 3) == [0, 2, 1]
    assert rrf([[5, 6], [6, 5], [6]], 1) == [6]


def test_evidence_said_by_the_assistant_is_counted_and_caps_user_turn_recall(chat: Chat) -> None:
    questions = beam_recall.asked(chat, None)
    shares = beam_recall.evidence([(chat, questions)])
    # Evidence messages: {0}, {5}, {0, 4, 6}, {0, 6}: 7 in all, one of them the assistant's.
    assert (shares["messages"], shares["in_assistant_turns"]) == (7, 1)
    assert shares["questions_only_assistant_evidence"] == 1
    assert shares["user_turn_ceiling"]["recall@5"] == pytest.approx(3 / 4)


def test_embedding_is_cached_for_the_same_texts_only(tmp_path: Path) -> None:
    cache = tmp_path / "7.npy"
    first = beam_recall.embed(HashEmbedder(), ["a greyhound", "a loaf"], cache)
    assert np.array_equal(beam_recall.embed(HashEmbedder(dimension=16), ["a greyhound", "a loaf"], cache), first)
    assert beam_recall.embed(HashEmbedder(dimension=16), ["a cat"], cache).shape == (1, 16)

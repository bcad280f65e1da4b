"""Transcript files: the project's JSON and JSON Lines, ChatGPT exports (JSON and .zip), and refusals that say where."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jyntrix_client.transcript_files import TranscriptFileError, chunks, read_transcripts

T0 = 1_683_554_160.0  # 2023-05-08T13:56:00Z


def node(
    node_id: str,
    parent: str | None,
    children: list[str],
    role: str | None = None,
    text: Any = None,
    at: float | None = None,
    **message: Any,
) -> dict[str, Any]:
    found: dict[str, Any] = {"id": node_id, "parent": parent, "children": children, "message": None}
    if role is not None:
        content = text if isinstance(text, dict) else {"content_type": "text", "parts": [text]}
        found["message"] = {
            "id": f"msg-{node_id}",
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": at,
            "content": content,
            "metadata": message.pop("metadata", {}),
            **message,
        }
    return found


def chatgpt_export() -> list[dict[str, Any]]:
    """One conversation whose second answer was regenerated: the current branch takes the new one."""
    mapping = {
        "root": node("root", None, ["sys"]),
        "sys": node("sys", "root", ["u1"], "system", "You are ChatGPT.", T0),
        "u1": node("u1", "sys", ["a1"], "user", "We adopted a greyhound called Pip.", T0 + 1),
        "a1": node("a1", "u1", ["u2"], "assistant", "Lovely! How is Pip settling in?", T0 + 2),
        "u2": node("u2", "a1", ["a2-old", "a2-new"], "user", "Well, he sleeps all day.", None),
        "a2-old": node("a2-old", "u2", [], "assistant", "An old answer nobody kept.", T0 + 4),
        "a2-new": node("a2-new", "u2", ["tool", "hidden"], "assistant", "Greyhounds love naps.", T0 + 5),
        "tool": node("tool", "a2-new", [], "tool", "search results", T0 + 6),
        "hidden": node(
            "hidden",
            "a2-new",
            ["img"],
            "user",
            "context the UI hides",
            T0 + 7,
            metadata={"is_visually_hidden_from_conversation": True},
        ),
        "img": node(
            "img",
            "hidden",
            [],
            "user",
            {"content_type": "multimodal_text", "parts": [{"asset_pointer": "file-1"}, "Here he is on the sofa."]},
            T0 + 8,
        ),
    }
    empty = {"root": node("root", None, ["s"]), "s": node("s", "root", [], "system", "sys only", T0)}
    return [
        {"title": "Pip", "create_time": T0, "current_node": "img", "mapping": mapping, "id": "c-1"},
        {"title": "Nothing said", "create_time": T0, "current_node": "s", "mapping": empty, "id": "c-2"},
    ]


def test_chatgpt_export_follows_the_current_branch_with_the_messages_own_times(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(chatgpt_export()))
    (transcript,) = read_transcripts(path)  # the system-only conversation has nothing to import
    assert transcript.title == "Pip"
    assert [(m.role, m.content) for m in transcript.messages] == [
        ("user", "We adopted a greyhound called Pip."),
        ("assistant", "Lovely! How is Pip settling in?"),
        ("user", "Well, he sleeps all day."),
        ("assistant", "Greyhounds love naps."),
        ("user", "Here he is on the sofa."),
    ]
    assert transcript.messages[0].created_at == datetime(2023, 5, 8, 13, 56, 1, tzinfo=UTC)
    # A message without its own time takes the one before it.
    assert transcript.messages[2].created_at == transcript.messages[1].created_at
    assert [m.id for m in transcript.messages] == ["msg-u1", "msg-a1", "msg-u2", "msg-a2-new", "msg-img"]


def test_chatgpt_export_zip_reads_conversations_json_inside(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("chat.html", "<html></html>")
        archive.writestr("conversations.json", json.dumps(chatgpt_export()))
    (transcript,) = read_transcripts(path)
    assert len(transcript.messages) == 5


def test_zip_without_conversations_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hi")
    with pytest.raises(TranscriptFileError, match=r"no conversations\.json"):
        read_transcripts(path)


def test_chatgpt_conversation_without_a_tree_names_the_conversation(tmp_path: Path) -> None:
    export = chatgpt_export()
    export.append({"title": "Broken one", "create_time": T0, "current_node": "x"})
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(export))
    with pytest.raises(TranscriptFileError, match=r"conversation 3 \(Broken one\)"):
        read_transcripts(path)


def own_body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Interview",
        "messages": [
            {
                "role": "user",
                "name": "Caroline",
                "content": "I went to a support group.",
                "created_at": "2023-05-08T13:56:00Z",
            },
            {"role": "user", "name": "Melanie", "content": "How was it?", "created_at": "2023-05-08T13:57:00+00:00"},
        ],
        **extra,
    }


def test_own_shape_keeps_names_and_adds_no_ids_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(own_body()))
    (first,) = read_transcripts(path)
    assert [m.name for m in first.messages] == ["Caroline", "Melanie"]
    # The route derives the ids of messages that bring none, as it does for any client sending the same body.
    assert [m.id for m in first.messages] == [None, None]
    body = first.body()
    assert all("id" not in m or m["id"] is None for m in body["messages"])
    assert body["title"] == "Interview" and body["messages"][0]["name"] == "Caroline"
    assert body["messages"][0]["created_at"] == "2023-05-08T13:56:00Z"


def test_json_lines_error_names_the_line(tmp_path: Path) -> None:
    good = json.dumps(own_body())
    bad = own_body()
    bad["messages"][1]["created_at"] = "2023-05-08T13:57:00"
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([good, "", good, json.dumps(bad)]) + "\n")
    with pytest.raises(TranscriptFileError, match=r"line 4: messages\[1\]\.created_at: .* has no timezone"):
        read_transcripts(path)
    path.write_text(good + "\n{not json\n")
    with pytest.raises(TranscriptFileError, match="line 2: not JSON"):
        read_transcripts(path)


def test_json_lines_read_every_transcript(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(own_body()) + "\n" + json.dumps(own_body(title="Second")) + "\n")
    assert [t.title for t in read_transcripts(path)] == ["Interview", "Second"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"role": "system"}, r"messages\[0\]\.role: must be 'user' or 'assistant'"),
        ({"content": "  "}, r"messages\[0\]\.content: must be non-empty text"),
        ({"created_at": "yesterday"}, r"messages\[0\]\.created_at: 'yesterday' is not an ISO 8601 time"),
        ({"created_at": 12}, r"messages\[0\]\.created_at: must be an ISO 8601 time"),
        ({"metadata": []}, r"messages\[0\]\.metadata: must be an object"),
        ({"colour": "red"}, r"messages\[0\]: unknown field\(s\) colour"),
        ({"id": "same"}, None),
    ],
)
def test_bad_messages_are_refused_with_their_place(tmp_path: Path, change: dict[str, Any], message: str | None) -> None:
    body = own_body()
    body["messages"][0].update(change)
    if message is None:  # a duplicated client id
        body["messages"][1]["id"] = "same"
        message = r"messages\[1\]\.id 'same' appears twice"
    path = tmp_path / "t.json"
    path.write_text(json.dumps(body))
    with pytest.raises(TranscriptFileError, match=message):
        read_transcripts(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("[1, 2]", "a JSON list must be a ChatGPT export"),
        ('{"messages": []}', "'messages' must be a non-empty list"),
        ('"text"', "a plain-text transcript starts with a speaker"),
        ("12", "a plain-text transcript starts with a speaker"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(TranscriptFileError, match=message):
        read_transcripts(path)


def test_missing_and_binary_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TranscriptFileError, match="no such file"):
        read_transcripts(tmp_path / "absent.json")
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TranscriptFileError, match="not UTF-8"):
        read_transcripts(path)


def test_chunks_split_long_transcripts_for_the_route(tmp_path: Path) -> None:
    body = own_body()
    body["messages"] = [
        {"role": "user", "content": f"message {i}", "created_at": "2023-05-08T13:56:00Z"} for i in range(2_345)
    ]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(body))
    (transcript,) = read_transcripts(path)
    parts = chunks(transcript, 1_000)
    assert [len(p) for p in parts] == [1_000, 1_000, 345]
    assert transcript.body(parts[1], conversation_id="c-9")["conversation_id"] == "c-9"

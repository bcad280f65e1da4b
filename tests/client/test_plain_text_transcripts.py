"""Plain-text transcripts: `Name: text` lines, roles and speakers, continuation lines, and where times come from."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jyntrix_client.transcript_files import TranscriptFileError, read_transcripts

MODIFIED = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    os.utime(path, (MODIFIED.timestamp(), MODIFIED.timestamp()))
    return path


def test_roles_in_any_case_speakers_and_continuation_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path / "chat.txt",
        "USER: I adopted a beagle.\n"
        "\n"
        "assistant: Lovely! What is her name?\n"
        "Caroline: Biscuit. She is two.\n"
        "She came from a shelter in Porto.\n"
        "[1] is the shelter's page.\n"
        "\n"
        "We picked her up on Sunday: see https://example.org/biscuit\n"
        "\n"
        "Mary Jo O'Neil: at 10:30 we met her.\n",
    )
    (transcript,) = read_transcripts(path)
    assert [(m.role, m.name, m.content) for m in transcript.messages] == [
        ("user", None, "I adopted a beagle."),
        ("assistant", None, "Lovely! What is her name?"),
        (
            "user",
            "Caroline",
            "Biscuit. She is two.\nShe came from a shelter in Porto.\n[1] is the shelter's page.\n\n"
            "We picked her up on Sunday: see https://example.org/biscuit",
        ),
        ("user", "Mary Jo O'Neil", "at 10:30 we met her."),
    ]
    assert transcript.title is None and transcript.conversation_id is None
    assert all(m.id is None for m in transcript.messages)  # the route derives them, as for any client


def test_without_times_the_last_message_takes_the_files_modification_time(tmp_path: Path) -> None:
    path = write(tmp_path / "chat.txt", "User: one\nAssistant: two\nUser: three\n")
    (transcript,) = read_transcripts(path)
    assert [m.created_at for m in transcript.messages] == [
        MODIFIED - timedelta(seconds=2),
        MODIFIED - timedelta(seconds=1),
        MODIFIED,
    ]
    (again,) = read_transcripts(path)  # the same file, the same times: a second import adds nothing
    assert again == transcript


def test_given_times_are_kept_and_the_messages_without_one_are_a_second_apart(tmp_path: Path) -> None:
    path = write(
        tmp_path / "chat.txt",
        "User: before any time\n"
        "[2023-05-08T13:56:00Z] Caroline: I went to a support group.\n"
        "Assistant: How was it?\n"
        "2023-05-09 09:00:00+02:00 User: Good.\n"
        "Assistant: Glad to hear.\n",
    )
    (transcript,) = read_transcripts(path)
    at = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    next_day = datetime.fromisoformat("2023-05-09T09:00:00+02:00")
    assert [m.created_at for m in transcript.messages] == [
        at - timedelta(seconds=1),
        at,
        at + timedelta(seconds=1),
        next_day,
        next_day + timedelta(seconds=1),
    ]
    assert transcript.messages[1].name == "Caroline" and transcript.messages[3].content == "Good."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello there\nUser: hi\n", r"line 1: a plain-text transcript starts with a speaker"),
        ("User: hi\nAssistant:\n\nUser: still here?\n", r"line 2: Assistant says nothing"),
        ("[2023-05-08T13:56:00] User: hi\n", r"line 1: '2023-05-08T13:56:00' has no timezone"),
        ("[yesterday] User: hi\n", r"line 1: 'yesterday' is not an ISO 8601 time"),
        ("\n\n   \n", r"the file is empty"),
    ],
)
def test_what_cannot_be_read_is_refused_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TranscriptFileError, match=message):
        read_transcripts(write(tmp_path / "chat.txt", text))


def test_a_json_file_that_breaks_is_reported_as_json_not_as_text(tmp_path: Path) -> None:
    with pytest.raises(TranscriptFileError, match=r"not JSON"):
        read_transcripts(write(tmp_path / "t.json", '[{"mapping": {}}, '))

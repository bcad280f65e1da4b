"""`jyntrix import` given hostile or broken files: each is refused whole in a line or two, never hangs or balloons.

Cycles in a ChatGPT export's message tree, zip bombs (and a zip whose header lies about its size), JSON nested
past what Python can read, lone surrogates, files over the size limit, and a file whose second conversation
the route would refuse after the first went in.
"""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from jyntrix_client.transcript_files import TranscriptFileError, read_transcripts
from jyntrix_domain.model import MemoryFilter
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_CONTENT_CHARS
from tests.http.test_import_command import USER, Importer, conversation, write_jsonl

MB = 2**20
T0 = 1_683_554_160.0


def chatgpt_node(node_id: str, parent: str | None, children: list[str], text: str | None) -> dict[str, Any]:
    message = None
    if text is not None:
        message = {
            "id": f"msg-{node_id}",
            "author": {"role": "user"},
            "create_time": T0,
            "content": {"content_type": "text", "parts": [text]},
        }
    return {"id": node_id, "parent": parent, "children": children, "message": message}


def cyclic_export() -> list[dict[str, Any]]:
    """Three nodes, no current_node, and the last one's child is the one before it."""
    mapping = {
        "root": chatgpt_node("root", None, ["a"], None),
        "a": chatgpt_node("a", "root", ["b"], "hello"),
        "b": chatgpt_node("b", "a", ["a"], "again"),
    }
    return [{"title": "Loop", "create_time": T0, "mapping": mapping}]


def zip_of(path: Path, member: str, size: int, content: bytes = b"") -> Path:
    """A zip whose `member` inflates to `content` then `size` zero bytes, written a megabyte at a time."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open(member, "w", force_zip64=True) as handle,
    ):
        handle.write(content)
        zeros = bytes(MB)
        for _ in range(size // MB):
            handle.write(zeros)
    return path


def lying_zip(path: Path) -> Path:
    """A zip whose headers say conversations.json holds 100 bytes; it inflates to a megabyte."""
    zip_of(path, "conversations.json", MB)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("conversations.json")
    true_size = info.file_size.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    # The uncompressed size in the central directory (offset 24 of its header); zipfile reads that one.
    assert data[central + 24 : central + 28] == true_size
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.timeout(30)  # it used to loop forever
def test_a_cycle_in_the_message_tree_is_named_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(cyclic_export()))
    with pytest.raises(TranscriptFileError, match=r"conversation 1 \(Loop\): the message tree has a cycle at a"):
        read_transcripts(path)


def test_a_zip_bomb_is_refused_by_its_declared_size_before_inflating(tmp_path: Path) -> None:
    path = zip_of(tmp_path / "export.zip", "conversations.json", 64 * MB)
    assert path.stat().st_size < MB
    tracemalloc.start()
    try:
        with pytest.raises(TranscriptFileError, match=r"conversations\.json: inflates to 64\.0 MB, over the limit"):
            read_transcripts(path, max_bytes=8 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MB  # nothing was inflated


def test_a_zip_that_lies_about_its_size_is_read_no_further_than_it_says(tmp_path: Path) -> None:
    with pytest.raises(TranscriptFileError, match=r"export\.zip: a damaged or unreadable zip archive"):
        read_transcripts(lying_zip(tmp_path / "export.zip"))


def test_a_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b" " * (2 * MB))
    with pytest.raises(TranscriptFileError, match=r"big\.jsonl: 2\.0 MB or more, over the limit of 1\.0 MB"):
        read_transcripts(path, max_bytes=MB)


def export_titled(title: str) -> list[dict[str, Any]]:
    mapping = {"root": chatgpt_node("root", None, ["a"], None), "a": chatgpt_node("a", "root", [], "hello")}
    return [{"title": title, "create_time": T0, "mapping": mapping}]


# Nested past Python's recursion limit, and spaced as a transcript's JSON is, so that it is not refused as dense.
DEEP = ("[" + " " * 40) * 5_000
ONE_MESSAGE = '{"messages": [{"role": "user", "content": "%s", "created_at": "2023-05-08T13:56:00Z"}]}'


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deep.json", DEEP + "]" * 5_000, r"deep\.json: the JSON nests too deeply"),
        ("deep.jsonl", ONE_MESSAGE % "hi" + "\n" + '{"messages": ' + DEEP, r"line 2: the JSON nests too deeply"),
        ("dense.json", "[" + "{}," * 100_000 + "{}]", r"dense\.json: 100,002 JSON objects and lists in 0\.3 MB"),
        ("surrogate.json", ONE_MESSAGE % "mal\\ud800lory", r"messages\[0\]\.content: holds a lone surrogate"),
        ("conversations.json", json.dumps(export_titled("\ud800")), r"its title: holds a lone surrogate"),
        (
            "conversations.json",
            json.dumps(export_titled("fine")).replace("hello", "\\udc00"),
            r"its text: holds a lone",
        ),
    ],
)
def test_json_past_what_can_be_read_is_refused_with_where(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TranscriptFileError, match=message):
        read_transcripts(path)


# ------------------------------------------------------------------ through the command


def half_bad_file(tmp_path: Path) -> Path:
    """Conversation 1 is fine; conversation 2 has a message the route refuses (one character too long)."""
    second = conversation("Second", 2)
    second["messages"][1]["content"] = "x" * (MAX_TRANSCRIPT_CONTENT_CHARS + 1)
    return write_jsonl(tmp_path / "history.jsonl", [conversation("First", 2), second])


def unknown_conversation_file(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "history.jsonl",
        [conversation("First", 2), {**conversation("Second", 2), "conversation_id": "not-there"}],
    )


def damaged_zip(tmp_path: Path) -> Path:
    """A zip whose conversations.json's compressed data is overwritten: its directory is intact, its data is not."""
    path = zip_of(tmp_path / "export.zip", "conversations.json", MB)
    data = path.read_bytes()
    end = data.index(b"PK\x01\x02")  # the central directory, after the member's data
    start = 100  # past the member's local header
    path.write_bytes(data[:start] + b"\xff" * (end - start) + data[end:])  # 0xff: a block type deflate lacks
    return path


def files() -> dict[str, Any]:
    def text(name: str, content: str) -> Any:
        def make(tmp_path: Path) -> Path:
            path = tmp_path / name
            path.write_text(content)
            return path

        return make

    return {
        "cycle": (text("conversations.json", json.dumps(cyclic_export())), "has a cycle"),
        "zip bomb": (lambda p: zip_of(p / "export.zip", "conversations.json", 8 * MB), "inflates to 8.0 MB"),
        "lying zip": (lambda p: lying_zip(p / "export.zip"), "damaged or unreadable zip"),
        "damaged zip": (damaged_zip, "export.zip: a damaged or unreadable zip archive"),
        "deep JSON": (text("deep.json", DEEP), "nests too deeply"),
        "JSON bomb": (
            lambda p: zip_of(p / "export.zip", "conversations.json", 0, b"[" + b"{}," * (MB // 4) + b"{}]"),
            "262,146 JSON objects and lists in 0.8 MB, too many for a transcript",
        ),
        "surrogate": (text("s.json", ONE_MESSAGE % "\\udfff"), "lone surrogate"),
        "NUL": (text("n.json", ONE_MESSAGE % "a\\u0000b"), "messages[0]: strings must not contain NUL"),
        "metadata too deep": (
            text("m.json", ONE_MESSAGE.replace('"}]}', '", "metadata": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}]}")),
            "metadata may nest at most 32 levels deep",
        ),
        "half-bad": (half_bad_file, "messages[1]: Expected `str` of length <= 19798"),
        "unknown conversation": (unknown_conversation_file, "line 2: conversation_id: conversation not-there"),
    }


FILES = files()


@pytest.mark.parametrize("case", list(FILES))
async def test_a_bad_file_is_one_or_two_lines_and_nothing_stored(
    case: str, tmp_path: Path, importer: Importer, capsys: pytest.CaptureFixture[str]
) -> None:
    make, says = FILES[case]
    file = make(tmp_path)
    assert await importer.run(file, "--max-mb", "1") == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert 1 <= len(err.splitlines()) <= 2, err
    assert err.startswith("jyntrix import: ") and says in err, err
    assert await importer.storage.conversations.list(USER) == []
    assert await importer.storage.memories.list(USER, MemoryFilter(limit=10)) == []


@pytest.fixture
def importer(tmp_path: Path) -> Importer:
    return Importer(tmp_path)

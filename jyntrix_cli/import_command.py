"""`jyntrix import FILE --user ID`: a transcript file through the import path, with a progress bar.

The file (the project's JSON or JSON Lines, plain text, or a ChatGPT export; see transcript_files) is
read whole first, within `--max-mb`, and every call the import will make is checked as the route checks
it, so a file any part of which would be refused imports nothing. Then each conversation goes in calls of
at most 1,000 messages: to the server at `--url` (JYNTRIX_URL), or to the one serving the data directory
(its serving file says where), or, when none runs, into the embedded data directory opened here (whose
in-process queue then runs the extraction before exit).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from jyntrix_bootstrap.settings import Settings
from jyntrix_client import AsyncClient, JyntrixError
from jyntrix_client import types as wire
from jyntrix_client.transcript_files import Transcript, TranscriptFileError, chunks, read_transcripts
from jyntrix_domain.errors import DomainError
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_MESSAGES, check_transcript
from jyntrix_http.request_checks import NUL_MESSAGE, holds_nul
from jyntrix_http.routes.transcripts import TranscriptIn, TranscriptMessageIn, transcript_message
from jyntrix_http.server_discovery import SetupError, find_remote, open_data_directory, require_user

NOTHING_IMPORTED = "nothing was imported"


class ImportFailed(Exception):
    """Why the command stopped; printed in one or two lines."""


@dataclass
class Sent:
    conversation_id: str
    messages: int
    turn_memories: int


Send = Callable[[Transcript, Sequence[wire.TranscriptMessageIn], str | None], Awaitable[Sent]]


@dataclass
class Destination:
    """Where the calls go: `send` makes one; `check` raises unless a conversation to append to is the user's."""

    send: Send
    check: Callable[[str], Awaitable[object]]


@dataclass
class Summary:
    conversations: int = 0
    messages: int = 0
    turn_memories: int = 0
    target: str = ""
    pending: int = 0
    conversation_ids: list[str] = field(default_factory=list)

    def text(self) -> str:
        extraction = (
            "extraction finished"
            if self.pending == 0
            else f"extraction of {self.pending} batches continues in the server's background "
            "(GET /api/chat/conversations/{id} shows `extraction`)"
        )
        return (
            f"Imported {self.messages} messages in {self.conversations} conversations into {self.target}: "
            f"{self.turn_memories} turn memories; {extraction}."
        )


def check_calls(transcripts: Sequence[Transcript]) -> None:
    """Raise ImportFailed when any call the import would make is one the route (or the service) refuses.

    Each message is checked as the route checks it (length, blank text, time, name, id, metadata, NUL
    characters), and each call of 1,000 as the route and the service take it (title, duplicate ids), before
    the first is sent.
    """
    for transcript in transcripts:
        where = transcript.source
        for n, message in enumerate(transcript.messages):
            try:
                msgspec.convert(msgspec.to_builtins(message), TranscriptMessageIn)
            except msgspec.ValidationError as exc:
                raise ImportFailed(f"{where}: messages[{n}]: {exc}; {NOTHING_IMPORTED}") from None
            if holds_nul(msgspec.json.encode(message)):
                raise ImportFailed(f"{where}: messages[{n}]: strings {NUL_MESSAGE}; {NOTHING_IMPORTED}")
        for part in chunks(transcript, MAX_TRANSCRIPT_MESSAGES):
            body = transcript.body(part)
            try:
                msgspec.convert(body, TranscriptIn)
                check_transcript([transcript_message(m) for m in part])
            except (msgspec.ValidationError, DomainError) as exc:
                raise ImportFailed(f"{where}: {exc}; {NOTHING_IMPORTED}") from None
            if holds_nul(msgspec.json.encode(body)):
                raise ImportFailed(f"{where}: title {NUL_MESSAGE}; {NOTHING_IMPORTED}")


@asynccontextmanager
async def remote_sender(url: str, token: str, summary: Summary) -> AsyncIterator[Destination]:
    async with AsyncClient(url, token) as client:

        async def send(
            transcript: Transcript, part: Sequence[wire.TranscriptMessageIn], conversation_id: str | None
        ) -> Sent:
            result = await client.import_transcript(
                part, title=transcript.title, conversation_id=conversation_id or transcript.conversation_id
            )
            return Sent(result.conversation_id, len(result.message_ids), result.turn_memories)

        yield Destination(send, lambda conversation_id: client.messages(conversation_id, limit=1))
        for conversation_id in summary.conversation_ids:
            summary.pending += (await client.extraction_status(conversation_id)).pending


@asynccontextmanager
async def embedded_sender(
    settings: Settings, user_id: str, overrides: Mapping[str, Any] | None = None
) -> AsyncIterator[Destination]:
    runtime = await open_data_directory(settings, overrides)
    try:
        transcripts = runtime.services.transcripts

        async def send(
            transcript: Transcript, part: Sequence[wire.TranscriptMessageIn], conversation_id: str | None
        ) -> Sent:
            result = await transcripts.import_transcript(
                user_id,
                [transcript_message(m) for m in part],
                title=transcript.title,
                conversation_id=conversation_id or transcript.conversation_id,
            )
            return Sent(result.conversation_id, result.messages, result.turn_memories)

        conversations = runtime.services.conversations
        yield Destination(send, lambda conversation_id: conversations.get(user_id, conversation_id))
        drain = getattr(runtime.tasks, "drain", None)
        if drain is not None:
            print("Extracting memories from the imported messages...", file=sys.stderr)
            # The extraction of what was imported; not the idle summaries scheduled for later.
            await drain(scheduled=False)
    finally:
        await runtime.aclose()


async def import_all(transcripts: Sequence[Transcript], to: Destination, summary: Summary) -> None:
    """Send every call, after checking that each conversation the file appends to is there."""
    for transcript in transcripts:
        if transcript.conversation_id is not None:
            try:
                await to.check(transcript.conversation_id)
            except (JyntrixError, DomainError) as exc:
                raise ImportFailed(f"{transcript.source}: conversation_id: {exc}; {NOTHING_IMPORTED}") from None
    total = sum(len(t.messages) for t in transcripts)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        bar = progress.add_task("Importing messages", total=total)
        for transcript in transcripts:
            conversation_id: str | None = None
            for part in chunks(transcript, MAX_TRANSCRIPT_MESSAGES):
                try:
                    sent = await to.send(transcript, part, conversation_id)
                except (JyntrixError, DomainError) as exc:
                    raise ImportFailed(_stopped(exc, summary.messages, total)) from None
                conversation_id = sent.conversation_id
                summary.messages += sent.messages
                summary.turn_memories += sent.turn_memories
                progress.advance(bar, len(part))
            if conversation_id is not None and conversation_id not in summary.conversation_ids:
                summary.conversation_ids.append(conversation_id)
    summary.conversations = len(summary.conversation_ids)


def _stopped(exc: Exception, done: int, total: int) -> str:
    if done == 0:
        return f"the import was refused: {exc}; {NOTHING_IMPORTED}"
    # The file was checked whole, so this is the server (down, busy, another secret): a rerun goes on from here.
    return (
        f"the import stopped after {done} of {total} messages: {exc}\n"
        "Importing the file again adds what is missing (what went in is not added twice)."
    )


async def run_import(
    args: argparse.Namespace, settings: Settings, overrides: Mapping[str, Any] | None = None
) -> Summary:
    try:
        transcripts = read_transcripts(Path(args.file), args.max_mb * 2**20)
    except TranscriptFileError as exc:
        raise ImportFailed(f"{exc}; {NOTHING_IMPORTED}") from None
    except OSError as exc:
        raise ImportFailed(f"cannot read {args.file}: {exc}") from None
    check_calls(transcripts)
    summary = Summary()
    try:
        remote = await find_remote(args.url, args.user, args.token, settings)
        if remote is not None:
            summary.target = remote.url
            async with remote_sender(remote.url, remote.token, summary) as destination:
                await import_all(transcripts, destination, summary)
        else:
            user = require_user(args.user, "import into the data directory (whose history this is)")
            summary.target = f"the data directory {settings.data_dir}"
            async with embedded_sender(settings, user, overrides) as destination:
                await import_all(transcripts, destination, summary)
    except SetupError as exc:
        raise ImportFailed(str(exc)) from None
    except (JyntrixError, DomainError) as exc:
        raise ImportFailed(f"the import was refused: {exc}") from None
    return summary


def import_transcripts(args: argparse.Namespace, settings: Settings, overrides: Mapping[str, Any] | None = None) -> int:
    """The command: 0 when everything went in, 2 with one or two lines on stderr when not.

    `overrides` are build_services' for the embedded path (tests keep a handle on the stores).
    """
    if not args.user and not args.token:
        print("jyntrix import: --user is required (whose history this is)", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(run_import(args, settings, overrides))
    except ImportFailed as exc:
        print(f"jyntrix import: {exc}", file=sys.stderr)
        return 2
    print(summary.text())
    return 0

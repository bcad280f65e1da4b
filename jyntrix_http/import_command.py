"""`jyntrix import FILE --user ID`: a transcript file through the import path, with a progress bar.

The file (the project's JSON or JSON Lines, or a ChatGPT export) is read whole first, so a malformed
one imports nothing. Then each conversation goes in calls of at most 1,000 messages: to the server at
`--url` (JYNTRIX_URL), or to one answering on this machine's port, or, when none runs, into the
embedded data directory opened here (whose in-process queue then runs the extraction before exit).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.settings import Settings
from jyntrix_client import AsyncClient, JyntrixError
from jyntrix_client.transcript_files import Transcript, TranscriptFileError, chunks, read_transcripts
from jyntrix_client.types import TranscriptMessageIn
from jyntrix_domain.errors import DomainError
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_MESSAGES
from jyntrix_http.mcp_stdio import McpStartupError, StdioTarget, describe_open_failure, remote_token
from jyntrix_http.routes.transcripts import transcript_message


class ImportFailed(Exception):
    """Why the command stopped; printed as one line."""


@dataclass
class Sent:
    conversation_id: str
    messages: int
    turn_memories: int


Send = Callable[[Transcript, Sequence[TranscriptMessageIn], str | None], Awaitable[Sent]]


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


def server_answering(settings: Settings) -> str | None:
    """The address of a server answering on this machine's port, if one does."""
    url = f"http://127.0.0.1:{settings.port}"
    try:
        return url if httpx.get(f"{url}/health/live", timeout=1.0).status_code == 200 else None
    except httpx.HTTPError:
        return None


@asynccontextmanager
async def remote_sender(url: str, token: str, summary: Summary) -> AsyncIterator[Send]:
    async with AsyncClient(url, token) as client:

        async def send(
            transcript: Transcript, part: Sequence[TranscriptMessageIn], conversation_id: str | None
        ) -> Sent:
            result = await client.import_transcript(
                part, title=transcript.title, conversation_id=conversation_id or transcript.conversation_id
            )
            return Sent(result.conversation_id, len(result.message_ids), result.turn_memories)

        yield send
        for conversation_id in summary.conversation_ids:
            summary.pending += (await client.extraction_status(conversation_id)).pending


@asynccontextmanager
async def embedded_sender(
    settings: Settings, user_id: str, overrides: Mapping[str, Any] | None = None
) -> AsyncIterator[Send]:
    try:
        runtime = await build_services(settings, overrides=overrides)
    except Exception as exc:
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise ImportFailed(describe_open_failure(settings, exc)) from exc
    try:
        transcripts = runtime.services.transcripts

        async def send(
            transcript: Transcript, part: Sequence[TranscriptMessageIn], conversation_id: str | None
        ) -> Sent:
            result = await transcripts.import_transcript(
                user_id,
                [transcript_message(m) for m in part],
                title=transcript.title,
                conversation_id=conversation_id or transcript.conversation_id,
            )
            return Sent(result.conversation_id, result.messages, result.turn_memories)

        yield send
        drain = getattr(runtime.tasks, "drain", None)
        if drain is not None:
            print("Extracting memories from the imported messages...", file=sys.stderr)
            await drain()
    finally:
        await runtime.aclose()


async def import_all(transcripts: Sequence[Transcript], send: Send, summary: Summary) -> None:
    total = sum(len(t.messages) for t in transcripts)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        bar = progress.add_task("Importing messages", total=total)
        for transcript in transcripts:
            conversation_id: str | None = None
            for part in chunks(transcript, MAX_TRANSCRIPT_MESSAGES):
                sent = await send(transcript, part, conversation_id)
                conversation_id = sent.conversation_id
                summary.messages += sent.messages
                summary.turn_memories += sent.turn_memories
                progress.advance(bar, len(part))
            if conversation_id is not None and conversation_id not in summary.conversation_ids:
                summary.conversation_ids.append(conversation_id)
    summary.conversations = len(summary.conversation_ids)


async def run_import(
    args: argparse.Namespace, settings: Settings, overrides: Mapping[str, Any] | None = None
) -> Summary:
    try:
        transcripts = read_transcripts(Path(args.file))
    except TranscriptFileError as exc:
        raise ImportFailed(f"{exc}; nothing was imported") from None
    except OSError as exc:
        raise ImportFailed(f"cannot read {args.file}: {exc}") from None
    summary = Summary()
    url = args.url or server_answering(settings)
    try:
        if url:
            token = remote_token(StdioTarget(user=args.user, url=url, token=args.token), settings)
            summary.target = url
            async with remote_sender(url, token, summary) as send:
                await import_all(transcripts, send, summary)
        else:
            if not args.user:
                raise ImportFailed("--user is required without a server (whose history this is)")
            summary.target = f"the data directory {settings.data_dir}"
            async with embedded_sender(settings, args.user, overrides) as send:
                await import_all(transcripts, send, summary)
    except McpStartupError as exc:
        raise ImportFailed(str(exc)) from None
    except (JyntrixError, DomainError) as exc:
        raise ImportFailed(f"the import was refused: {exc}") from None
    return summary


def import_transcripts(args: argparse.Namespace, settings: Settings, overrides: Mapping[str, Any] | None = None) -> int:
    """The command: 0 when everything went in, 2 with one line on stderr when not.

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

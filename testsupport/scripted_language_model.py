"""In-process LanguageModel for tests: scripted answers, streamed in pieces, with failures on demand."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

from jyntrix_domain.errors import DomainError, Unavailable, Unsupported
from jyntrix_domain.prompts import Chunk, Completion, Prompt, Usage

TextReplies = Sequence[str] | Callable[[Prompt], str]
JsonReplies = Sequence[Any] | Callable[[Prompt, Mapping[str, Any]], Any]

_PIECE = re.compile(r"\S+\s*|\s+")


def split_pieces(text: str) -> list[str]:
    """Word-sized pieces (each with its trailing space) whose concatenation is exactly `text`."""
    return _PIECE.findall(text)


def approximate_tokens(text: str) -> int:
    return len(text.split())


def prompt_tokens(prompt: Prompt) -> int:
    return approximate_tokens(prompt.render_system()) + sum(approximate_tokens(t.content) for t in prompt.messages)


class ScriptedLanguageModel:
    """Answers from a script and records every prompt it was given.

    `replies` is a list (used in order, the last one repeating) or a function of the prompt;
    `structured` likewise gives the JSON values of `structured()`, which raises Unsupported when
    nothing is scripted. `fail_next()` makes the next calls raise, before or in the middle of a
    stream; `delay_s` is slept before each streamed piece.
    """

    def __init__(
        self,
        replies: TextReplies = ("OK",),
        *,
        structured: JsonReplies | None = None,
        delay_s: float = 0.0,
        name: str = "scripted",
    ) -> None:
        self._replies = replies
        self._structured = structured
        self._reply_index = 0
        self._structured_index = 0
        self.delay_s = delay_s
        self._name = name
        self.prompts: list[Prompt] = []
        self.schemas: list[Mapping[str, Any]] = []
        self._failures: deque[tuple[DomainError, int]] = deque()

    @property
    def name(self) -> str:
        return self._name

    @property
    def restates_only(self) -> bool:
        """Its scripted answers stand for a generative model's."""
        return False

    def fail_next(self, times: int = 1, error: DomainError | None = None, after_pieces: int = 0) -> None:
        """Make the next `times` calls raise `error` (Unavailable by default), after `after_pieces` pieces."""
        for _ in range(times):
            self._failures.append((error or Unavailable("scripted failure"), after_pieces))

    async def stream(self, prompt: Prompt) -> AsyncIterator[Chunk]:
        self.prompts.append(prompt)
        failure = self._failures.popleft() if self._failures else None
        text = self._next_text(prompt)
        for i, piece in enumerate(split_pieces(text)):
            if failure is not None and i >= failure[1]:
                raise failure[0]
            await asyncio.sleep(self.delay_s)
            yield Chunk(text=piece)
        if failure is not None:
            raise failure[0]
        yield Chunk(usage=Usage(input_tokens=prompt_tokens(prompt), output_tokens=approximate_tokens(text)))

    async def complete(self, prompt: Prompt) -> Completion:
        self.prompts.append(prompt)
        self._raise_if_failing()
        text = self._next_text(prompt)
        await asyncio.sleep(self.delay_s)
        return Completion(
            text=text, usage=Usage(input_tokens=prompt_tokens(prompt), output_tokens=approximate_tokens(text))
        )

    async def structured(self, prompt: Prompt, schema: Mapping[str, Any]) -> Any:
        self.prompts.append(prompt)
        self.schemas.append(schema)
        self._raise_if_failing()
        await asyncio.sleep(self.delay_s)
        if self._structured is None:
            raise Unsupported("no structured answers are scripted")
        if callable(self._structured):
            return self._structured(prompt, schema)
        if not self._structured:
            raise Unsupported("no structured answers are scripted")
        value = self._structured[min(self._structured_index, len(self._structured) - 1)]
        self._structured_index += 1
        return value

    def _raise_if_failing(self) -> None:
        if self._failures:
            raise self._failures.popleft()[0]

    def _next_text(self, prompt: Prompt) -> str:
        """The next scripted reply, ended at the prompt's first stop sequence as a real model ends it."""
        if callable(self._replies):
            return prompt.until_stop(self._replies(prompt))
        if not self._replies:
            return ""
        text = self._replies[min(self._reply_index, len(self._replies) - 1)]
        self._reply_index += 1
        return prompt.until_stop(text)

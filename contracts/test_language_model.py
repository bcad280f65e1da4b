"""LanguageModel contract: every adapter streams, completes and fails the same way.

Gemini and the OpenAI-compatible adapter run through their real client code against loopback fakes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import msgspec
import pytest

from jyntrix_adapters.english.offline.language_model import OfflineLanguageModel
from jyntrix_bootstrap.resources import make_language_model
from jyntrix_bootstrap.settings import load_settings
from jyntrix_domain.errors import DomainError, Unavailable, Unsupported
from jyntrix_domain.model import MemoryType, Role
from jyntrix_domain.ports import LanguageModel
from jyntrix_domain.prompts import ChatTurn, Chunk, ContextItem, Prompt
from testsupport.fake_gemini import FakeGemini
from testsupport.fake_llm_server import Reply, example_of
from testsupport.fake_openai import FakeOpenAI
from testsupport.scripted_language_model import ScriptedLanguageModel

ATTEMPTS = 2
# Few, quick retries and a short timeout, set as an operator sets them (LLM_*).
RETRIES = {"LLM_MAX_ATTEMPTS": str(ATTEMPTS), "LLM_RETRY_INITIAL_S": "0.01", "LLM_TIMEOUT_S": "10"}


@dataclass
class Subject:
    """An adapter under test and a way to make its backend fail."""

    model: LanguageModel
    fail_next: Callable[[int], None]
    break_mid_stream: Callable[[int], None]


def _echo(prompt: Prompt) -> str:
    last = next(t.content for t in reversed(prompt.messages) if t.role == Role.USER)
    return f"You said: {last}"


def _scripted() -> Subject:
    model = ScriptedLanguageModel(_echo, structured=lambda _prompt, schema: example_of(dict(schema)))
    return Subject(
        model,
        fail_next=lambda n: model.fail_next(n, Unavailable("down")),
        break_mid_stream=lambda after: model.fail_next(1, Unavailable("broken"), after_pieces=after),
    )


def _served(model: LanguageModel, fake: FakeGemini | FakeOpenAI) -> Subject:
    return Subject(
        model,
        fail_next=lambda n: fake.script(*[Reply.fail(503, "overloaded") for _ in range(n)]),
        break_mid_stream=lambda after: fake.script(Reply.text("one two three four five six", drop_after=after)),
    )


@pytest.fixture(params=["scripted", "offline", "gemini", "openai"])
async def language_model(request: pytest.FixtureRequest) -> AsyncIterator[LanguageModel]:
    async with _Backend(request.param) as subject:
        yield subject.model


@pytest.fixture(params=["scripted", "gemini", "openai"])
async def failing(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    """Adapters with a backend that can fail (the offline responder has none)."""
    async with _Backend(request.param) as subject:
        yield subject


class _Backend:
    """Starts an adapter (and its fake server) and tears both down."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.fake: FakeGemini | FakeOpenAI | None = None
        self.subject: Subject | None = None

    async def __aenter__(self) -> Subject:
        if self.kind == "scripted":
            self.subject = _scripted()
        elif self.kind == "offline":
            model = make_language_model(load_settings({"OFFLINE_LLM_TOKEN_DELAY_S": "0"}, create_local_secret=False))
            self.subject = Subject(model, fail_next=_cannot, break_mid_stream=_cannot)
        else:
            # The adapter the variables select, opened as the container opens it, against a fake server.
            fake: FakeGemini | FakeOpenAI = FakeGemini() if self.kind == "gemini" else FakeOpenAI()
            self.fake = fake.start()
            if self.kind == "gemini":
                env = {"GOOGLE_AI_API_KEY": "test-key", "GEMINI_BASE_URL": fake.url}
            else:
                env = {"OPENAI_BASE_URL": fake.url + "/v1", "OPENAI_MODEL": "llama3"}
            settings = load_settings({**env, **RETRIES}, create_local_secret=False)
            self.subject = _served(make_language_model(settings), fake)
        return self.subject

    async def __aexit__(self, *exc: object) -> None:
        assert self.subject is not None
        aclose = getattr(self.subject.model, "aclose", None)
        if aclose is not None:
            await aclose()
        if self.fake is not None:
            self.fake.close()


def _cannot(_: int) -> None:
    raise AssertionError("this adapter has no backend to break")


CONTEXT = (
    ContextItem(ref=1, memory_id="m1", type=MemoryType.PROFILE, content="User lives in Berlin", score=0.9, tokens=4),
    ContextItem(ref=2, memory_id="m2", type=MemoryType.SEMANTIC, content="User likes green tea", score=0.6, tokens=4),
)


def prompt(text: str = "Where do I live these days?") -> Prompt:
    return Prompt(
        system="You are a helpful assistant with a memory.",
        context_text="[1] User lives in Berlin\n[2] User likes green tea",
        context_items=CONTEXT,
        messages=(
            ChatTurn(role=Role.USER, content="Hello"),
            ChatTurn(role=Role.ASSISTANT, content="Hi! How can I help?"),
            ChatTurn(role=Role.USER, content=text),
        ),
    )


async def collect(model: LanguageModel, p: Prompt) -> list[Chunk]:
    return [chunk async for chunk in model.stream(p)]


async def test_has_a_name(language_model: LanguageModel) -> None:
    assert language_model.name


async def test_stream_pieces_join_into_the_completion(language_model: LanguageModel) -> None:
    chunks = await collect(language_model, prompt())
    completion = await language_model.complete(prompt())

    streamed = "".join(c.text for c in chunks)
    assert streamed
    assert streamed == completion.text


async def test_stream_arrives_in_several_pieces(language_model: LanguageModel) -> None:
    chunks = await collect(language_model, prompt())
    assert len([c for c in chunks if c.text]) > 1


async def test_stream_ends_with_usage(language_model: LanguageModel) -> None:
    chunks = await collect(language_model, prompt())
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.output_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


async def test_completion_reports_usage(language_model: LanguageModel) -> None:
    completion = await language_model.complete(prompt())
    assert completion.usage.output_tokens > 0
    assert completion.usage.input_tokens > 0


async def test_an_answer_ends_before_its_first_stop_sequence(language_model: LanguageModel) -> None:
    whole = (await language_model.complete(prompt())).text
    words = whole.split()
    assert len(words) > 3, whole
    # Two stop sequences, the earlier one given last: the answer ends before whichever comes first.
    first, later = words[2], words[-1]
    stopped = msgspec.structs.replace(prompt(), stop=(later, first))
    expected = whole[: min(i for i in (whole.find(first), whole.find(later)) if i >= 0)]

    completion = await language_model.complete(stopped)
    streamed = "".join(c.text for c in await collect(language_model, stopped))

    assert completion.text == expected
    assert streamed == expected
    assert first not in completion.text


async def test_a_stop_sequence_the_answer_never_reaches_changes_nothing(language_model: LanguageModel) -> None:
    whole = (await language_model.complete(prompt())).text
    never = msgspec.structs.replace(prompt(), stop=("\u2603 never said \u2603",))
    assert (await language_model.complete(never)).text == whole
    assert "".join(c.text for c in await collect(language_model, never)) == whole


async def test_structured_follows_the_schema_or_is_unsupported(language_model: LanguageModel) -> None:
    schema = {
        "type": "object",
        "properties": {"memories": {"type": "array", "items": {"type": "string"}}, "done": {"type": "boolean"}},
        "required": ["memories", "done"],
    }
    try:
        value = await language_model.structured(prompt("I live in Berlin."), schema)
    except Unsupported:
        assert isinstance(language_model, OfflineLanguageModel)
        return
    assert isinstance(value, dict)
    assert isinstance(value["memories"], list)
    assert isinstance(value["done"], bool)


async def test_a_stream_stopped_early_leaves_the_model_usable(language_model: LanguageModel) -> None:
    stream = language_model.stream(prompt())
    first = await anext(aiter(stream))
    assert first.text
    await stream.aclose()  # type: ignore[attr-defined]

    assert (await language_model.complete(prompt())).text


async def test_concurrent_streams_do_not_mix(language_model: LanguageModel) -> None:
    questions = ["Where do I live?", "What do I like to drink?", "What is the weather on Mars?"]
    streamed = await asyncio.gather(*(collect(language_model, prompt(q)) for q in questions))
    for q, chunks in zip(questions, streamed, strict=True):
        assert "".join(c.text for c in chunks) == (await language_model.complete(prompt(q))).text


async def test_a_failing_backend_surfaces_as_a_domain_error(failing: Subject) -> None:
    failing.fail_next(ATTEMPTS)
    with pytest.raises(DomainError):
        await failing.model.complete(prompt())

    failing.fail_next(ATTEMPTS)
    with pytest.raises(DomainError):
        await collect(failing.model, prompt())


async def test_a_transient_failure_is_recovered_or_reported(failing: Subject) -> None:
    # Services retry once; the scripted model fails once and then answers.
    failing.fail_next(1)
    try:
        text = (await failing.model.complete(prompt())).text
    except DomainError:
        assert isinstance(failing.model, ScriptedLanguageModel)
        text = (await failing.model.complete(prompt())).text
    assert text


async def test_a_stream_broken_after_text_raises_and_never_repeats_text(failing: Subject) -> None:
    failing.break_mid_stream(2)
    received: list[str] = []
    with pytest.raises(DomainError):
        async for chunk in failing.model.stream(prompt()):
            received.append(chunk.text)
    assert len(received) == 2
    assert len(set(received)) == 2  # a retry after text would have repeated the first pieces

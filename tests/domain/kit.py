"""The domain services assembled on in-process adapters, as a test would use them."""

from __future__ import annotations

from dataclasses import dataclass, field

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.analytics_sink import InMemoryAnalyticsSink
from jyntrix_adapters.inprocess.conversation_store import InMemoryConversationStore
from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_adapters.inprocess.entity_graph import InMemoryEntityGraph
from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex
from jyntrix_adapters.inprocess.memory_store import InMemoryMemoryStore
from jyntrix_adapters.inprocess.profile_store import InMemoryProfileStore
from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter
from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex
from jyntrix_bootstrap.container import make_ranker
from jyntrix_bootstrap.settings import Settings
from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.chat import ChatService
from jyntrix_domain.context import ContextBuilder
from jyntrix_domain.forgetting import ForgetService
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import USER_NODE, Relation
from jyntrix_domain.portability import PortabilityService
from jyntrix_domain.ports import ConversationPorts, MemoryPorts
from jyntrix_domain.query import QueryAnalyzer
from jyntrix_domain.retrieval import RetrievalConfig, RetrievalService
from jyntrix_domain.tasks import ExtractMemories
from testsupport.clock import ManualClock
from testsupport.scripted_language_model import ScriptedLanguageModel


@dataclass
class Kit:
    clock: ManualClock = field(default_factory=ManualClock)
    store: InMemoryMemoryStore = field(default_factory=InMemoryMemoryStore)
    conversations: InMemoryConversationStore = field(default_factory=InMemoryConversationStore)
    profiles: InMemoryProfileStore = field(default_factory=InMemoryProfileStore)
    graph: InMemoryEntityGraph = field(default_factory=InMemoryEntityGraph)
    vectors: InProcessVectorIndex = field(default_factory=InProcessVectorIndex)
    keywords: InProcessKeywordIndex = field(default_factory=InProcessKeywordIndex)
    embedder: HashEmbedder = field(default_factory=HashEmbedder)
    sink: InMemoryAnalyticsSink = field(default_factory=InMemoryAnalyticsSink)
    llm: ScriptedLanguageModel = field(default_factory=lambda: ScriptedLanguageModel(["Hello there."]))
    enqueued: list[ExtractMemories] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.emitter = BufferedEmitter(self.sink)
        self.tasks = InProcessTaskQueue({ExtractMemories: self._record})
        self.ports = MemoryPorts(
            store=self.store,
            vectors=self.vectors,
            keywords=self.keywords,
            graph=self.graph,
            embedder=self.embedder,
            clock=self.clock,
        )
        self.retrieval = RetrievalService(
            self.ports,
            # The ranker the default settings give the server (RANK_FORMULA, RANK_ADAPTIVE, RANK_WEIGHT_*).
            ranker=make_ranker(Settings()),
            config=RetrievalConfig(strategy_timeout_s=0.5),
            emitter=self.emitter,
            analyzer=QueryAnalyzer(EnglishLanguage()),
        )
        self.memories = MemoryService(self.ports, retrieval=self.retrieval)
        self.ledger = self.conversations.ledger
        self.conversation_ports = ConversationPorts(
            conversations=self.conversations, ledger=self.ledger, clock=self.clock, language=EnglishLanguage()
        )
        self.portability = PortabilityService(
            self.ports, self.conversation_ports, memories=self.memories, profiles=self.profiles
        )
        self.forgetting = ForgetService(
            self.ports,
            self.conversation_ports,
            profiles=self.profiles,
            analytics=self.sink,
        )
        self.chat = ChatService(
            self.conversation_ports,
            retrieval=self.retrieval,
            memories=self.memories,
            context=ContextBuilder(RegexTokenCounter(), language=EnglishLanguage()),
            llm=self.llm,
            tasks=self.tasks,
            emitter=self.emitter,
        )

    async def _record(self, task: ExtractMemories) -> None:
        self.enqueued.append(task)


def relation_memory(content: str, source: str, predicate: str, target: str) -> NewMemory:
    """A memory asserting (source, predicate, target) and naming its entities (the user's own node is none)."""
    return NewMemory(
        content=content,
        entities=tuple(name for name in (source, target) if name != USER_NODE),
        relations=(Relation(source=source, predicate=predicate, target=target),),
    )

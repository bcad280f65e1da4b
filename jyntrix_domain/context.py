"""Context building: ranked memories and recent turns packed into token budgets.

The memory block has one section per memory type, then a line of known entities:

    ## About the user
    [1] Name is Anna

    ## Preferences the user stated about your answers
    [2] Answer in French

    ## People, places and things the user has mentioned
    Anna, Berlin

Sections appear in the order profile, procedural, semantic, episodic, entities, separated by a
blank line. Items are numbered 1..n in order of appearance so that an answer can cite them.

Budgets are counted with the TokenCounter port on the exact text produced: a section's rendered
text (header included) never counts more than its budget, and the whole block plus the kept
history turns never count more than `total`. History turns are counted as ``"role: content"``
(see `render_turn`), the way a chat transcript shows them.

Memory contents are put on one line each (runs of whitespace become one space).

Filling order, which decides who wins when `total` binds: profile, procedural, history,
semantic, episodic, entities. Within a section memories are taken in ranked order; one that
does not fit is skipped so that later, smaller ones can still fit; afterwards, if room is left,
the best skipped memory may be cut at a word boundary (marked with "…") when at least
`min_truncated_tokens` of it fits.

Turn memories (kind ``turn``) are left out when their message is already in the kept history, or
when a fact drawn from the same message is already placed: the budget is not spent twice on one
thing said. A turn that answers the query (relevant) is kept beside its facts, though: a fact holds
only part of what was said ("works as a nurse" of "a nurse, mostly nights on the cardiac ward").

Each item is marked `relevant` (see `jyntrix_domain.relevance`) from its retrieval signals, so that a
responder without a model of its own (the offline one) can answer from what retrieval found.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import MemoryKind, MemoryType, Message, Role, entity_key
from jyntrix_domain.ports import Language, TokenCounter
from jyntrix_domain.prompts import ChatTurn, ContextItem
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.relevance import RelevanceConfig, relevant_ids
from jyntrix_domain.said_already import SaidAlready
from jyntrix_domain.stand_ins import turns_by_message

HEADERS: dict[MemoryType, str] = {
    MemoryType.PROFILE: "## About the user",
    MemoryType.PROCEDURAL: "## Preferences the user stated about your answers",
    MemoryType.SEMANTIC: "## Facts you remember",
    MemoryType.EPISODIC: "## Past conversations and events",
}
ENTITY_HEADER = "## People, places and things the user has mentioned"
SECTION_ORDER = (MemoryType.PROFILE, MemoryType.PROCEDURAL, MemoryType.SEMANTIC, MemoryType.EPISODIC)
SEPARATOR = "\n\n"
ELLIPSIS = "…"


class Budgets(msgspec.Struct, frozen=True, kw_only=True):
    """Token budget per section and in total (the seed's defaults)."""

    profile: int = 600
    semantic: int = 1500
    episodic: int = 1500
    procedural: int = 400
    entity: int = 300
    history: int = 300
    total: int = 5000

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if getattr(self, name) < 0:
                raise Invalid(f"budget {name} must not be negative")

    def for_type(self, memory_type: MemoryType) -> int:
        budget: int = getattr(self, memory_type.value)
        return budget


class BuiltContext(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    items: tuple[ContextItem, ...]
    history: tuple[ChatTurn, ...]
    tokens_by_section: dict[str, int]
    total_tokens: int


def render_item(ref: int, content: str, mark: str = "") -> str:
    return f"[{ref}] {mark}{' '.join(content.split())}"


def mark_of(r: RankedMemory) -> str:
    """What the prompt says of a memory besides its content: an ended one is earlier, with its dates; what
    the assistant said is marked as such."""
    marks = []
    if not r.current:
        until = r.memory.valid_until
        span = f"{r.memory.valid_from.date().isoformat()} to {until.date().isoformat()}" if until else "ended"
        marks.append(f"earlier, no longer true: {span}")
    if r.memory.role is Role.ASSISTANT:
        marks.append("you said")
    return f"({'; '.join(marks)}) " if marks else ""


def render_turn(turn: ChatTurn) -> str:
    """How a history turn is counted against the history budget."""
    return f"{turn.role.value}: {turn.content}"


class _Piece(msgspec.Struct):
    """One line of a memory section (with its source) or one name of the entity line."""

    text: str
    tokens: int  # estimated
    source: RankedMemory | None = None
    content: str = ""


class _Section(msgspec.Struct):
    name: str
    header: str
    joiner: str
    pieces: list[_Piece]
    tokens: int = 0  # exact

    def render(self) -> str:
        return self.header + "\n" + self.joiner.join(p.text for p in self.pieces)


class ContextBuilder:
    """Packs ranked memories, known entities and recent turns into the budgets.

    Pieces are chosen on estimates (the contents counted in one batch, plus what a reference
    number and a line break cost), which keeps counting close to linear; each section is then
    counted exactly as rendered, and the whole block once at the end, dropping trailing pieces
    whenever an exact count is over. Budgets therefore hold for any TokenCounter, additive or not.
    """

    def __init__(
        self,
        counter: TokenCounter,
        budgets: Budgets = Budgets(),
        *,
        language: Language,
        truncate: bool = True,
        min_truncated_tokens: int = 12,
        relevance: RelevanceConfig = RelevanceConfig(),
    ) -> None:
        self._counter = counter
        self._language = language
        self._budgets = budgets
        self._relevance = relevance
        self._truncate = truncate
        self._min_truncated = max(1, min_truncated_tokens)
        # What joining costs beyond the parts, for the estimates (0 for whitespace-split counters).
        self._space_cost = self._join_cost(" ")
        self._line_cost = self._join_cost("\n")
        self._comma_cost = self._join_cost(", ")
        self._separator_cost = self._join_cost(SEPARATOR)
        self._ref_costs: dict[int, int] = {}

    def _join_cost(self, joiner: str) -> int:
        part = self._counter.count("word")
        return max(0, self._counter.count("word" + joiner + "word") - 2 * part)

    @property
    def budgets(self) -> Budgets:
        return self._budgets

    def build(
        self,
        ranked: Sequence[RankedMemory],
        history: Sequence[Message] = (),
        entities: Sequence[str] = (),
    ) -> BuiltContext:
        budgets = self._budgets
        by_type: dict[MemoryType, list[RankedMemory]] = {t: [] for t in SECTION_ORDER}
        seen: set[str] = set()
        # Current memories first, in ranked order, then the ones that ended (marked earlier when rendered).
        for r in sorted(ranked, key=lambda r: not r.current):
            if r.memory.id not in seen:
                seen.add(r.memory.id)
                by_type[_section_of(r)].append(r)

        sections: list[_Section] = []
        turns: tuple[ChatTurn, ...] = ()
        history_tokens = 0
        placed = 0
        # Message ids whose words are already in the context: a turn memory of one would say it twice.
        said = SaidAlready(
            answering=relevant_ids(ranked, self._relevance, self._language), turn_of=turns_by_message(ranked)
        )
        for memory_type in SECTION_ORDER:
            if memory_type is MemoryType.SEMANTIC:
                # History is filled after profile and procedural: when `total` binds, who the user
                # is and how to answer matter more than the recent turns, which matter more than facts.
                room = min(budgets.history, budgets.total - self._estimate(sections))
                kept, history_tokens = self._history(history, room)
                turns = tuple(ChatTurn(role=m.role, content=m.content) for m in kept)
                said.heard.update(m.id for m in kept)
            limit = budgets.for_type(memory_type)
            room = self._room(sections, limit, history_tokens)
            candidates = [r for r in by_type[memory_type] if not said.already(r)]
            pieces = self._memory_pieces(candidates, HEADERS[memory_type], room, placed, said)
            section = self._fit(_Section(memory_type.value, HEADERS[memory_type], "\n", pieces), limit)
            if section is not None:
                sections.append(section)
                placed += len(section.pieces)
        room = self._room(sections, budgets.entity, history_tokens)
        section = self._fit(
            _Section("entity", ENTITY_HEADER, ", ", self._entity_pieces(entities, room)), budgets.entity
        )
        if section is not None:
            sections.append(section)

        text, block_tokens = self._fit_total(sections, budgets.total - history_tokens)
        tokens = {t.value: 0 for t in SECTION_ORDER} | {"entity": 0, "history": history_tokens}
        tokens.update({s.name: s.tokens for s in sections})
        memory_pieces = [p for s in sections for p in s.pieces if p.source is not None]
        relevant = said.answering
        return BuiltContext(
            text=text,
            items=tuple(self._item(ref, p, relevant) for ref, p in enumerate(memory_pieces, start=1)),
            history=turns,
            tokens_by_section=tokens,
            total_tokens=block_tokens + history_tokens,
        )

    def _estimate(self, sections: Sequence[_Section]) -> int:
        return sum(s.tokens for s in sections) + self._separator_cost * max(0, len(sections) - 1)

    def _room(self, sections: Sequence[_Section], limit: int, reserved: int) -> int:
        """Estimated tokens a new section may take: its own budget, and what the total leaves."""
        separator = self._separator_cost if sections else 0
        return min(limit, self._budgets.total - reserved - self._estimate(sections) - separator)

    def _ref_cost(self, ref: int) -> int:
        if ref not in self._ref_costs:
            self._ref_costs[ref] = self._counter.count(f"[{ref}]") + self._space_cost + self._line_cost
        return self._ref_costs[ref]

    def _memory_pieces(
        self,
        candidates: Sequence[RankedMemory],
        header: str,
        room: int,
        placed: int,
        said: SaidAlready,
    ) -> list[_Piece]:
        """The section's pieces; `said` gains the messages of each fact placed whose turn it leaves out
        (`SaidAlready.placed`), and that turn is then skipped."""
        used = self._counter.count(header)
        if not candidates or used >= room:
            return []
        contents = [" ".join(r.memory.content.split()) for r in candidates]
        pieces: list[_Piece] = []
        skipped: list[tuple[RankedMemory, str]] = []
        for r, content, size in zip(candidates, contents, self._counter.count_many(contents), strict=True):
            if said.already(r):
                continue
            ref = placed + len(pieces) + 1
            mark = mark_of(r)
            cost = self._ref_cost(ref) + size + (self._counter.count(mark) if mark else 0)
            if used + cost > room:
                skipped.append((r, content))
                continue
            pieces.append(_Piece(render_item(ref, content, mark), cost, r, content))
            used += cost
            if r.memory.kind is not MemoryKind.TURN:
                said.placed(r)
        if self._truncate and skipped:
            r, content = skipped[0]
            cut = self._truncated(r, content, placed + len(pieces) + 1, room - used)
            if cut is not None:
                pieces.append(cut)
        return pieces

    def _truncated(self, r: RankedMemory, content: str, ref: int, room: int) -> _Piece | None:
        """The longest word prefix of a memory that fits `room`, if it keeps enough of the memory."""
        mark = mark_of(r)
        room -= self._ref_cost(ref) + (self._counter.count(mark) if mark else 0)
        if room < self._min_truncated:
            return None
        words = content.split()
        best: _Piece | None = None
        lo, hi = 1, min(len(words) - 1, room)  # a word is at least one token
        while lo <= hi:
            mid = (lo + hi) // 2
            cut = " ".join(words[:mid]) + ELLIPSIS
            size = self._counter.count(cut)
            if size > room:
                hi = mid - 1
            else:
                best = _Piece(render_item(ref, cut, mark), size + self._ref_cost(ref), r, cut)
                lo = mid + 1
        if best is None or best.tokens - self._ref_cost(ref) < self._min_truncated:
            return None
        return best

    def _entity_pieces(self, entities: Sequence[str], room: int) -> list[_Piece]:
        used = self._counter.count(ENTITY_HEADER) + self._line_cost
        pieces: list[_Piece] = []
        keys: set[str] = set()
        for name in entities:
            clean = " ".join(name.split())
            if not clean or entity_key(clean) in keys:
                continue
            keys.add(entity_key(clean))
            cost = self._counter.count(clean) + (self._comma_cost if pieces else 0)
            if used + cost <= room:
                pieces.append(_Piece(clean, cost))
                used += cost
        return pieces

    def _fit(self, section: _Section, limit: int) -> _Section | None:
        """The section with as many leading pieces as fit `limit` counted exactly; None when none do."""
        while section.pieces:
            section.tokens = self._counter.count(section.render())
            if section.tokens <= limit:
                return section
            section.pieces.pop()
        return None

    def _fit_total(self, sections: list[_Section], limit: int) -> tuple[str, int]:
        """Join the sections and count them exactly, dropping trailing pieces until the block fits."""
        while True:
            text = SEPARATOR.join(s.render() for s in sections)
            tokens = self._counter.count(text)
            if tokens <= limit or not sections:
                return text, tokens
            last = sections[-1]
            last.pieces.pop()
            if last.pieces:
                last.tokens = self._counter.count(last.render())
            else:
                sections.pop()

    def _item(self, ref: int, piece: _Piece, relevant: frozenset[str]) -> ContextItem:
        if piece.source is None:
            raise AssertionError("a memory piece always has its source")
        source = piece.source
        memory = source.memory
        return ContextItem(
            ref=ref,
            memory_id=memory.id,
            type=memory.type,
            kind=memory.kind,
            content=piece.content,
            score=source.score,
            tokens=self._counter.count(piece.text),
            match_types=tuple(sorted(source.match_types)),
            scores=source.breakdown,
            relevant=memory.id in relevant,
            current=source.current,
            valid_from=memory.valid_from,
            valid_until=memory.valid_until if not source.current else None,
            occurred=memory.occurred,
            role=memory.role,
        )

    def _history(self, history: Sequence[Message], limit: int) -> tuple[tuple[Message, ...], int]:
        """The most recent user and assistant messages that fit `limit` together, oldest first."""
        turns = [m for m in history if m.role is not Role.SYSTEM]
        if not turns or limit <= 0:
            return (), 0
        # Count at most what could fit (a turn costs at least one token), in one batch.
        recent = turns[-limit:]
        sizes = self._counter.count_many([render_turn(ChatTurn(role=t.role, content=t.content)) for t in recent])
        used, start = 0, len(recent)
        for size in reversed(sizes):
            if used + size > limit:
                break  # older turns without the ones in between would mislead
            used += size
            start -= 1
        return tuple(recent[start:]), used


def _section_of(r: RankedMemory) -> MemoryType:
    """Only a typed preference about the form of answers sits among the preferences the prompt follows; any
    other instruction a user gave is what they said, with no authority (`FormAspect`)."""
    if r.memory.type is MemoryType.PROCEDURAL and (r.memory.form_aspect is None or not r.current):
        return MemoryType.EPISODIC
    return r.memory.type

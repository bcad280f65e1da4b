"""In-process EntityGraph: dicts of entities, relations and mentions; breadth-first traversal.

Relations are directed when stored but traversed in both directions: "Anna works at Acme"
makes Acme a neighbour of Anna and Anna a neighbour of Acme.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Sequence

from jyntrix_adapters.inprocess.memory_store import check_text
from jyntrix_domain.errors import Invalid
from jyntrix_domain.memory_rules import check_names
from jyntrix_domain.model import Entity, MemoryId, Relation, UserId, entity_key

_Edge = tuple[str, str, str, MemoryId]


class InMemoryEntityGraph:
    """EntityGraph in dicts keyed by user id."""

    def __init__(self) -> None:
        self._entities: dict[UserId, dict[str, Entity]] = defaultdict(dict)
        self._relations: dict[UserId, dict[_Edge, None]] = defaultdict(dict)  # insertion-ordered set
        self._mentions: dict[UserId, dict[tuple[MemoryId, str], int]] = defaultdict(dict)
        self._seq = itertools.count()

    async def link(
        self, user_id: UserId, memory_id: MemoryId, entities: Sequence[Entity], relations: Sequence[Relation] = ()
    ) -> None:
        """Relations are recorded as asserted by `memory_id`, whatever their own memory_id says."""
        names = [e.name for e in entities] + [x for r in relations for x in (r.source, r.target)]
        check_text(memory_id, *names, *(r.predicate for r in relations))
        check_names([e.name for e in entities], relations)
        known = self._entities[user_id]
        for e in entities:
            if not e.key:
                continue
            old = known.get(e.key)
            # A specific kind beats the default 'thing'; the latest name wins.
            kind = old.kind if old is not None and e.kind == "thing" else e.kind
            known[e.key] = Entity(name=e.name, kind=kind)
            self._mentions[user_id].setdefault((memory_id, e.key), next(self._seq))
        for r in relations:
            source, predicate, target = entity_key(r.source), r.predicate.strip(), entity_key(r.target)
            if not (source and predicate and target):
                continue
            known.setdefault(source, Entity(name=r.source))
            known.setdefault(target, Entity(name=r.target))
            self._relations[user_id].setdefault((source, predicate, target, memory_id), None)

    async def unlink(self, user_id: UserId, memory_id: MemoryId) -> None:
        mentions = self._mentions.get(user_id, {})
        for key in [k for k in mentions if k[0] == memory_id]:
            del mentions[key]
        edges = self._relations.get(user_id, {})
        for edge in [e for e in edges if e[3] == memory_id]:
            del edges[edge]

    async def related(self, user_id: UserId, source: str, predicates: Sequence[str]) -> list[Entity]:
        wanted, start = {p.strip() for p in predicates}, entity_key(source)
        known = self._entities.get(user_id, {})
        targets = dict.fromkeys(t for s, p, t, _ in self._relations.get(user_id, {}) if s == start and p in wanted)
        return [known.get(t, Entity(name=t)) for t in targets]

    async def neighbours(self, user_id: UserId, names: Sequence[str], depth: int) -> dict[str, int]:
        """Known entities among `names` count as 0 hops; unknown names are ignored."""
        if depth < 0:
            raise Invalid("depth must be >= 0")
        adjacent: dict[str, set[str]] = defaultdict(set)
        for source, _, target, _ in self._relations.get(user_id, {}):
            adjacent[source].add(target)
            adjacent[target].add(source)
        known = self._entities.get(user_id, {})
        hops = {k: 0 for k in map(entity_key, names) if k in known}
        queue = deque(hops)
        while queue:
            node = queue.popleft()
            if hops[node] == depth:
                continue
            for nxt in adjacent[node]:
                if nxt not in hops:
                    hops[nxt] = hops[node] + 1
                    queue.append(nxt)
        return hops

    async def mentions(self, user_id: UserId, keys: Sequence[str], limit: int) -> list[tuple[MemoryId, str]]:
        """Most recently linked first."""
        wanted = {k for k in map(entity_key, keys) if k}
        found = [(seq, pair) for pair, seq in self._mentions.get(user_id, {}).items() if pair[1] in wanted]
        found.sort(reverse=True)
        return [pair for _, pair in found[: max(limit, 0)]]

    async def entities(self, user_id: UserId) -> list[Entity]:
        """Ordered by key."""
        return [e for _, e in sorted(self._entities.get(user_id, {}).items())]

    async def relations(self, user_id: UserId) -> list[Relation]:
        """Endpoints as entity keys, in the order they were first asserted."""
        return [
            Relation(source=s, predicate=p, target=t, memory_id=m) for s, p, t, m in self._relations.get(user_id, {})
        ]

    async def forget_user(self, user_id: UserId) -> None:
        for table in (self._entities, self._relations, self._mentions):
            table.pop(user_id, None)

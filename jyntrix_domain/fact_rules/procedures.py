"""Rules for how the user wants to be answered: "from now on ...", "always ...", "when you answer ..."."""

from __future__ import annotations

import re

from jyntrix_domain.fact_rules.common import LANGUAGES, Candidate, Rule, make_candidate, rule
from jyntrix_domain.language.person import third_person
from jyntrix_domain.model import MemoryType

_LANGUAGE_RULE = re.compile(r"(?i)\b(?:answer|respond|reply|speak|write|talk)\b.*?\bin\s+([A-Z][a-z]+)")


def _procedure(wording: str, sentence: str) -> list[Candidate]:
    wording = re.sub(r"(?i)^(?:please|pls|kindly)\s+", "", wording.strip(" ,.!")).strip()
    wording = re.sub(r"(?i),?\s*(?:please|thanks|thank you)$", "", wording).strip(" ,.!")
    if len(wording.split()) < 2:
        return []
    words = third_person(wording)
    words = words[:1].lower() + words[1:]
    content = f"The user wants you to {words}"
    slot = value = None
    lang = _LANGUAGE_RULE.search(sentence)
    if lang and lang.group(1) in LANGUAGES:
        slot, value = "rule:language", lang.group(1)
    return [
        make_candidate(
            MemoryType.PROCEDURAL,
            content,
            slot=slot,
            value=value,
            anchor="The user wants you to" if slot else None,
            reliability=0.95,
        )
    ]


def _from_now_on(m: re.Match[str], sentence: str) -> list[Candidate]:
    return _procedure(m.group(1), sentence)


def _always_never(m: re.Match[str], sentence: str) -> list[Candidate]:
    wording = m.group(0)
    if re.match(r"(?i)(?:please\s+)?never\s+mind\b", wording):
        return []
    wording = re.sub(r"(?i)^(?:please\s+)?(?:don't|do not)\s+ever\b", "never", wording)
    wording = re.sub(r"(?i)^please\s+", "", wording)
    return _procedure(wording, sentence)


def _want_you_to(m: re.Match[str], sentence: str) -> list[Candidate]:
    if not re.search(
        r"(?i)\b(?:always|never|from now on|in (?:the )?future|going forward|every time|whenever|when you "
        r"(?:answer|reply|respond|write|explain))\b",
        sentence,
    ):
        return []
    return _procedure(m.group(1), sentence)


def _when_you_answer(m: re.Match[str], sentence: str) -> list[Candidate]:
    return _procedure(sentence, sentence)


PROCEDURE_RULES: tuple[Rule, ...] = (
    rule(r"(?i)^(?:and\s+)?from\s+now\s+on,?\s+(.+)", _from_now_on),
    rule(r"(?i)^(?:please\s+)?(?:always|never|don't\s+ever|do\s+not\s+ever)\b.+", _always_never),
    rule(r"(?i)\bI\s+(?:want|need|would\s+like|'d\s+like)\s+you\s+to\s+(.+)", _want_you_to),
    rule(
        r"(?i)^(?:please\s+)?(?:use|keep|make|answer|reply|respond|write|give|be)\b.*\bwhen(?:ever)?\s+you\s+(?:answer|reply|respond|write|explain)\b.*",
        _when_you_answer,
    ),
)

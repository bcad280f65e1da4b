"""Rules for how the user wants to be answered: "from now on ...", "always ...", "when you answer ...".

Only the form of answers is a preference (`FormAspect`): their language, length, format, style, or how to
address the user. Such a request is a procedural memory with the slot ``rule:<aspect>``; anything else the
user asks the assistant to do ("always show me what Bob said") is kept as what they asked, an episodic
memory with no authority.
"""

from __future__ import annotations

import re

from jyntrix_domain.fact_rules.common import LANGUAGES, FactCandidate, Rule, make_candidate, rule
from jyntrix_domain.language.person import third_person
from jyntrix_domain.model import FORM_SLOT_PREFIX, FormAspect, MemoryType

_LANGUAGE_RULE = re.compile(r"(?i)\b(?:answer|respond|reply|speak|write|talk)\b.*?\bin\s+([A-Z][a-z]+)")
_ASPECTS: tuple[tuple[FormAspect, re.Pattern[str]], ...] = (
    (FormAspect.ADDRESS, re.compile(r"(?i)\bcall\s+me\b|\baddress\s+me\b|\bmy\s+name\b")),
    (
        FormAspect.LENGTH,
        re.compile(
            r"(?i)\b(?:short|shorter|brief|concise|long|longer|detailed|verbose|succinct|terse|one\s+sentence|"
            r"few\s+words|to\s+the\s+point|tl;?dr|length)\b"
        ),
    ),
    (
        FormAspect.FORMAT,
        re.compile(
            r"(?i)\b(?:bullet|bullets|list|lists|numbered|markdown|table|tables|code\s+blocks?|emojis?|"
            r"headings?|headers?|plain\s+text|paragraphs?|format|formatting|bold|italics?|json|steps)\b"
        ),
    ),
    (
        FormAspect.STYLE,
        re.compile(
            r"(?i)\b(?:formal|informal|casual|friendly|polite|funny|humou?r|jokes?|serious|simple\s+words|"
            r"plain\s+english|jargon|tone|style|gentle|direct|blunt|encouraging|sarcastic|examples?|"
            r"explain\s+like|eli5|technical)\b"
        ),
    ),
)


def form_of(wording: str) -> FormAspect | None:
    """The aspect of answers a request shapes, if it shapes only their form."""
    return next((aspect for aspect, said in _ASPECTS if said.search(wording)), None)


def _procedure(wording: str, sentence: str) -> list[FactCandidate]:
    wording = re.sub(r"(?i)^(?:please|pls|kindly)\s+", "", wording.strip(" ,.!")).strip()
    wording = re.sub(r"(?i),?\s*(?:please|thanks|thank you)$", "", wording).strip(" ,.!")
    if len(wording.split()) < 2:
        return []
    words = third_person(wording)
    words = words[:1].lower() + words[1:]
    content = f"The user wants you to {words}"
    lang = _LANGUAGE_RULE.search(sentence)
    if lang and lang.group(1) in LANGUAGES:
        aspect: FormAspect | None = FormAspect.LANGUAGE
        value = lang.group(1)
    else:
        aspect = form_of(wording)
        value = words
    if aspect is None:
        # Not about the form of answers: what the user asked, with no authority.
        return [make_candidate(MemoryType.EPISODIC, f"The user asked you to {words}", reliability=0.8)]
    return [
        make_candidate(
            MemoryType.PROCEDURAL,
            content,
            slot=f"{FORM_SLOT_PREFIX}{aspect.value}",
            value=value,
            anchor="The user wants you to",
            reliability=0.95,
        )
    ]


def _from_now_on(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    return _procedure(m.group(1), sentence)


def _always_never(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    wording = m.group(0)
    if re.match(r"(?i)(?:please\s+)?never\s+mind\b", wording):
        return []
    wording = re.sub(r"(?i)^(?:please\s+)?(?:don't|do not)\s+ever\b", "never", wording)
    wording = re.sub(r"(?i)^please\s+", "", wording)
    return _procedure(wording, sentence)


def _want_you_to(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    if not re.search(
        r"(?i)\b(?:always|never|from now on|in (?:the )?future|going forward|every time|whenever|when you "
        r"(?:answer|reply|respond|write|explain))\b",
        sentence,
    ):
        return []
    return _procedure(m.group(1), sentence)


def _when_you_answer(m: re.Match[str], sentence: str) -> list[FactCandidate]:
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

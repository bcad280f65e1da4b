"""Rules for how the user wants to be answered: "from now on ...", "always ...", "when you answer ...".

Only the form of answers is a preference (`FormAspect`): their language, length, format, style, or how to
address the user. Such a request is a procedural memory with the slot ``rule:<aspect>``; anything else the
user asks the assistant to do ("always show me what Bob said") is kept as what they asked, an episodic
memory with no authority.
"""

from __future__ import annotations

import re

from jyntrix_adapters.english.fact_rules.common import Rule, make_candidate, rule
from jyntrix_adapters.english.fact_rules.phrases import LANGUAGES
from jyntrix_adapters.english.person import third_person
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import FORM_SLOT_PREFIX, FormAspect, MemoryType

_LANGUAGE_RULE = re.compile(r"(?i)\b(?:answer|respond|reply|speak|write|talk)\b.*?\bin\s+([A-Z][a-z]+)")
_CALL_ME = re.compile(r"(?i)\b(?:call|address)\s+me\s+(?:as\s+)?([A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)?)")
_NEGATED = re.compile(r"(?i)\b(?:never|no|not|don't|do\s+not|without|avoid|stop|skip|less)\b")
# The words that name a form of answers, by aspect: the preference is that word, never the user's wording.
_FORMS: tuple[tuple[FormAspect, re.Pattern[str]], ...] = (
    (
        FormAspect.LENGTH,
        re.compile(
            r"(?i)\b(short|shorter|brief|briefer|concise|long|longer|detailed|verbose|succinct|terse|one\s+sentence|"
            r"a\s+few\s+words|to\s+the\s+point)\b"
        ),
    ),
    (
        FormAspect.FORMAT,
        re.compile(
            r"(?i)\b(bullet\s+points|bullets|a\s+(?:bulleted\s+|numbered\s+)?list|numbered\s+lists?|markdown|tables?|"
            r"code\s+blocks?|emojis?|emoticons|headings|headers|plain\s+text|short\s+paragraphs|bold\s+text|json)\b"
        ),
    ),
    (
        FormAspect.STYLE,
        re.compile(
            r"(?i)\b(formal|informal|casual|friendly|polite|funny|humou?r|jokes|serious|simple\s+words|"
            r"plain\s+english|jargon|gentle|blunt|encouraging|sarcasm|sarcastic|technical\s+terms)\b"
        ),
    ),
)


_STYLE_NOUNS = frozenset(
    ("humour", "humor", "jokes", "simple words", "plain english", "jargon", "sarcasm", "technical terms")
)


def form_of(wording: str) -> tuple[FormAspect, str] | None:
    """The aspect of answers a request shapes and the words that name it, if it is about their form."""
    for aspect, said in _FORMS:
        m = said.search(wording)
        if m is not None:
            return aspect, " ".join(m.group(1).lower().split())
    return None


def _preference(aspect: FormAspect, value: str, content: str) -> list[FactCandidate]:
    return [
        make_candidate(
            MemoryType.PROCEDURAL,
            content,
            slot=f"{FORM_SLOT_PREFIX}{aspect.value}",
            value=value,
            anchor="The user wants",
            reliability=0.95,
        )
    ]


def _procedure(wording: str, sentence: str) -> list[FactCandidate]:
    """A typed preference built from the words that name a form of answers, never from the user's wording (so
    nothing else they asked rides along); anything else, what the user asked, with no authority."""
    wording = re.sub(r"(?i)^(?:please|pls|kindly)\s+", "", wording.strip(" ,.!")).strip()
    wording = re.sub(r"(?i),?\s*(?:please|thanks|thank you)$", "", wording).strip(" ,.!")
    if len(wording.split()) < 2:
        return []
    lang = _LANGUAGE_RULE.search(sentence)
    if lang and lang.group(1) in LANGUAGES:
        language = lang.group(1)
        return _preference(FormAspect.LANGUAGE, language, f"The user wants answers in {language}")
    name = _CALL_ME.search(sentence)
    if name:
        return _preference(FormAspect.ADDRESS, name.group(1), f"The user wants to be called {name.group(1)}")
    form = form_of(wording)
    if form is not None:
        aspect, value = form
        without = _NEGATED.search(wording) is not None
        if aspect is FormAspect.LENGTH:
            content = f"The user wants answers {value}" if " " in value else f"The user wants {value} answers"
        elif aspect is FormAspect.FORMAT or without or value in _STYLE_NOUNS:
            content = f"The user wants answers {'without' if without else 'with'} {value}"
        else:
            content = f"The user wants answers that are {value}"
        return _preference(aspect, f"no {value}" if without else value, content)
    words = third_person(wording)
    # Not about the form of answers: what the user asked, kept with no authority.
    return [
        make_candidate(MemoryType.EPISODIC, f"The user asked you to {words[:1].lower() + words[1:]}", reliability=0.8)
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

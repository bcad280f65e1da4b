"""Rules for what the user likes, eats and does: preferences, favourites, allergies, diets and habits.

A habit holds one slot per verb and thing ("habit:drink_coffee"), yes or no; giving one up also
ends liking it, and eating meat ends being vegetarian (`Contradiction`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jyntrix_adapters.english.fact_rules.common import Fact, Rule, key_of, make_candidate, relation_to, rule
from jyntrix_adapters.english.fact_rules.phrases import clean_object
from jyntrix_adapters.english.names import capitalised_names
from jyntrix_adapters.english.person import conjugate
from jyntrix_adapters.english.stopwords import word_set
from jyntrix_domain.english_time_phrases import time_phrase_span
from jyntrix_domain.fact_candidates import Contradiction, FactCandidate
from jyntrix_domain.model import MemoryType

DIETS = ("vegetarian", "vegan", "pescatarian", "pescetarian")
DIET = Fact(MemoryType.SEMANTIC, "The user is {value}", slot="diet", clean=str.lower)
_DIET_RE = "|".join(DIETS)


def _diet_dropped(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    diet = (m.group(1) or m.group(2)).lower()
    lasting = re.search(r"(?i)\b(?:no\s+longer|any\s?more|stopped|quit|gave\s+up)\b", sentence)
    content = f"The user is {'no longer' if lasting else 'not'} {diet}"
    return [make_candidate(MemoryType.SEMANTIC, content, slot="diet", value=f"not {diet}", anchor="The user is")]


# --------------------------------------------------------------------------- preferences

_PREF_VERBS = {
    "love": ("loves", "positive"),
    "adore": ("loves", "positive"),
    "like": ("likes", "positive"),
    "enjoy": ("enjoys", "positive"),
    "prefer": ("prefers", "positive"),
    "am into": ("is into", "positive"),
    "'m into": ("is into", "positive"),
    "am a fan of": ("is a fan of", "positive"),
    "'m a fan of": ("is a fan of", "positive"),
    "am a big fan of": ("is a big fan of", "positive"),
    "'m a big fan of": ("is a big fan of", "positive"),
    "am hooked on": ("is hooked on", "positive"),
    "'m hooked on": ("is hooked on", "positive"),
    "am obsessed with": ("is obsessed with", "positive"),
    "'m obsessed with": ("is obsessed with", "positive"),
    "hate": ("hates", "negative"),
    "dislike": ("dislikes", "negative"),
    "detest": ("hates", "negative"),
    "can't stand": ("can't stand", "negative"),
    "cannot stand": ("can't stand", "negative"),
    "don't like": ("doesn't like", "negative"),
    "do not like": ("doesn't like", "negative"),
    "don't enjoy": ("doesn't enjoy", "negative"),
    "am not a fan of": ("is not a fan of", "negative"),
    "'m not a fan of": ("is not a fan of", "negative"),
}
_NOT_OBJECTS = word_set("it that this them you your how what when where who")
_PREF_RE = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in sorted(_PREF_VERBS, key=len, reverse=True))


def _preference(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    verb = " ".join(m.group(1).lower().split())
    third, polarity = _PREF_VERBS[verb]
    thing = clean_object(m.group(2))
    if not thing or len(thing.split()) > 8 or thing.split()[0].lower() in _NOT_OBJECTS:
        return []
    # "I prefer tea over coffee": the preference is about tea.
    main = re.split(r"(?i)\s+(?:over|to|rather than|instead of)\s+", thing)[0] if verb == "prefer" else thing
    names = capitalised_names(thing)
    # "I'm hooked on Radiolab now": what the user has taken to in place of what the message ends.
    now = re.search(r"(?i)\b(?:now|these\s+days|nowadays|instead)\b", sentence) is not None and polarity == "positive"
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user {third} {thing}",
            slot=f"preference:{key_of(main)}",
            value=polarity,
            anchor=key_of(main),
            relations=[relation_to("likes" if polarity == "positive" else "dislikes", main)],
            entities=names,
            reliability=0.85,
            metadata={"taken_to": main} if now else None,
        )
    ]


def _favourite(m: re.Match[str], _: str) -> list[FactCandidate]:
    category, thing = m.group(1).lower(), re.sub(r"(?i)^(?:now|currently|still)\s+", "", clean_object(m.group(2)))
    if not thing:
        return []
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user's favourite {category} is {thing}",
            slot=f"favourite:{key_of(category)}",
            value=thing,
            anchor=f"favourite {category}",
            relations=[relation_to(f"favourite_{category}", thing)],
            entities=capitalised_names(thing),
        )
    ]


# --------------------------------------------------------------------------- habits


# verb: (its -ing form, whether it needs an object: "I don't smoke" says enough, "I don't eat" does not)
_HABIT_VERBS: dict[str, tuple[str, bool]] = {
    "eat": ("eating", True),
    "drink": ("drinking", False),
    "smoke": ("smoking", False),
    "vape": ("vaping", False),
    "play": ("playing", True),
    "run": ("running", False),
    "jog": ("jogging", False),
    "swim": ("swimming", False),
    "cycle": ("cycling", False),
    "drive": ("driving", False),
    "gamble": ("gambling", False),
    "watch": ("watching", True),
    "go": ("going", True),
    "use": ("using", True),
}
_BY_GERUND = {gerund: verb for verb, (gerund, _) in _HABIT_VERBS.items()}
# What one gives up without naming the verb: "I quit coffee" is "I don't drink coffee".
_CONSUMED = {
    **dict.fromkeys(("coffee", "tea", "alcohol", "beer", "wine", "soda", "milk", "energy drinks", "booze"), "drink"),
    **dict.fromkeys(
        (
            "meat",
            "red meat",
            "fish",
            "sugar",
            "chocolate",
            "dairy",
            "gluten",
            "carbs",
            "bread",
            "pork",
            "beef",
            "chicken",
            "junk food",
            "fast food",
            "sweets",
            "cheese",
            "eggs",
        ),
        "eat",
    ),
    **dict.fromkeys(("cigarettes", "cigars", "tobacco", "weed"), "smoke"),
}
# The diets that eating a food ends: meat ends them all, fish the vegetarian ones, animal products veganism.
_DIETS_ENDED_BY = {
    **dict.fromkeys(word_set("meat beef pork chicken lamb bacon ham steak turkey sausages burgers"), DIETS),
    **dict.fromkeys(word_set("fish seafood salmon tuna shrimp prawns sushi"), ("vegetarian", "vegan")),
    **dict.fromkeys(word_set("dairy cheese eggs milk butter honey yogurt"), ("vegan",)),
}
_HABIT_STOP = word_set(
    "it that this these those them there here much many enough anything everything nothing something any a an or "
    "and nor so too as like what whatever how when where well out more less is are was were has have had stuff things"
)
_PERSONAL = word_set("i i'm my me mine you your yours")
# Words that say when the habit changed, not what it is: dropped from both content and slot.
_CHANGE = re.compile(
    r"(?i)\s+(?:any\s?more|again|these\s+days|nowadays|now|at\s+all|ever|since|for|recently|lately|last|this|"
    r"(?:\w+\s+)?(?:days?|weeks?|months?|years?)\s+ago)\b.*$"
)
# How often: kept in a habit's content, dropped from its slot ("drinks coffee every day" is "drink coffee").
_FREQUENCY = re.compile(
    r"(?i)\s+(?:every|each|daily|weekly|a\s+lot|regularly|sometimes|often|occasionally|most|once|twice|"
    r"(?:\d+|two|three|four|five|several|many)\s+times|on\s+(?:weekends|\w+days|\w+day\s+(?:mornings|afternoons|evenings|nights))|at\s+(?:night|weekends)"
    r"|in\s+the\s+(?:morning|evening)s?)\b.*$"
)
# How much, which says nothing of what: "way too much coffee" is coffee.
_AMOUNT = re.compile(
    r"(?i)^(?:(?:way|far|much)\s+)?(?:too\s+(?:much|many)|so\s+(?:much|many)|a\s+lot\s+of|lots\s+of|loads\s+of|"
    r"plenty\s+of|tons\s+of|a\s+ton\s+of|a\s+little|a\s+bit\s+of)\s+"
)
_HABIT_VERB_RE = "|".join(_HABIT_VERBS)
_GERUND_RE = "|".join(_BY_GERUND)


_EVERY = re.compile(r"(?i)s\b|\s+(?:mornings|afternoons|evenings|nights)\b")


def _one_time(text: str) -> tuple[int, int] | None:
    """The span of a time phrase that names one time: "on Sunday" does, "on Sunday mornings" is every Sunday."""
    span = time_phrase_span(text, stretches=False)
    return None if span is None or _EVERY.match(text, span[1]) else span


def _diets_ruled_out(thing: str) -> tuple[str, ...]:
    return _DIETS_ENDED_BY.get(thing.split()[-1].lower(), ()) if thing else ()


def _habit(verb: str, said: str, *, does: bool, adverb: str = "") -> list[FactCandidate]:
    """ "The user drinks coffee every day" / "The user doesn't drink coffee", one slot per verb and thing."""
    gerund, needs_object = _HABIT_VERBS[verb]
    thing = " ".join(clean_object(said).split())
    thing = _CHANGE.sub("", " " + thing).strip()
    thing = _AMOUNT.sub("", thing)
    when = _one_time(thing)
    if when:  # "on Sunday" says when; "on Sundays" (no time phrase) how often
        thing = thing[: when[0]].strip(" ,")
    # A habit's slot leaves out how often; a negated one keeps its qualifier ("doesn't drink coffee at night").
    core = _FREQUENCY.sub("", " " + thing).strip() if does else thing
    words = core.lower().split()
    if not core and needs_object:
        return []
    if core and (words[0] in _HABIT_STOP or _PERSONAL & set(words)):
        return []
    if len(words) > 4:
        # Too long for a slot ("plays the guitar in a little jazz band on Fridays"), but a statement of what the
        # user does all the same, which a later "I stopped playing in the band" ends by what it names.
        if not does:
            return []
        content = " ".join(w for w in ("The user", adverb, conjugate(verb), thing) if w)
        return [make_candidate(MemoryType.SEMANTIC, content, entities=capitalised_names(thing), reliability=0.8)]
    if verb == "go" and not core.lower().startswith("to "):
        return []
    key = key_of(f"{verb} {core}".strip())
    if does:
        content = " ".join(w for w in ("The user", adverb, conjugate(verb), thing) if w)
        ruled_out = _diets_ruled_out(core) if verb in ("eat", "drink") else ()
        contradicts = [Contradiction("diet", (diet,), diet) for diet in ruled_out]
    else:
        content = " ".join(w for w in ("The user doesn't", verb, core) if w)
        # No longer doing it ends liking it as a current fact too: "loves coffee", "loves playing tennis".
        liked = re.sub(r"(?i)^to\s+", "", core)
        contradicts = [
            Contradiction(f"preference:{key_of(t)}", ("positive",), key_of(t))
            for t in dict.fromkeys(x for x in (liked, f"{gerund} {core}".strip()) if x)
        ]
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            content,
            slot=f"habit:{key}",
            value="yes" if does else "no",
            # Holders say "drinks coffee" or "doesn't drink coffee": the thing, or the verb's stem, is in both.
            anchor=core.lower() or verb.rstrip("e"),
            entities=capitalised_names(core),
            reliability=0.85,
            contradicts=contradicts,
        )
    ]


def _verbs(listed: str) -> list[str]:
    return [w for w in re.split(r"(?i)\s*(?:,|\bor\b|\bnor\b|\band\b)\s*", listed.lower()) if w]


def _not_doing(verbs: Sequence[str], said: str) -> list[FactCandidate]:
    if len(verbs) == 1:
        return _habit(verbs[0], said, does=False)
    # A list of verbs ("I don't smoke or drink") takes no object of its own.
    if _CHANGE.sub("", " " + said).strip(" .,!"):
        return []
    return [c for verb in verbs for c in _habit(verb, "", does=False)]


def _does_not(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I no longer eat meat", "I don't smoke or drink", "I never drink coffee at night"."""
    return _not_doing(_verbs(m.group(1)), m.group(2) or "")


def _stopped(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I stopped eating meat", "I quit smoking and drinking"."""
    return _not_doing([_BY_GERUND[g] for g in _verbs(m.group(1))], m.group(2) or "")


def _gave_up(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I quit coffee", "I gave up sugar": a thing consumed, whose verb goes without saying."""
    thing = _CHANGE.sub("", " " + clean_object(m.group(1))).strip().lower()
    verb = _CONSUMED.get(thing)
    return [] if verb is None else _habit(verb, thing, does=False)


def _does(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "I drink coffee every day", "I eat meat again": a habit, unless the sentence is about one day."""
    if _one_time(sentence):  # "on Sunday" is a plan; "on Sundays" (no time phrase) a habit
        return []
    adverb = (m.group(1) or "").lower()
    return _habit(m.group(2).lower(), m.group(3) or "", does=True, adverb="" if adverb == "do" else adverb)


def _switched_to(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I switched to green tea": what the user drinks or eats now."""
    thing = _CHANGE.sub("", " " + clean_object(m.group(1))).strip()
    verb = _CONSUMED.get(thing.lower()) or _CONSUMED.get(thing.lower().split()[-1]) if thing else None
    return [] if verb is None else _habit(verb, thing, does=True)


def _started(m: re.Match[str], _: str) -> list[FactCandidate]:
    return _habit(_BY_GERUND[m.group(1).lower()], m.group(2) or "", does=True)


HABIT_RULES: tuple[Rule, ...] = (
    rule(
        r"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|now\s+|also\s+)?(?:switched|changed|moved|gone|went)(?:\s+over)?\s+to\s+"
        r"([a-z][a-z ]*)",
        _switched_to,
    ),
    # "I'm vegan", "I've been vegetarian for years", "I went vegan in January", "I'm now fully vegan"
    rule(
        r"(?i)\bI(?:'m|\s+am|'ve\s+been|\s+have\s+been|\s+went|\s+turned|\s+became|(?:'ve|\s+have)\s+(?:gone|become))"
        rf"\s+(?:now\s+|fully\s+|completely\s+|strictly\s+|mostly\s+)*({_DIET_RE})\b",
        DIET,
    ),
    rule(
        rf"(?i)\bI(?:'m|\s+am)\s+(?:no\s+longer|not)\s+(?:an?\s+)?({_DIET_RE})\b"
        rf"|\bI(?:'ve|\s+have)?\s+(?:just\s+)?(?:stopped|quit|gave\s+up|given\s+up)\s+being\s+"
        rf"(?:an?\s+)?({_DIET_RE})\b",
        _diet_dropped,
    ),
    rule(
        rf"(?i)\bI(?:\s+(?:really|absolutely|totally|also|just|truly|do|still|genuinely))?(?:\s+|(?='))({_PREF_RE})\s+(.+)",
        _preference,
    ),
    rule(r"(?i)\bmy\s+(?:new\s+|current\s+|all-time\s+)?favou?rite\s+([a-z]+(?:\s+[a-z]+)?)\s+is\s+(.+)", _favourite),
    rule(
        r"(?i)\bI(?:'m|\s+am)\s+(?:very\s+|severely\s+|mildly\s+)?allergic\s+to\s+(.+)",
        Fact(
            MemoryType.SEMANTIC,
            "The user is allergic to {value}",
            slot="allergy:{key}",
            anchor="allergic to",
            predicate="allergic_to",
            clean=clean_object,
            slot_value="allergic",
            reliability=0.95,
        ),
    ),
    rule(
        rf"(?i)\bI\s+(?:no\s+longer|never|don't|do\s+not|dont)\s+((?:{_HABIT_VERB_RE})(?:\s*(?:,|or|nor|and)\s+"
        rf"(?:{_HABIT_VERB_RE}))*)\b(.*)",
        _does_not,
    ),
    rule(
        r"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|finally\s+|recently\s+|completely\s+)?"
        rf"(?:stopped|quit|gave\s+up|given\s+up)\s+((?:{_GERUND_RE})(?:\s*(?:,|or|and)\s+(?:{_GERUND_RE}))*)\b(.*)",
        _stopped,
    ),
    rule(
        r"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|finally\s+|recently\s+|completely\s+)?(?:quit|gave\s+up|given\s+up|"
        r"stopped|cut\s+out)\s+([a-z][a-z ]*)",
        _gave_up,
    ),
    rule(
        r"(?i)\bI\s+(?:(usually|often|always|regularly|still|also|really|mostly|sometimes|occasionally|normally|do"
        r"|now)\s+)?"
        rf"({_HABIT_VERB_RE})\b(.*)",
        _does,
    ),
    rule(
        rf"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|recently\s+)?(?:started|began|begun|resumed|took\s+up|taken\s+up)\s+"
        rf"({_GERUND_RE})\b(.*)",
        _started,
    ),
)

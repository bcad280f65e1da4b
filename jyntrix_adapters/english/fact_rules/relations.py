"""Rules for the people and pets in the user's life: "my sister Anna", "Tom is my friend", "her name is Bella"."""

from __future__ import annotations

import re

from jyntrix_adapters.english.fact_rules.common import Rule, key_of, make_candidate, relation_to, rule
from jyntrix_adapters.english.fact_rules.phrases import NAME, clean_object, is_name
from jyntrix_adapters.english.kinship import REL_WORDS, SINGLE_RELATIONS, canonical_relation
from jyntrix_adapters.english.person import third_person
from jyntrix_adapters.english.stopwords import word_set
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import MemoryType

_PETS = frozenset({"dog", "cat", "horse", "rabbit", "parrot"})


def _relation_slot(rel: str, name: str) -> str:
    return f"relation:{rel}" if rel in SINGLE_RELATIONS.values() else f"relation:{rel}:{key_of(name)}"


def relation(rel_word: str, name: str, content: str | None = None) -> list[FactCandidate]:
    """A named person or pet, worded by default "has a dog named Rex" or "'s sister is Anna"."""
    name = name.strip()
    if not is_name(name):
        return []
    rel = canonical_relation(rel_word)
    if content is None:
        content = f"The user has a {rel} named {name}" if rel in _PETS else f"The user's {rel} is {name}"
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            content,
            slot=_relation_slot(rel, name),
            value=name,
            anchor=f"The user's {rel}" if rel not in _PETS else f"{rel} named",
            entities=[name],
            relations=[relation_to(rel, name)],
        )
    ]


def _relation_is(m: re.Match[str], _: str) -> list[FactCandidate]:
    return relation(m.group(1), m.group(2))


def _is_my(m: re.Match[str], _: str) -> list[FactCandidate]:
    return relation(m.group(2), m.group(1))


def _has_named(m: re.Match[str], _: str) -> list[FactCandidate]:
    rel, name = canonical_relation(m.group(1)), m.group(2).strip()
    return relation(m.group(1), name, f"The user has a {rel} named {name}")


_DESCRIBED = re.compile(r",\s*(an?\s+[a-z][a-z \-]{2,40}?)\s*(?:[,.;!]|$)")


# What ends a relation rather than states it: "my girlfriend Lea and I split up", "our dog Rex died".
_ENDS_IT = re.compile(
    r"(?i)(?:\s*(?:and|&)\s+I)?\s+(?:(?:just|sadly|finally|recently|have|has)\s+)*(?:broke\s+up|split\s+up|separated|"
    r"(?:got\s+)?divorced|died|passed\s+(?:away|on)|was\s+put\s+down|had\s+to\s+be\s+put)\b"
)


def _relation_apposition(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    if _ENDS_IT.match(sentence, m.end()):
        return []  # the ending rules read it (`changes`)
    rest = sentence[m.end() :].strip(" ,.!")
    # "my sister Anna lives in Rome": keep the whole statement, it says more than the relation.
    content = third_person(sentence) if m.start() == 0 and rest else None
    described = _DESCRIBED.match(sentence, m.end())
    if content is None and described is not None:
        # "our dog Rufus, a scruffy little terrier": what the user says it is stays with it, after it ends too.
        rel = canonical_relation(m.group(1))
        head = f"The user has a {rel} named" if rel in _PETS else f"The user's {rel} is"
        content = f"{head} {m.group(2).strip()} ({described.group(1)})"
    return relation(m.group(1), m.group(2), content)


def _relation_is_a(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    rel = canonical_relation(m.group(1))
    what = clean_object(m.group(2))
    if not what or len(what.split()) > 6:
        return []
    return [make_candidate(MemoryType.SEMANTIC, f"The user's {rel} is {what}", reliability=0.8)]


# --------------------------------------------------------------------------- named by a pronoun

_FEMALE = word_set(
    "sister daughter wife girlfriend mother mom mum aunt niece grandmother grandma fiancee fiancée girl woman lady"
)
_MALE = word_set("brother son husband boyfriend father dad uncle nephew grandfather grandpa fiance fiancé guy man boy")
_STRANGERS = ("guy", "girl", "man", "woman", "boy", "lady", "someone", "somebody")
_NEWCOMER = (
    r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+|also\s+)?"
    r"(?P<verb>adopted|got|have|bought|rescued|met|had|welcomed)\s+"
    r"(?:(?:an?\s+)?(?:(?:new|little|baby|big|older|younger|twin|sweet|tiny|cute|lovely|beautiful|rescue|nice)\s+)*"
    rf"(?P<noun>{REL_WORDS}|{'|'.join(_STRANGERS)}|baby))\b"
    # the rest of that clause ("from the shelter", "at the gym"), then the next one names it; "a cat and a dog,
    # his name is Rex" names one of two, so the clause holds no second thing
    r"(?:(?!\s+(?:and|or)\s)[^.!?;,]){0,40}?(?:\s*[,;.!:]|\s+and|\s+-+)\s+"
    r"(?:(?P<pron>her|his|its|their)\s+name(?:\s+is|'s)|(?P<subj>she|he|it|they)(?:'s|\s+is|'re|\s+are)\s+"
    r"(?:called|named))\s+)" + NAME
)


def _named_by_pronoun(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "We adopted a puppy, her name is Bella": the pronoun names the pet or person just introduced."""
    verb, noun = m.group("verb").lower(), " ".join(m.group("noun").lower().split())
    pronoun, name = (m.group("pron") or m.group("subj")).lower(), m.group(m.re.groups).strip()  # the name is last
    if (pronoun in ("her", "she") and noun in _MALE) or (pronoun in ("his", "he") and noun in _FEMALE):
        return []  # the pronoun is about someone else
    if noun == "baby":
        rel = {"her": "daughter", "she": "daughter", "his": "son", "he": "son"}.get(pronoun)
        return [] if rel is None or verb == "met" else relation(rel, name, f"The user has a {rel} named {name}")
    if noun in _STRANGERS:
        if verb != "met" or pronoun in ("its", "it") or not is_name(name):
            return []
        who = noun if noun.startswith("some") else f"a {noun}"
        return [
            make_candidate(
                MemoryType.SEMANTIC,
                f"The user met {who} named {name}",
                slot=f"relation:met:{key_of(name)}",
                value=name,
                anchor="The user met",
                entities=[name],
                relations=[relation_to("met", name)],
            )
        ]
    rel = canonical_relation(noun)
    pet = rel in _PETS
    if (verb == "met" and pet) or verb == "had" or (pronoun in ("its", "it") and not pet):
        return []  # "I met a dog" is not the user's dog; "I had a dog" is in the past
    return relation(noun, name, f"The user has a {rel} named {name}")


def _pet_with_breed(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "We got a puppy, a beagle called Nala", "we adopted a tabby kitten named Tom": the breed kept with it."""
    pet, breed = m.group("pet") or m.group("pet2"), " ".join((m.group("breed") or m.group("breed2")).split())
    name = m.group("name").strip()
    return relation(pet, name, f"The user has a {canonical_relation(pet)} named {name} (a {breed})")


_PET_WORDS = r"(?P<pet>puppy|dog|kitten|cat|rabbit|bunny|horse|pony|parrot)"
# Common breeds, each said for its kind: "a greyhound called Pepper" is a dog named Pepper.
_BREEDS_OF = {
    "dog": """greyhound whippet beagle labrador lab poodle spaniel terrier collie retriever dachshund sausage-dog
        husky bulldog boxer pug chihuahua corgi dalmatian rottweiler shepherd lurcher schnauzer cockapoo labradoodle""",
    "cat": "tabby siamese persian ragdoll bengal sphynx",
}
_BREED_KIND = {breed: kind for kind, text in _BREEDS_OF.items() for breed in text.split()}
_BREED_WORDS = "|".join(sorted(_BREED_KIND, key=len, reverse=True))


def _breed_named(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "We have a greyhound called Pepper": a pet told by its breed alone, kept as its kind with the breed."""
    breed, name = m.group("breed").lower(), m.group("name").strip()
    kind = _BREED_KIND[breed]
    return relation(kind, name, f"The user has a {kind} named {name} (a {breed})")


_BREED = r"(?P<breed>[a-z][a-z\-]{2,20}(?:\s+[a-z][a-z\-]{2,20})?)"
# "married to" / "engaged to" someone named in the same sentence, or introduced just before ("I met someone,
# Priya, ... and we got engaged").
_HOW = r"(?P<how>engaged|married)"
_ENGAGED = (
    r"(?i:\b(?:I(?:'m|\s+am|\s+got|'ve\s+got|\s+just\s+got)|we(?:'re|\s+are|\s+got|\s+just\s+got))\s+(?:now\s+|just\s+)?)"
    + _HOW
    + r"(?i:\s+to)\s+(?P<name>"
    + NAME[1:-1]
    + r")"
    + r"|(?P<name2>"
    + NAME[1:-1]
    + r")\s+(?i:and\s+I\s+(?:just\s+|finally\s+)?(?:got|are|'re)\s+)(?P<how2>engaged|married)"
    + r"|(?i:\bI\s+met\s+(?:someone|somebody|a\s+(?:guy|girl|man|woman))\s*,?\s*)(?P<name3>"
    + NAME[1:-1]
    + r")[^.!?]*?(?i:\bwe(?:'ve|\s+have)?\s+(?:just\s+|finally\s+)?got\s+)(?P<how3>engaged|married)"
)


# What a sentence says the person is, right after naming them: "Priya, she's a vet", "Theo, a nurse".
_WHO_IS = re.compile(
    r"\s*,\s*(?:(?:she|he|they)(?:'s|\s+is|'re|\s+are)\s+)?(an?\s+[a-z][a-z \-]{2,30}?)\s*(?:[,.;!]|$)"
)


def _engaged(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    i = next(i for i in ("", "2", "3") if m.group(f"name{i}"))
    name, how = m.group(f"name{i}").strip(), m.group(f"how{i}").lower()
    who = _WHO_IS.match(m.string, m.end(f"name{i}"))
    said = f" ({who.group(1)})" if who else ""
    if how == "married":
        return relation("spouse", name, f"The user is married to {name}{said}, the user's partner")
    return relation("fiance", name, f"The user is engaged to {name}{said}, the user's partner")


_AGE = re.compile(
    r"\s*,\s*(?:(?:she|he|they)(?:'s|\s+is|'re|\s+are)|who(?:'s|\s+is))\s+(\d{1,2}|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve)(?:\s+years?\s+old)?\b"
)


def _have_a(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "We have a daughter, Ella, she's 5": the person named after the comma, with the age said of them."""
    rel, name = canonical_relation(m.group(1)), m.group(2).strip()
    age = _AGE.match(m.string, m.end())
    said = f" and is {age.group(1)} years old" if age else ""
    head = f"The user has a {rel} named {name}" if rel in _PETS else f"The user's {rel} is named {name}"
    return relation(rel, name, head + said)


def _their_news(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "Tom got a job at a hospital there", "Ella starts at an international school": news of someone in the
    user's life (a new job, a new school), said of them."""
    who = m.group("who")
    if who and not is_name(who):
        return []
    names = [who.strip()] if who else []
    return [make_candidate(MemoryType.SEMANTIC, third_person(sentence), entities=names, reliability=0.8)]


RELATION_RULES: tuple[Rule, ...] = (
    rule(
        r"^(?:(?i:(?:and|so|also|oh),?\s+))?(?:(?P<who>" + NAME[1:-1] + r")|(?i:(?:my|our)\s+(?:" + REL_WORDS + r")))"
        r"(?i:\s+(?:just\s+|finally\s+|also\s+)?(?:(?:got|found|landed|accepted|started|was\s+offered)\s+an?\s+(?:new\s+)?"
        r"(?:job|position|post|role|place)\b|(?:starts|started|is\s+starting|will\s+start|goes|began)\s+(?:at\s+)?"
        r"(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,3}(?:school|university|uni|college|nursery|kindergarten|daycare)\b))",
        _their_news,
    ),
    rule(
        rf"(?i:\b(?:I|we)\s+(?:have|'ve\s+got|have\s+got)\s+an?\s+(?:little\s+|baby\s+|young\s+|grown-up\s+)?({REL_WORDS})"
        r"\s*,\s*)" + NAME + r"\b",
        _have_a,
    ),
    rule(
        rf"(?i:\bmy\s+({REL_WORDS})(?:'s\s+name)?\s+(?:is|'s)\s+(?:called\s+|named\s+)?)" + NAME + r"\b", _relation_is
    ),
    rule(rf"(?i:\b(?:my|our)\s+({REL_WORDS}),?\s+)" + NAME + r"\b", _relation_apposition),
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|also\s+|finally\s+)?(?:got|adopted|rescued|bought)\s+an?\s+"
        r"(?:new\s+|little\s+)?)(?:"
        + _PET_WORDS
        + r"(?i:\s+as\s+well|\s+too)?\s*,?\s+(?i:an?)\s+"
        + _BREED
        + r"|"
        + _BREED.replace("breed", "breed2")
        + r"\s+"
        + _PET_WORDS.replace("pet", "pet2")
        + r")(?i:\s+(?:called|named))\s+(?P<name>"
        + NAME[1:-1]
        + r")",
        _pet_with_breed,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:also\s+|just\s+)?(?:have|got|adopted|rescued|bought)\s+an?\s+"
        rf"(?:(?:old|young|little|retired|rescue)\s+)?(?P<breed>{_BREED_WORDS})\s+(?:called|named))\s+(?P<name>"
        + NAME[1:-1]
        + r")",
        _breed_named,
    ),
    rule(_ENGAGED, _engaged),
    rule(
        rf"(?i:\bI\s+have\s+an?\s+(?:little\s+|big\s+|older\s+|younger\s+|twin\s+)?({REL_WORDS})\s+(?:called|named))\s+"
        + NAME,
        _has_named,
    ),
    # "I have a dog named Rex and a cat called Luna": the second pet shares the first one's "I have".
    rule(
        rf"(?i:\bI\s+have\s+an?\s+[\w ]+?\s+(?:called|named)\s+[\w'-]+\s*(?:,|and)\s+an?\s+({REL_WORDS})\s+"
        r"(?:called|named))\s+" + NAME,
        _has_named,
    ),
    rule(_NEWCOMER, _named_by_pronoun, spans_previous=True),
    rule(rf"{NAME}\s+(?i:is\s+my\s+(?:best\s+|little\s+|big\s+|older\s+|younger\s+)?({REL_WORDS}))\b", _is_my),
    rule(rf"(?i)\bmy\s+({REL_WORDS})\s+is\s+(an?\s+[a-z][a-z \-]+)", _relation_is_a),
)

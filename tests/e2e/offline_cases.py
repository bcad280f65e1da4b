"""What two users tell the offline default over several conversations, and what they ask later (issue 22).

Written for `bench/offline_answers.py` and tests/e2e/test_offline_answers.py. Hannah and Sam each say some
twenty things in ordinary chatty English, over three or four conversations; every question is then asked in a
new conversation, in other words than the statement used. The categories are the issue's: pets (name, species,
breed), work (employer and role asked apart), dates said with events, plans and intentions, hobbies and
learning, family and partner ("Daniel and I got married"), names ("my name is", "call me", which also set the
profile's display name), sets gathered whole, the past stated as past. Two more kinds answer from the
conversation itself: a statement then a question in the same conversation (`HISTORY`), and a statement in an
earlier message of one OpenAI request (`OPENAI`), each for a user of its own who has nothing remembered.

Expected answers are any-of word groups (tests/e2e/answer_checks.py); `past` asks that the sentence naming the
answer says it held before ("you used to…", "you were…", "you lived…").
"""

from __future__ import annotations

from typing import NamedTuple

from tests.e2e.answer_checks import Expect

PETS, WORK, DATES, PLANS, HOBBIES = "pets", "work", "dates", "plans", "hobbies"
FAMILY, NAMES, SETS, PAST = "family", "names", "sets", "past"
HISTORY, OPENAI, FORM = "conversation_history", "openai_messages", "form"
CATEGORIES = (PETS, WORK, DATES, PLANS, HOBBIES, FAMILY, NAMES, SETS, PAST, HISTORY, OPENAI, FORM)


class Ask(NamedTuple):
    category: str
    text: str
    expect: Expect
    past: bool = False


class Persona(NamedTuple):
    """A user who tells `conversations` and is then asked `questions`; `display_name` holds one of these words."""

    name: str
    conversations: tuple[tuple[str, ...], ...]
    questions: tuple[Ask, ...]
    display_name: tuple[str, ...]


class SaidThenAsked(NamedTuple):
    """A statement and a question together: in one conversation (`HISTORY`) or one OpenAI request (`OPENAI`)."""

    category: str
    said: str
    asked: str
    expect: Expect


HANNAH = Persona(
    name="hannah",
    conversations=(
        (
            "Hi there, my name is Hannah Okafor.",
            "I work at Spotify as a data engineer, mostly on the recommendations pipeline.",
            "I started there in March 2023, straight after finishing my master's.",
            "We have a greyhound called Pepper, she's a retired racer and incredibly lazy.",
            "There's also Sheldon, my tortoise, who is older than me!",
        ),
        (
            "Daniel and I got married on the 14th of June, in a tiny registry office in Bristol.",
            "Daniel is a paramedic, so he works a lot of nights.",
            "My sister Maya lives in Lisbon and teaches English there.",
            "My brother Leo is a chef at a seafood restaurant in Cardiff.",
            "My mum Grace comes over from Lagos every Christmas.",
            "We adopted Pepper last June from a rescue centre.",
        ),
        (
            "I play five-a-side football every Tuesday night with some people from work.",
            "I've been learning Portuguese so I can chat with Maya's friends.",
            "I took up pottery in January, the class is on Saturday mornings.",
            "We're planning to buy a campervan next spring and drive around Scotland.",
            "I'm hoping to run the Edinburgh marathon next May.",
            "I'm thinking about applying for a PhD in statistics at some point.",
            "I'm going to my friend Chloe's wedding in Italy in September.",
            "Oh, and we've just got a kitten called Mochi, who terrorises poor Pepper.",
        ),
        (
            "Before Spotify I worked as a barista in Bristol for three years.",
            "I used to play the violin when I was a kid, I was terrible at it.",
            "We lived in Manchester until 2020, then moved down to London.",
            "I used to be vegetarian, but I eat fish again now.",
        ),
    ),
    questions=(
        Ask(PETS, "What kind of dog do I have?", (("greyhound",),)),
        Ask(PETS, "What's the name of my dog?", (("pepper",),)),
        Ask(PETS, "What animal is Sheldon?", (("tortoise",),)),
        Ask(PETS, "What kind of pet is Mochi?", (("kitten", "cat"),)),
        Ask(WORK, "Who is my employer?", (("spotify",),)),
        Ask(WORK, "What is my job title?", (("data engineer",),)),
        Ask(WORK, "What part of the product do I work on?", (("recommendation",),)),
        Ask(DATES, "When did I join Spotify?", (("march",), ("2023",))),
        Ask(DATES, "When is my wedding anniversary?", (("14",), ("june",))),
        Ask(DATES, "When did we get Pepper?", (("june",),)),
        Ask(DATES, "When did I start doing pottery?", (("january",),)),
        Ask(PLANS, "What vehicle are we thinking of buying?", (("campervan",),)),
        Ask(PLANS, "Which marathon do I want to take part in?", (("edinburgh",),)),
        Ask(PLANS, "What degree am I considering?", (("phd", "statistics"),)),
        Ask(PLANS, "What am I doing in September?", (("wedding", "italy"),)),
        Ask(HOBBIES, "How do I spend Tuesday evenings?", (("football",),)),
        Ask(HOBBIES, "Which language am I studying?", (("portuguese",),)),
        Ask(HOBBIES, "What craft have I taken up this year?", (("pottery",),)),
        Ask(FAMILY, "Who is my husband?", (("daniel",),)),
        Ask(FAMILY, "What does Daniel do for work?", (("paramedic",),)),
        Ask(FAMILY, "Which city is Maya based in?", (("lisbon",),)),
        Ask(FAMILY, "What does my brother do for a living?", (("chef",),)),
        Ask(FAMILY, "What's my mother called?", (("grace",),)),
        Ask(NAMES, "What's my name?", (("hannah",),)),
        Ask(SETS, "What pets do I have?", (("pepper",), ("sheldon",), ("mochi",))),
        Ask(SETS, "Who is in my family?", (("daniel",), ("maya",), ("leo",), ("grace",))),
        Ask(PAST, "What job did I have before I became a data engineer?", (("barista",),), past=True),
        Ask(PAST, "Which instrument did I play as a child?", (("violin",),), past=True),
        Ask(PAST, "Which city was home before London?", (("manchester",),), past=True),
        Ask(PAST, "What diet did I follow before?", (("vegetarian",),), past=True),
    ),
    display_name=("hannah",),
)

SAM = Persona(
    name="sam",
    conversations=(
        (
            "Hi! Call me Sam, everyone does.",
            "I'm a nurse at St Thomas' Hospital, mostly night shifts on the cardiac ward.",
            "My partner Alex is an architect, she designs schools.",
            "We've got two cats, Biscuit and Tofu. Biscuit is a Maine Coon and Tofu is a tabby.",
        ),
        (
            "Our daughter Zoe was born on the 3rd of February 2019.",
            "Zoe has a hamster called Nibbles that keeps us up at night.",
            "I was a paramedic for five years before I retrained as a nurse.",
            "I used to live in Glasgow, I moved to London for work.",
            "I've been learning to sail at the reservoir on weekends.",
            "I started rock climbing last October and I'm hooked.",
        ),
        (
            "I'm planning to visit my grandparents in Krakow this summer.",
            "I want to get my sailing licence before I turn forty.",
            "My dad Peter is retired and lives in Aberdeen.",
            "My brother Jamie lives in Toronto with his wife.",
            "I went to university in Edinburgh, I studied biology there.",
        ),
    ),
    questions=(
        Ask(PETS, "What breed is Biscuit?", (("maine",),)),
        Ask(PETS, "What type of cat is Tofu?", (("tabby",),)),
        Ask(PETS, "What kind of animal is Nibbles?", (("hamster",),)),
        Ask(WORK, "Which hospital employs me?", (("thomas",),)),
        Ask(WORK, "What do I do for a living?", (("nurse",),)),
        Ask(WORK, "Which ward do I work on?", (("cardiac",),)),
        Ask(DATES, "What is Zoe's date of birth?", (("3",), ("february",), ("2019",))),
        Ask(DATES, "When did I take up climbing?", (("october",),)),
        Ask(PLANS, "Who am I going to see this summer?", (("grandparent", "krakow"),)),
        Ask(PLANS, "What am I aiming to earn before my fortieth birthday?", (("licen", "sail"),)),
        Ask(HOBBIES, "What have I been practising at the reservoir?", (("sail",),)),
        Ask(HOBBIES, "What sport did I take up in the autumn?", (("climb",),)),
        Ask(FAMILY, "What does my partner do?", (("architect",),)),
        Ask(FAMILY, "Where does my father live?", (("aberdeen",),)),
        Ask(NAMES, "What name do I go by?", (("sam",),)),
        Ask(SETS, "Which animals do we have at home?", (("biscuit",), ("tofu",), ("nibbles",))),
        Ask(SETS, "Who is in my family?", (("alex",), ("zoe",), ("peter",), ("jamie",))),
        Ask(PAST, "What was my job before nursing?", (("paramedic",),), past=True),
        Ask(PAST, "What subject did I do at university?", (("biology",),), past=True),
        Ask(PAST, "Where was I living before I came to London?", (("glasgow",),), past=True),
    ),
    display_name=("sam",),
)

PERSONAS = (HANNAH, SAM)

SAID_THEN_ASKED = (
    SaidThenAsked(HISTORY, "I'm allergic to peanuts, just so you know.", "What am I allergic to?", (("peanut",),)),
    SaidThenAsked(HISTORY, "My car is a blue Skoda Octavia.", "What colour is my car?", (("blue",),)),
    SaidThenAsked(HISTORY, "My flight to Oslo leaves at 6am on Friday.", "Where am I flying to?", (("oslo",),)),
    SaidThenAsked(OPENAI, "I am allergic to peanuts.", "What am I allergic to?", (("peanut",),)),
    SaidThenAsked(OPENAI, "I'm a pharmacist in Leeds.", "What's my job?", (("pharmacist",),)),
    SaidThenAsked(OPENAI, "My bike is a red Brompton.", "What bike do I ride?", (("brompton",),)),
    SaidThenAsked(OPENAI, "My son Oliver turns ten next week.", "How old will Oliver be?", (("ten", "10"),)),
)

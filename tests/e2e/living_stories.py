"""Stories of users who change their minds, told in their own chatty words, with questions about them afterwards.

Nina's story is issue 21's, as the issue lays it out: four conversations, then its 14 questions and their
expected answers. The others are written the same way with other attributes and other wordings, so that a
mechanism, not one story, is what passes: a car sold for a bike, vegetarian then vegan, two changes of employer,
a break-up and an engagement, a dog that died and a puppy, two moves, Notion for Obsidian, the gym for
climbing, Japan for Korea, a goal given up, a paint colour and a podcast changed. Some messages carry several
facts; small talk and questions of the user's own sit in between (`asked`), and one story repeats a sentence
word for word, which must still be one memory.

Expected answers are any-of word groups (see tests/e2e/answer_checks.py); `stale` phrases state a replaced
value as a present state and are chosen so that a still-true statement ("I left Zalando last month",
"switched from Duolingo to Babbel", "the Berlin half marathon") never holds one (tests/e2e/story_runner.py).
"""

from __future__ import annotations

from tests.e2e.story_runner import Question, Story, asked, said

NINA = Story(
    name="nina",
    conversations=(
        (
            said("Hi! I'm Nina, I'm 34 and I grew up in Manchester."),
            said("I live in Berlin, I moved here in March 2023, and I work as a UX designer at Zalando."),
            said("My husband Tom is a nurse and we have a daughter, Ella, she's 5."),
            said("Oh and I'm allergic to shellfish, so no prawns for me please!"),
        ),
        (
            said("Quick update: I actually left Zalando last month, I'm now a product manager at N26."),
            said("We also adopted a cat! She's called Miso and she owns the sofa now."),
            said("I'm training for the Berlin half marathon in April, wish me luck."),
            asked("Do you know any good stretches for runners?"),
            said("And I love ramen, I could eat it every single day."),
        ),
        (
            said("Big news, we're moving to Amsterdam in January! Tom got a job at a hospital there."),
            said("Ella starts at an international school, she's so excited."),
            said("I'm learning Dutch on Duolingo to get ready."),
            said("Scratch the half marathon, I hurt my knee, I'm swimming instead."),
        ),
        (
            said("We moved into our flat in Amsterdam last week. It's in De Pijp."),
            said("My mum Linda is visiting from Manchester next weekend."),
            said("I switched from Duolingo to Babbel, the lessons are better."),
            asked("What should I show my mum while she's here?"),
        ),
    ),
    questions=(
        Question(
            "Where do I live now?",
            (("amsterdam",),),
            change=True,
            stale=("live in berlin", "lives in berlin", "living in berlin", "based in berlin", "home is in berlin"),
        ),
        Question("Where did I live before Amsterdam?", (("berlin",),), change=True, past=True),
        Question(
            "Where do I work?",
            (("n26",), ("product manager",)),
            change=True,
            stale=(
                "at zalando",
                "for zalando",
                "ux designer",
            ),
        ),
        Question("What was my previous job?", (("designer",), ("zalando",)), change=True, past=True),
        Question("When did I move to Berlin?", (("march",), ("2023",))),
        Question("What's my daughter's name and how old is she?", (("ella",), ("5", "five"))),
        Question("What does my husband do?", (("nurse",),)),
        Question(
            "Am I still training for the half marathon?",
            (("swim",),),
            change=True,
            stale=("training for the half marathon", "training for the berlin half marathon"),
        ),
        Question(
            "Which app do I use to learn Dutch?",
            (("babbel",),),
            change=True,
            stale=("on duolingo", "with duolingo", "use duolingo", "uses duolingo", "using duolingo"),
        ),
        Question("What food should you avoid if you cook for me?", (("shellfish", "prawn"),)),
        Question("What city is my mum visiting from?", (("manchester",),)),
        Question("What is my cat called?", (("miso",),)),
        Question("Where does my daughter go to school?", (("international",),)),
        Question("Which city did my husband get a new job in?", (("amsterdam",),)),
    ),
)

OMAR = Story(
    name="omar",
    conversations=(
        (
            said("Hey, Omar here. I drive a Golf to work every day, it's about forty minutes each way."),
            said("I'm a backend developer at Siemens, mostly Java, and I've been vegetarian for a couple of years."),
            asked("Is it normal to get bored of your own cooking?"),
        ),
        (
            said("So I finally sold the Golf! I cycle everywhere now, got myself a gravel bike."),
            said("Also I went vegan in January, it's going better than I expected."),
            said("Oh and I took an offer from Bosch, I start there on Monday as a senior developer."),
        ),
        (
            said(
                "Work news again: I've left Bosch already, the team was a mess. Joined Spotify as a platform engineer."
            ),
            said("My sister Leila just had a baby boy, his name is Sami."),
            asked("Do you think I'm changing jobs too often?"),
        ),
    ),
    questions=(
        Question(
            "How do I get to work these days?",
            (("cycl", "bike", "bicycle"),),
            change=True,
            stale=("drive a golf", "drives a golf", "driving a golf", "drive to work", "drives to work"),
        ),
        Question("What car did I have before?", (("golf",),), change=True, past=True),
        Question(
            "What's my diet like now?",
            (("vegan",),),
            change=True,
            stale=("is vegetarian", "are vegetarian", "am vegetarian", "i'm vegetarian", "been vegetarian"),
        ),
        Question(
            "Who do I work for now?",
            (("spotify",),),
            change=True,
            stale=("at siemens", "for siemens", "at bosch", "for bosch", "offer from bosch"),
        ),
        Question(
            "What's my job title?",
            (("platform engineer",),),
            change=True,
            stale=("backend developer", "senior developer"),
        ),
        Question("Where did I work before Spotify?", (("bosch",),), change=True, past=True),
        Question("What's my sister's baby called?", (("sami",),)),
    ),
)

# Jess says one sentence again, word for word, in her last conversation: it must stay one memory.
JESS_TEACHES = "I teach maths at a secondary school."
JESS = Story(
    name="jess",
    conversations=(
        (
            said("I live in Leeds with my boyfriend Dan and our dog Rufus, a scruffy little terrier."),
            said(JESS_TEACHES),
            asked("Any ideas for a rainy weekend?"),
        ),
        (
            said("Dan and I broke up last month. It was mutual, but it's still hard."),
            said("I moved out and I'm renting a room in Sheffield now, near my sister."),
            said("Sad news too, Rufus died in the spring, he was fourteen."),
        ),
        (
            said("Things are looking up! I met someone, Priya, she's a vet, and we just got engaged!"),
            said("We got a puppy as well, a beagle called Nala."),
        ),
        (
            said("We've moved into our new house in York, Nala loves the garden."),
            said(JESS_TEACHES),
            asked("What flowers are easy to grow in a small garden?"),
        ),
    ),
    questions=(
        Question(
            "Which city do I live in these days?",
            (("york",),),
            change=True,
            stale=("live in leeds", "living in leeds", "lives in leeds", "room in sheffield", "live in sheffield"),
        ),
        Question("Where did I live before York?", (("sheffield",),), change=True, past=True),
        Question(
            "Who is my partner?",
            (("priya",),),
            change=True,
            stale=("boyfriend dan", "boyfriend is dan"),
        ),
        Question("What does my fiancée do for work?", (("vet",),)),
        Question(
            "What dog do I have now?",
            (("nala", "beagle"),),
            change=True,
            stale=("dog rufus", "scruffy little terrier"),
        ),
        Question("What breed was my old dog?", (("terrier",),), change=True, past=True),
        Question("What subject do I teach?", (("math",),)),
    ),
)

LENA = Story(
    name="lena",
    conversations=(
        (
            said("I keep all my notes in Notion, it's basically my second brain."),
            said("For exercise I go to the gym three times a week, mostly weights."),
            said("We're planning a trip to Japan in October, two weeks in Tokyo and Kyoto!"),
            asked("What's a good book for a long flight?"),
        ),
        (
            said("I moved all my notes over to Obsidian, Notion got way too slow."),
            said("I quit the gym and took up climbing instead, bouldering twice a week."),
            said("Change of plan: we're going to Korea instead of Japan, the flights to Seoul were cheaper."),
        ),
        (
            said("My partner Felix is learning to bake sourdough, the kitchen is covered in flour."),
            said("I'm reading a novel by Han Kang to get in the mood for the trip."),
            asked("Should I learn some Korean phrases before we go?"),
        ),
    ),
    questions=(
        Question(
            "What app do I take notes in?",
            (("obsidian",),),
            change=True,
            stale=("notes in notion", "use notion", "uses notion", "using notion"),
        ),
        Question("What did I use for my notes before?", (("notion",),), change=True, past=True),
        Question(
            "What do I do for exercise?",
            (("climb", "boulder"),),
            change=True,
            stale=("go to the gym", "goes to the gym", "going to the gym", "mostly weights", "lifts weights"),
        ),
        Question(
            "Where are we travelling in October?",
            (("korea", "seoul"),),
            change=True,
            stale=("trip to japan", "tokyo and kyoto", "going to japan", "travelling to japan"),
        ),
        Question("What is Felix learning to make?", (("sourdough", "bread"),)),
        Question("Whose novel am I reading?", (("han kang", "kang"),)),
    ),
)

KOFI = Story(
    name="kofi",
    conversations=(
        (
            said("Morning! Kofi here, I live in London and I'm an accountant at Deloitte."),
            said(
                "I play the guitar in a little jazz band on Fridays, and I drink way too much coffee, five cups a day."
            ),
        ),
        (
            said("Left Deloitte in the summer, I'm a financial analyst at Monzo now."),
            said("I no longer drink coffee, I switched to green tea and I sleep so much better."),
            asked("Is green tea actually healthier than coffee?"),
        ),
        (
            said("Monzo didn't work out. Since last week I'm the finance lead at a startup called Tandem Bikes."),
            said("I stopped playing in the band, not enough time, but I've started running on Sunday mornings."),
        ),
    ),
    questions=(
        Question(
            "Where am I working at the moment?",
            (("tandem",),),
            change=True,
            stale=("at deloitte", "at monzo", "accountant at", "analyst at"),
        ),
        Question("What was my job before the startup?", (("analyst", "monzo"),), change=True, past=True),
        Question(
            "What do I drink these days?",
            (("tea",),),
            change=True,
            stale=("five cups a day", "too much coffee"),
        ),
        Question(
            "Do I still play in the jazz band?",
            (
                (
                    *("stopped", "no longer", "quit", "anymore", "any more", "used to", "gave up", "left"),
                    *("don't play", "doesn't play", "do not play", "does not play"),
                ),
            ),
            change=True,
            stale=("play the guitar in a little jazz band", "jazz band on fridays", "play in a jazz band"),
        ),
        Question("What do I do on Sunday mornings?", (("run",),)),
        Question("Which city do I live in?", (("london",),)),
    ),
)

RUTH = Story(
    name="ruth",
    conversations=(
        (
            said("I'm Ruth, I retired from nursing last year and I finally have time for myself."),
            said("My goal this year is to run a marathon, I've never done one."),
            said("We're going to paint the kitchen yellow in the spring."),
            said("My favourite podcast is The Rest Is History, I listen to it on my walks."),
        ),
        (
            asked("Can you recommend a good stretch for tight hips?"),
            said(
                "I've given up on the marathon, my hip won't have it. My new goal is to swim a mile without stopping."
            ),
            said("Actually we decided on green for the kitchen, yellow felt too loud."),
        ),
        (
            said("I don't listen to The Rest Is History anymore, I'm hooked on Radiolab now."),
            said("My granddaughter Isla turned seven on Saturday."),
            asked("What's a good present for a seven-year-old?"),
        ),
    ),
    questions=(
        Question(
            "What's my fitness goal this year?",
            (("swim",),),
            change=True,
            stale=("run a marathon", "goal this year is to run"),
        ),
        Question("What was my original fitness goal?", (("marathon",),), change=True, past=True),
        Question(
            "What colour are we painting the kitchen?",
            (("green",),),
            change=True,
            stale=("kitchen yellow", "paint the kitchen yellow"),
        ),
        Question(
            "Which podcast am I into these days?",
            (("radiolab",),),
            change=True,
            stale=("podcast is the rest is history", "favourite podcast is the rest"),
        ),
        Question("What did I do for work before I retired?", (("nurs",),), past=True),
        Question("How old is Isla?", (("seven", "7"),)),
    ),
)

OTHER_STORIES = (OMAR, JESS, LENA, KOFI, RUTH)
STORIES = (NINA, *OTHER_STORIES)

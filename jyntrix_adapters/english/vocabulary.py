"""Word lists that say what a message does: small talk, imperatives, question words."""

from __future__ import annotations

from jyntrix_adapters.english.stopwords import QUERY_STOPWORDS, word_set

SMALL_TALK_WORDS = word_set("""
    hi hello hey heya hiya yo sup thanks thank thx ty you ok okay k kk cool great nice awesome good fine alright
    bye goodbye cya morning evening afternoon night sure yes yeah yep yup no nope lol haha hah hmm hm so much
    very lot a there all right wow perfect got it how are what's up whats doing np welcome cheers see later
    gotcha indeed and too
    """)

# Imperatives that change what is remembered or how to behave.
COMMAND_VERBS = word_set("""
    remember forget stop always never don't dont call use answer respond reply write speak talk keep set update
    delete remove save store note add be avoid switch make start change erase drop correct
    """)

# Imperatives that ask for information: treated as questions.
ASK_VERBS = word_set("tell show list describe explain summarise summarize find give recap")

WH_WORDS = word_set("what who whom whose where when why which how")
AUX_WORDS = word_set(
    "do does did is are am was were can could would should will have has had shall may might must "
    "isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't haven't"
)
PERSONAL_WORDS = word_set("i me my mine myself i'm i've i'd i'll we us our ours")

# Words that open a sentence without naming anything ("Does Anna..." names only Anna).
COMMON_WORDS = QUERY_STOPWORDS | SMALL_TALK_WORDS | COMMAND_VERBS | ASK_VERBS | WH_WORDS | AUX_WORDS

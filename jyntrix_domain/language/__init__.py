"""How Jyntrix reads English: time phrases and tense, names and keywords, stopwords, person.

Query analysis, extraction and the offline responder all read text through this package, so a
phrase means one thing wherever it is read.
"""

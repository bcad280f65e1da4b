"""The English the domain still reads itself: time phrases and tense, names and keywords, stopwords, vocabulary.

What a message does, what a question is about and how an ended fact is said are read through the Language
port (jyntrix_adapters/english); what is here waits its turn to follow them.
"""

"""The English function words the keyword indexes neither store nor search: the one English word list left in
the domain, read only by `jyntrix_domain.terms` (import-linter holds that).

It stays because `keyword_terms` is the one split of text shared by every keyword index adapter and by
retrieval's feedback terms, and its callers take no `Language`; until they do, what a term is must not differ
between the index that stores a memory and the query that searches it.
"""

from __future__ import annotations

_WORDS = """
    a about am an and are as at be been but by can could did do does for from had has have he her him his how i
    if in into is it its me my of on or our she so than that the their them then there these they this to was we
    were what when where which who will with would you your
    """
INDEX_STOPWORDS = frozenset(_WORDS.split())
"""What the keyword indexes neither store nor search: English function words only."""

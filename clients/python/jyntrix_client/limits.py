"""The limits the API holds request bodies to, as the wire contract states them.

The request bodies in `jyntrix_client.types` carry these as msgspec constraints, which the server checks
when it decodes a body (the client never does: see that module). The server's domain enforces the same
numbers on every door; tests/http/test_wire_twins.py holds the two sets equal.
"""

from __future__ import annotations

# A memory's content, in characters.
MAX_CONTENT_CHARS = 20_000
# An entity name (as a key), a relation's end or predicate.
MAX_NAME_CHARS = 200
MAX_ENTITIES = 50
MAX_RELATIONS = 50
# Preferences a profile holds.
MAX_PREFERENCES = 100
# A chat message a user sends.
MAX_MESSAGE_CHARS = 32_000
# An id a caller chooses (a memory's, a chat message's).
MAX_ID_CHARS = 100
# What a store indexes, in UTF-8 bytes (a character takes 1 to 4): a memory's id, an entity name or predicate.
MAX_MEMORY_ID_BYTES = 100
MAX_NAME_BYTES = 600
MAX_QUERY_CHARS = 4_000
MAX_SEARCH_LIMIT = 100
MAX_TITLE_CHARS = 200
# Memories one bulk import takes.
MAX_IMPORT_MEMORIES = 1000
# A transcript import: messages a call, the speaker's name, a message's content ("Name: text" fits a
# memory's limit), and the client's own message id.
MAX_TRANSCRIPT_MESSAGES = 1000
MAX_SPEAKER_CHARS = MAX_NAME_CHARS
MAX_TRANSCRIPT_CONTENT_CHARS = MAX_CONTENT_CHARS - MAX_SPEAKER_CHARS - 2
MAX_CLIENT_ID_CHARS = 200
# A profile's display name, and a preference's key and value.
MAX_DISPLAY_NAME_CHARS = 200
MAX_PREFERENCE_KEY_CHARS = 100
MAX_PREFERENCE_VALUE_CHARS = 1000

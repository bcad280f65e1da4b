-- Living memory: the system's own data about a memory moves out of the caller's `metadata` into typed
-- columns, and one content is one current memory per user.
--
-- - place: where a turn was said (conversation, message, role, speaker, the turns around it), until now
--   metadata's "turn"; a summary's conversation and last message, until now metadata's "conversation_id"
--   and "last_message_id".
-- - origin: which extractor drew a fact, until now metadata's "extracted" and "extractor".
-- - occurred: the time an event is said to have happened (start and end), until now metadata's
--   "event_date" and "time_phrase".
-- - content_key: a digest of the content with whitespace and case normalised. At most one current memory
--   of a user holds a key; a memory that ended may share it with the one current now. Rows written before
--   this migration get the key computed here with Postgres' lower(), which agrees with the application's
--   casefold for every text whose letters Postgres' locale lowers alike; where the two differ, an old row
--   is merely not recognised as the twin of a new one.

-- With FORCE ROW LEVEL SECURITY even the table's owner sees no rows without app.user_id; the data moves
-- below must see every user's rows.
ALTER TABLE memories NO FORCE ROW LEVEL SECURITY;

ALTER TABLE memories
    ADD COLUMN place       jsonb,
    ADD COLUMN origin      jsonb,
    ADD COLUMN occurred    jsonb,
    ADD COLUMN content_key text;

UPDATE memories
SET place = (metadata -> 'turn') || jsonb_build_object('role', 'user'),
    metadata = metadata - 'turn'
WHERE kind = 'turn' AND jsonb_typeof(metadata -> 'turn') = 'object';

UPDATE memories
SET place = jsonb_strip_nulls(jsonb_build_object('conversation_id', metadata ->> 'conversation_id',
                                                 'message_id', metadata ->> 'last_message_id')),
    metadata = metadata - 'conversation_id' - 'last_message_id'
WHERE kind = 'summary' AND jsonb_typeof(metadata -> 'conversation_id') = 'string';

UPDATE memories
SET origin = jsonb_build_object('extractor', coalesce(metadata ->> 'extractor', 'rules')),
    metadata = metadata - 'extracted' - 'extractor'
WHERE kind = 'fact' AND (metadata -> 'extracted' = 'true'::jsonb OR jsonb_typeof(metadata -> 'extractor') = 'string');

UPDATE memories
SET occurred = jsonb_build_object('start', (metadata ->> 'event_date') || 'T00:00:00+00:00',
                                  'end', ((metadata ->> 'event_date')::date + 1) || 'T00:00:00+00:00'),
    metadata = metadata - 'event_date' - 'time_phrase'
WHERE origin IS NOT NULL AND (metadata ->> 'event_date') ~ '^\d{4}-\d{2}-\d{2}$';

UPDATE memories
SET metadata = metadata - 'moved_from'
WHERE origin IS NOT NULL AND metadata ? 'moved_from';

UPDATE memories
SET content_key = left(encode(sha256(convert_to(
        lower(regexp_replace(btrim(content, E' \t\n\r\f\v'), '\s+', ' ', 'g')), 'UTF8')), 'hex'), 32);
ALTER TABLE memories ALTER COLUMN content_key SET NOT NULL;

-- Twins written before: the first one said stays current, the later ones end, replaced by it (their rows and
-- history stay; their sources are added to the first one's).
WITH ranked AS (
    SELECT user_id, id, content_key, source_message_ids,
           first_value(id) OVER w AS keeper,
           row_number() OVER w AS n
    FROM memories
    WHERE valid_until IS NULL AND superseded_by IS NULL
    WINDOW w AS (PARTITION BY user_id, content_key ORDER BY created_at, id)
),
twins AS (
    UPDATE memories AS m
    SET valid_until = now(), superseded_by = r.keeper, updated_at = now()
    FROM ranked AS r
    WHERE r.n > 1 AND m.user_id = r.user_id AND m.id = r.id
    RETURNING m.user_id, m.id, m.content, m.superseded_by, m.source_message_ids
),
history AS (
    INSERT INTO memory_history (user_id, memory_id, kind, content_before, content_after, superseded_by)
    SELECT user_id, id, 'supersede', content, content, superseded_by FROM twins
)
UPDATE memories AS m
SET source_message_ids = m.source_message_ids || ARRAY(SELECT x FROM unnest(s.ids) AS x WHERE x <> ALL (m.source_message_ids))
FROM (
    SELECT t.user_id, t.superseded_by AS keeper, array_agg(DISTINCT x) AS ids
    FROM twins AS t, unnest(t.source_message_ids) AS x
    GROUP BY t.user_id, t.superseded_by
) AS s
WHERE m.user_id = s.user_id AND m.id = s.keeper;

CREATE UNIQUE INDEX memories_current_content ON memories (user_id, content_key)
    WHERE valid_until IS NULL AND superseded_by IS NULL;
-- Consolidation's direct lookup of the facts holding a slot, and a turn's facts by message.
CREATE INDEX memories_user_slot ON memories (user_id, slot) WHERE slot IS NOT NULL;
CREATE INDEX memories_sources ON memories USING gin (source_message_ids);

ALTER TABLE memories FORCE ROW LEVEL SECURITY;

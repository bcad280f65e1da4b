-- Memories gain typed fields for what consolidation and the graph need: kind (turn | fact |
-- summary), slot and value (until now metadata's "slot" and "value"), and the relations the
-- memory asserts (until now only in the graph's relations table, which reindex could not
-- rebuild them from). processed_keys becomes the task ledger: a key may now be pending
-- (recorded with the messages its batch reads) before it is claimed.
--
-- Additive only: code that predates this migration still reads and writes both tables.

-- With FORCE ROW LEVEL SECURITY even the tables' owner sees no rows without app.user_id; the
-- data moves below must see every user's rows. Superusers bypass RLS anyway.
ALTER TABLE memories NO FORCE ROW LEVEL SECURITY;
ALTER TABLE processed_keys NO FORCE ROW LEVEL SECURITY;

ALTER TABLE memories
    ADD COLUMN kind      text  NOT NULL DEFAULT 'fact' CHECK (kind IN ('turn', 'fact', 'summary')),
    ADD COLUMN slot      text,
    ADD COLUMN value     text,
    ADD COLUMN relations jsonb NOT NULL DEFAULT '[]';

-- Only where consolidation wrote them: a slot is a string, and a "value" without one is the
-- caller's own annotation.
UPDATE memories
SET slot = metadata ->> 'slot',
    value = metadata ->> 'value',
    metadata = metadata - 'slot' - 'value'
WHERE jsonb_typeof(metadata -> 'slot') = 'string';

UPDATE memories
SET kind = 'summary', metadata = metadata - 'kind'
WHERE metadata ->> 'kind' = 'session_summary';

-- The graph keeps entity keys (casefolded); the entity's own name is taken back where known.
UPDATE memories AS m
SET relations = r.asserted
FROM (
    SELECT r.user_id, r.memory_id,
           jsonb_agg(jsonb_build_object('source', coalesce(s.name, r.source),
                                        'predicate', r.predicate,
                                        'target', coalesce(t.name, r.target)) ORDER BY r.seq) AS asserted
    FROM relations AS r
    LEFT JOIN entities AS s ON s.user_id = r.user_id AND s.key = r.source
    LEFT JOIN entities AS t ON t.user_id = r.user_id AND t.key = r.target
    WHERE r.memory_id IS NOT NULL
    GROUP BY r.user_id, r.memory_id
) AS r
WHERE m.user_id = r.user_id AND m.id = r.memory_id;

CREATE INDEX memories_user_kind_created ON memories (user_id, kind, created_at DESC);

-- The task ledger. A claimed key has claimed_at; a pending one has pending_since and no
-- claimed_at. claimed_at keeps its default, so an older process's claim still works.
ALTER TABLE processed_keys
    ALTER COLUMN claimed_at DROP NOT NULL,
    ADD COLUMN conversation_id text,
    ADD COLUMN message_ids     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN pending_since   timestamptz,
    -- A deleted conversation's pending batches can never run: they go with it.
    ADD FOREIGN KEY (user_id, conversation_id) REFERENCES conversations (user_id, id) ON DELETE CASCADE;
CREATE INDEX processed_keys_unfinished ON processed_keys (pending_since) WHERE claimed_at IS NULL;
CREATE INDEX processed_keys_conversation ON processed_keys (user_id, conversation_id);

ALTER TABLE memories FORCE ROW LEVEL SECURITY;
ALTER TABLE processed_keys FORCE ROW LEVEL SECURITY;

-- Finding unfinished batches is a maintenance query across users, which the per-user policy
-- cannot answer. It runs as this role: it may read the ledger of every user (keys and ids,
-- never text) and nothing else.
DO $$
BEGIN
    CREATE ROLE jyntrix_maintenance NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'jyntrix_maintenance', 'MEMBER') THEN
        EXECUTE format('GRANT jyntrix_maintenance TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO jyntrix_maintenance', current_schema());
END $$;

GRANT SELECT ON processed_keys TO jyntrix_maintenance;
CREATE POLICY processed_keys_maintenance ON processed_keys FOR SELECT TO jyntrix_maintenance USING (true);

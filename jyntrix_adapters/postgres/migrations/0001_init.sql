-- Jyntrix schema: memories with their audit history, conversations, profiles, the entity
-- graph and analytics spans. Vectors live in the vector index, not here.

-- Superusers bypass row-level security, so the adapters run every transaction as this
-- NOLOGIN role. Roles are cluster-wide: another database on the same server may have
-- created it already, possibly at this very moment.
DO $$
BEGIN
    CREATE ROLE jyntrix_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'jyntrix_app', 'MEMBER') THEN
        EXECUTE format('GRANT jyntrix_app TO %I', current_user);
    END IF;
END $$;

CREATE TABLE memories (
    user_id            text        NOT NULL,
    id                 text        NOT NULL,
    type               text        NOT NULL CHECK (type IN ('profile', 'semantic', 'episodic', 'procedural')),
    content            text        NOT NULL,
    reliability        double precision NOT NULL,
    access_count       bigint      NOT NULL DEFAULT 0,
    last_accessed_at   timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    valid_from         timestamptz NOT NULL,
    valid_until        timestamptz,
    superseded_by      text,
    source_message_ids text[]      NOT NULL DEFAULT '{}',
    entities           text[]      NOT NULL DEFAULT '{}',
    metadata           jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (user_id, id)
);
CREATE INDEX memories_user_created ON memories (user_id, created_at DESC);

-- Audit trail: one row per create, update, supersede and delete. It outlives a deleted
-- memory; only a user's delete-all removes it.
CREATE TABLE memory_history (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text        NOT NULL DEFAULT gen_random_uuid()::text,
    user_id        text        NOT NULL,
    memory_id      text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('create', 'update', 'supersede', 'delete')),
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    content_before text,
    content_after  text,
    superseded_by  text
);
CREATE INDEX memory_history_user_memory ON memory_history (user_id, memory_id, seq);

CREATE TABLE conversations (
    user_id    text        NOT NULL,
    id         text        NOT NULL,
    title      text,
    metadata   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at DESC);

CREATE TABLE messages (
    user_id         text        NOT NULL,
    id              text        NOT NULL,
    conversation_id text        NOT NULL,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    role            text        NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content         text        NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (user_id, id),
    FOREIGN KEY (user_id, conversation_id) REFERENCES conversations (user_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_conversation ON messages (user_id, conversation_id, created_at, seq);

-- Idempotency keys of background tasks that have run.
CREATE TABLE processed_keys (
    user_id    text        NOT NULL,
    key        text        NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE TABLE profiles (
    user_id      text        PRIMARY KEY,
    display_name text,
    preferences  jsonb       NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL
);

CREATE TABLE entities (
    user_id text NOT NULL,
    key     text NOT NULL,
    name    text NOT NULL,
    kind    text NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Endpoints are entity keys. A relation asserted by two memories is two rows, so that
-- forgetting one memory keeps what the other still asserts.
CREATE TABLE relations (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   text NOT NULL,
    source    text NOT NULL,
    predicate text NOT NULL,
    target    text NOT NULL,
    memory_id text,
    UNIQUE NULLS NOT DISTINCT (user_id, source, predicate, target, memory_id)
);
CREATE INDEX relations_source ON relations (user_id, source);
CREATE INDEX relations_target ON relations (user_id, target);
CREATE INDEX relations_memory ON relations (user_id, memory_id);

CREATE TABLE mentions (
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    user_id    text NOT NULL,
    memory_id  text NOT NULL,
    entity_key text NOT NULL,
    PRIMARY KEY (user_id, memory_id, entity_key)
);
CREATE INDEX mentions_entity ON mentions (user_id, entity_key, seq DESC);

-- Operational telemetry, read in aggregate across users by the analytics API, so it has
-- no per-user policy. Spans carry timings and ids, never memory or message text.
CREATE TABLE spans (
    id          text             PRIMARY KEY,
    trace_id    text             NOT NULL,
    name        text             NOT NULL,
    kind        text             NOT NULL,
    started_at  timestamptz      NOT NULL,
    duration_ms double precision NOT NULL,
    status      text             NOT NULL,
    user_id     text,
    attributes  jsonb            NOT NULL DEFAULT '{}'
);
CREATE INDEX spans_started ON spans (started_at);
CREATE INDEX spans_user_started ON spans (user_id, started_at);

DO $$
DECLARE
    t text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO jyntrix_app', current_schema());
    FOREACH t IN ARRAY ARRAY['memories', 'memory_history', 'conversations', 'messages', 'processed_keys',
                             'profiles', 'entities', 'relations', 'mentions']
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO jyntrix_app', t);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING (user_id = current_setting(''app.user_id'', true)) '
            'WITH CHECK (user_id = current_setting(''app.user_id'', true))',
            t || '_owner', t);
    END LOOP;
    GRANT SELECT, INSERT, UPDATE, DELETE ON spans TO jyntrix_app;
END $$;

-- `jyntrix reindex` rebuilds every user's indexes, so it must learn who has memories: a query across
-- users, which the per-user policy cannot answer. It runs as this role, which may read the user_id
-- column of memories and nothing else (the maintenance role of 0002 still reads only the ledger).
DO $$
BEGIN
    CREATE ROLE jyntrix_directory NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'jyntrix_directory', 'MEMBER') THEN
        EXECUTE format('GRANT jyntrix_directory TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO jyntrix_directory', current_schema());
END $$;

-- Idempotent, so that the file may be renumbered when the migrations of parallel branches meet.
GRANT SELECT (user_id) ON memories TO jyntrix_directory;
DROP POLICY IF EXISTS memories_directory ON memories;
CREATE POLICY memories_directory ON memories FOR SELECT TO jyntrix_directory USING (true);

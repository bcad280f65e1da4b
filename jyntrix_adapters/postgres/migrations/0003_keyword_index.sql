-- Keyword index on Postgres full-text search: one row per indexed memory, scoped by RLS like the memories.
-- Its own table rather than columns on `memories`: the index holds what the KeywordIndex port was given
-- (a reindex may rebuild it from the memories), and a memory that is not keyword-indexed has no row.
--
-- `terms` is the domain's tokenisation (jyntrix_domain.terms: Unicode case folding, CJK per character,
-- English stopwords dropped), joined by spaces, so every keyword index splits text alike; the English
-- configuration then stems it. `length` counts the lexeme occurrences of `tsv`: BM25's document length.
CREATE TABLE memory_keywords (
    user_id text    NOT NULL,
    id      text    NOT NULL,
    type    text    NOT NULL CHECK (type IN ('profile', 'semantic', 'episodic', 'procedural')),
    terms   text    NOT NULL,
    length  integer NOT NULL,
    tsv     tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, terms)) STORED,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX memory_keywords_tsv ON memory_keywords USING gin (tsv);
-- Per-user corpus statistics (document count, average length) come from an index-only scan of this.
CREATE INDEX memory_keywords_user_length ON memory_keywords (user_id) INCLUDE (length);

GRANT SELECT, INSERT, UPDATE, DELETE ON memory_keywords TO jyntrix_app;
ALTER TABLE memory_keywords ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_keywords FORCE ROW LEVEL SECURITY;
CREATE POLICY memory_keywords_owner ON memory_keywords
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

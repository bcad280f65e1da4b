-- Corpus statistics of the keyword index, kept beside `memory_keywords` so a search reads them instead of
-- counting a user's rows: a common word's document frequency came from scanning every row holding it, and
-- the document count and average length from every row of the user.
--
-- Statement-level triggers keep them, one aggregated change per statement, whichever code writes the table.
-- Writers of one user must be serialised (the adapter takes a transaction-level advisory lock first), else
-- two batches sharing words could deadlock on the counters.
CREATE TABLE memory_keyword_terms (
    user_id text    NOT NULL,
    lexeme  text    NOT NULL,
    df      integer NOT NULL,
    PRIMARY KEY (user_id, lexeme)
);

CREATE TABLE memory_keyword_users (
    user_id      text   PRIMARY KEY,
    documents    bigint NOT NULL,
    total_length bigint NOT NULL
);

CREATE FUNCTION memory_keywords_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_keyword_terms (user_id, lexeme, df)
    SELECT r.user_id, u.lexeme, count(*) FROM new_rows AS r, unnest(r.tsv) AS u GROUP BY 1, 2
    ON CONFLICT (user_id, lexeme) DO UPDATE SET df = memory_keyword_terms.df + excluded.df;
    INSERT INTO memory_keyword_users (user_id, documents, total_length)
    SELECT r.user_id, count(*), sum(r.length) FROM new_rows AS r GROUP BY 1
    ON CONFLICT (user_id) DO UPDATE SET documents = memory_keyword_users.documents + excluded.documents,
                                        total_length = memory_keyword_users.total_length + excluded.total_length;
    RETURN NULL;
END $$;

CREATE FUNCTION memory_keywords_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memory_keyword_terms AS t SET df = t.df - d.n
    FROM (SELECT r.user_id, u.lexeme, count(*) AS n FROM old_rows AS r, unnest(r.tsv) AS u GROUP BY 1, 2) AS d
    WHERE t.user_id = d.user_id AND t.lexeme = d.lexeme;
    DELETE FROM memory_keyword_terms AS t
    WHERE t.df <= 0 AND (t.user_id, t.lexeme) IN (SELECT r.user_id, u.lexeme FROM old_rows AS r, unnest(r.tsv) AS u);
    UPDATE memory_keyword_users AS s SET documents = s.documents - d.n, total_length = s.total_length - d.total
    FROM (SELECT r.user_id, count(*) AS n, sum(r.length) AS total FROM old_rows AS r GROUP BY 1) AS d
    WHERE s.user_id = d.user_id;
    DELETE FROM memory_keyword_users AS s
    WHERE s.documents <= 0 AND s.user_id IN (SELECT r.user_id FROM old_rows AS r);
    RETURN NULL;
END $$;

-- An upsert's update rewrites a row in place: its old lexemes leave the counts and its new ones join them.
CREATE FUNCTION memory_keywords_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO memory_keyword_terms AS t (user_id, lexeme, df)
    SELECT user_id, lexeme, sum(n)
    FROM (SELECT r.user_id, u.lexeme, 1 AS n FROM new_rows AS r, unnest(r.tsv) AS u
          UNION ALL
          SELECT r.user_id, u.lexeme, -1 AS n FROM old_rows AS r, unnest(r.tsv) AS u) AS d
    GROUP BY 1, 2
    HAVING sum(n) <> 0
    ON CONFLICT (user_id, lexeme) DO UPDATE SET df = t.df + excluded.df;
    DELETE FROM memory_keyword_terms AS t
    WHERE t.df <= 0 AND (t.user_id, t.lexeme) IN (SELECT r.user_id, u.lexeme FROM old_rows AS r, unnest(r.tsv) AS u);
    UPDATE memory_keyword_users AS s SET total_length = s.total_length + d.change
    FROM (SELECT user_id, sum(change) AS change
          FROM (SELECT user_id, length AS change FROM new_rows
                UNION ALL
                SELECT user_id, -length FROM old_rows) AS c
          GROUP BY 1) AS d
    WHERE s.user_id = d.user_id;
    RETURN NULL;
END $$;

CREATE TRIGGER memory_keywords_count_insert AFTER INSERT ON memory_keywords
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION memory_keywords_count_insert();
CREATE TRIGGER memory_keywords_count_delete AFTER DELETE ON memory_keywords
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION memory_keywords_count_delete();
CREATE TRIGGER memory_keywords_count_update AFTER UPDATE ON memory_keywords
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION memory_keywords_count_update();

-- The rows already indexed. Row-level security is forced on the owner too, so it is lifted for the count
-- (a plain owner role has no way around it).
ALTER TABLE memory_keywords NO FORCE ROW LEVEL SECURITY;
INSERT INTO memory_keyword_terms (user_id, lexeme, df)
SELECT k.user_id, u.lexeme, count(*) FROM memory_keywords AS k, unnest(k.tsv) AS u GROUP BY 1, 2;
INSERT INTO memory_keyword_users (user_id, documents, total_length)
SELECT user_id, count(*), sum(length) FROM memory_keywords GROUP BY 1;
ALTER TABLE memory_keywords FORCE ROW LEVEL SECURITY;

GRANT SELECT, INSERT, UPDATE, DELETE ON memory_keyword_terms, memory_keyword_users TO jyntrix_app;
ALTER TABLE memory_keyword_terms ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_keyword_terms FORCE ROW LEVEL SECURITY;
CREATE POLICY memory_keyword_terms_owner ON memory_keyword_terms
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));
ALTER TABLE memory_keyword_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_keyword_users FORCE ROW LEVEL SECURITY;
CREATE POLICY memory_keyword_users_owner ON memory_keyword_users
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

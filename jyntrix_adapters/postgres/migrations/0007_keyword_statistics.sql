-- Keyword search that scales with one user's rows (issue 26): per-user GIN keys, corpus statistics kept in
-- tables, and a scoring function that may use the GIN index under row-level security.

-- The words of a row as keys of its user: each lexeme behind a prefix drawn from the user id, so the GIN
-- index's list for a key holds one user's rows, not every user's; a search among many users reads only its
-- own. (Two users sharing a prefix would only share candidates; the search keeps its user's rows.)
-- New entries go straight into the index: with the default pending list, every search also scanned the
-- entries written since the last vacuum (20 ms of a 35 ms search at 100k memories).
CREATE FUNCTION memory_keywords_prefix(user_id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN left(md5(user_id), 12);

ALTER TABLE memory_keywords ADD COLUMN keys tsvector;
CREATE FUNCTION memory_keywords_set_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.keys := array_to_tsvector(ARRAY(
        SELECT memory_keywords_prefix(NEW.user_id) || u.lexeme
        FROM unnest(to_tsvector('english'::regconfig, NEW.terms)) AS u));
    RETURN NEW;
END $$;
CREATE TRIGGER memory_keywords_set_keys BEFORE INSERT OR UPDATE OF user_id, terms ON memory_keywords
    FOR EACH ROW EXECUTE FUNCTION memory_keywords_set_keys();
ALTER TABLE memory_keywords NO FORCE ROW LEVEL SECURITY;
UPDATE memory_keywords SET terms = terms;
ALTER TABLE memory_keywords FORCE ROW LEVEL SECURITY;
ALTER TABLE memory_keywords ALTER COLUMN keys SET NOT NULL;
CREATE INDEX memory_keywords_keys ON memory_keywords USING gin (keys) WITH (fastupdate = off);
DROP INDEX memory_keywords_tsv;

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

-- Row-level security keeps a policy's filter ahead of any condition that is not leakproof, and `@@` is not:
-- under the application role a full-text condition could never use the GIN index, so a search read every row of
-- the user (35 ms at 100k memories before any scoring). memory_keywords_score runs as the table's owner, who may
-- read the table through the GIN index, and filters by the same `app.user_id` setting the policies read.
--
-- Row-level security keeps a policy's filter ahead of any condition that is not leakproof, and `@@` is not:
-- under the application role a full-text condition could never use the GIN index, so a search read every row
-- of the user (35 ms at 100k memories before any scoring). memory_keywords_score runs as the table's owner,
-- who may read the table through the GIN index, and filters by the same `app.user_id` the policies read.
-- The owner's own read policy: its constant `true` leaves the planner free to use any index. The owner could
-- lift row-level security on its table anyway; the application role is not a member of it.
CREATE POLICY memory_keywords_owner_reads ON memory_keywords FOR SELECT TO CURRENT_USER USING (true);

-- BM25 scores of the best documents among: every document whose keys match `complete`, and at most `capped`
-- more matching the first of `levels` (tsqueries over lexemes behind the user's prefix, most demanding first),
-- then of the next while fewer than `wanted` were found; only documents of `types` (NULL: all). Each part
-- leaves out the documents an earlier one scored, so none is scored twice; the caller takes the best `wanted`.
-- `lexemes` and `idfs` weigh the query words; `average` is the user's average document length.
CREATE FUNCTION memory_keywords_score(
    lexemes text[], idfs float8[], complete text, levels text[], types text[], capped integer, average float8,
    k1 float8, b float8, wanted integer
) RETURNS TABLE (id text, score float8)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $function$
DECLARE
    scope text := nullif(current_setting('app.user_id', true), '');
    scored_in_full text := complete;
    previous text;
    level text;
    found bigint := 0;
    returned bigint;
BEGIN
    IF scope IS NULL THEN
        RETURN;
    END IF;
    IF coalesce(cardinality(levels), 0) = 0 THEN
        levels := ARRAY[NULL::text];
    END IF;
    -- A level is read further only when the one before matched fewer than `wanted`, all of them scored.
    capped := greatest(capped, wanted);
    FOREACH level IN ARRAY levels LOOP
        -- EXECUTE plans each call with the values at hand: a cached generic plan cannot see how selective the
        -- tsquery is.
        RETURN QUERY EXECUTE $query$
            WITH weights AS (
                SELECT w.lexeme, w.idf FROM unnest($2, $3) AS w (lexeme, idf)
            ), candidates AS (
                SELECT k.id, k.length, k.tsv FROM memory_keywords AS k
                WHERE k.user_id = $1 AND k.keys @@ $4::tsquery AND ($6 IS NULL OR k.type = ANY ($6))
                UNION ALL
                (SELECT k.id, k.length, k.tsv FROM memory_keywords AS k
                 WHERE k.user_id = $1 AND k.keys @@ $5::tsquery AND ($6 IS NULL OR k.type = ANY ($6))
                   AND NOT coalesce(k.keys @@ $12::tsquery, false) AND NOT coalesce(k.keys @@ $13::tsquery, false)
                 LIMIT $7)
            )
            SELECT c.id, sum(w.idf * t.tf * ($9 + 1.0) / (t.tf + $9 * (1.0 - $10 + $10 * c.length / $8)))::float8
            FROM candidates AS c
            CROSS JOIN LATERAL (
                SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 AS tf FROM unnest(c.tsv) AS u
            ) AS t
            JOIN weights AS w USING (lexeme)
            GROUP BY c.id
            ORDER BY 2 DESC, c.id
            LIMIT $11
        $query$ USING scope, lexemes, idfs, scored_in_full, level, types, capped, average, k1, b, wanted, complete,
                      previous;
        GET DIAGNOSTICS returned = ROW_COUNT;
        found := found + returned;
        EXIT WHEN found >= wanted;
        scored_in_full := NULL;
        previous := level;
    END LOOP;
END $function$;
REVOKE ALL ON FUNCTION memory_keywords_score FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memory_keywords_score TO jyntrix_app;

-- Keyword search in one statement (issue 26): the statistics read, the plan and the scoring that the adapter ran
-- as a user-scoped transaction of five round trips (BEGIN, the scope, the statistics, the scoring, COMMIT) are
-- one function call, which the adapter sends on its own with the user's scope set in its arguments.

-- `lexeme` behind `prefix` as a tsquery operand, taken literally.
CREATE FUNCTION memory_keywords_quote(lexeme text, prefix text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN '''' || replace(replace(prefix || lexeme, '\', '\\'), '''', '''''') || '''';

-- A tsquery matching documents holding at least `m` of `operands` (quoted): the disjunction of their
-- combinations of `m`, in the order itertools.combinations gives them.
CREATE FUNCTION memory_keywords_at_least(operands text[], m integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    n integer := cardinality(operands);
    picked integer[] := ARRAY(SELECT generate_series(1, m));
    clauses text[] := '{}';
    i integer;
BEGIN
    IF m = 1 THEN
        RETURN array_to_string(operands, ' | ');
    END IF;
    LOOP
        clauses := clauses || ('(' || array_to_string(
            ARRAY(SELECT operands[u.p] FROM unnest(picked) WITH ORDINALITY AS u (p, i) ORDER BY u.i), ' & ') || ')');
        i := m;
        WHILE i >= 1 AND picked[i] = n - m + i LOOP
            i := i - 1;
        END LOOP;
        EXIT WHEN i < 1;
        picked[i] := picked[i] + 1;
        FOR j IN i + 1 .. m LOOP
            picked[j] := picked[j - 1] + 1;
        END LOOP;
    END LOOP;
    RETURN array_to_string(clauses, ' | ');
END $$;

-- Which documents a search scores, from the query lexemes' document frequencies (those no document holds left
-- out): every document of the rarer lexemes, rarest first, while their frequencies fit `complete_rows` in sum
-- (`complete`, NULL for none); for the common rest, tsqueries of the documents holding all of them, all but
-- one, ... down to any one (`levels`), leaving out a level of more than `max_clauses` combinations. Each
-- lexeme is named behind `prefix`. The ranking is exact when every lexeme fits; otherwise exact for the rare
-- ones and approximate only among documents holding nothing rarer than common lexemes.
CREATE FUNCTION memory_keywords_plan(
    lexemes text[], dfs integer[], complete_rows integer, prefix text, max_clauses integer DEFAULT 36,
    OUT complete text, OUT levels text[]
) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    budget integer := complete_rows;
    whole text[] := '{}';
    rest text[] := '{}';
    word record;
    ways numeric;
BEGIN
    levels := '{}';
    FOR word IN
        SELECT w.lexeme, w.df FROM unnest(lexemes, dfs) AS w (lexeme, df) WHERE w.df > 0
        ORDER BY w.df, w.lexeme COLLATE "C"
    LOOP
        IF cardinality(rest) = 0 AND word.df <= budget THEN
            whole := whole || memory_keywords_quote(word.lexeme, prefix);
            budget := budget - word.df;
        ELSE
            rest := rest || memory_keywords_quote(word.lexeme, prefix);
        END IF;
    END LOOP;
    IF cardinality(whole) > 0 THEN
        complete := array_to_string(whole, ' | ');
    END IF;
    FOR m IN REVERSE cardinality(rest) .. 1 LOOP
        ways := 1;  -- the number of combinations of m, C(k - m + i, i) after step i: it only grows
        FOR i IN 1 .. m LOOP
            ways := ways * (cardinality(rest) - m + i) / i;
            EXIT WHEN ways > max_clauses;
        END LOOP;
        IF m = 1 OR ways <= max_clauses THEN
            levels := levels || memory_keywords_at_least(rest, m);
        END IF;
    END LOOP;
END $$;

-- The best `wanted` documents of `user_id` for `terms` (the domain's keyword terms, space-separated): BM25
-- (k1, b, Lucene's non-negative idf over the user's statistics of migration 0007) of the documents the plan
-- picks, scored by memory_keywords_score; only documents of `types` (NULL: all), filtered after the statistics
-- as in bm25s. Nothing unless `user_id` is the transaction's `app.user_id`: the caller scopes itself, in the
-- same statement as `memory_keywords_search(set_config('app.user_id', $1, true), ...)`. A single statement is
-- a transaction of its own, so that setting ends with it, as a user-scoped transaction's does at COMMIT.
-- The arithmetic is float8 throughout, as the adapter's Python was, so the scores are the same to the bit.
CREATE FUNCTION memory_keywords_search(
    user_id text, terms text, types text[], wanted integer, complete_rows integer, capped integer,
    k1 float8, b float8
) RETURNS TABLE (id text, score float8)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $function$
DECLARE
    scope text := nullif(current_setting('app.user_id', true), '');
    prefix text := memory_keywords_prefix(user_id);
    n float8;
    total bigint;
    lexemes text[];
    dfs integer[];
    chosen record;
BEGIN
    IF scope IS NULL OR scope IS DISTINCT FROM user_id OR wanted < 1 THEN
        RETURN;
    END IF;
    SELECT s.documents, s.total_length INTO n, total FROM memory_keyword_users AS s WHERE s.user_id = scope;
    IF coalesce(n, 0) = 0 THEN
        RETURN;
    END IF;
    SELECT array_agg(q.lexeme ORDER BY q.position), array_agg(coalesce(t.df, 0) ORDER BY q.position)
    INTO lexemes, dfs
    FROM unnest(to_tsvector('english'::regconfig, terms)) WITH ORDINALITY AS q (lexeme, positions, weights, position)
    LEFT JOIN memory_keyword_terms AS t ON t.user_id = scope AND t.lexeme = q.lexeme;
    IF NOT coalesce(0 < ANY (dfs), false) THEN  -- no query word in any document, or no query word at all
        RETURN;
    END IF;
    SELECT * INTO chosen FROM memory_keywords_plan(lexemes, dfs, complete_rows, prefix);
    RETURN QUERY
    SELECT s.id, s.score
    FROM memory_keywords_score(
        ARRAY(SELECT w.lexeme FROM unnest(lexemes, dfs) WITH ORDINALITY AS w (lexeme, df, i)
              WHERE w.df > 0 ORDER BY w.i),
        ARRAY(SELECT ln(1.0::float8 + (n - w.df::float8 + 0.5::float8) / (w.df::float8 + 0.5::float8))
              FROM unnest(dfs) WITH ORDINALITY AS w (df, i) WHERE w.df > 0 ORDER BY w.i),
        chosen.complete, chosen.levels, types, capped, greatest(total::float8 / n, 1e-9::float8), k1, b, wanted
    ) AS s;
END $function$;
REVOKE ALL ON FUNCTION memory_keywords_search FROM PUBLIC;
GRANT EXECUTE ON FUNCTION memory_keywords_search TO jyntrix_app;

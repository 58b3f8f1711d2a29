-- The admin search over users (username, email, phone, display name: "contains", any case)
-- through indexes instead of reading every row: GIN trigram indexes (pg_trgm), which answer
-- `LIKE '%needle%'` for a needle of three or more characters, one per searched column, so
-- the search's OR becomes a bitmap OR of index scans. pg_trgm ships with PostgreSQL and is a
-- trusted extension; where it cannot be created (a managed server without it), the search
-- keeps working by reading the table, and the server says so in its log.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX users_search_username ON users USING gin (username_normalized gin_trgm_ops);
    CREATE INDEX users_search_email ON users USING gin (email_claim gin_trgm_ops);
    CREATE INDEX users_search_phone ON users USING gin (phone_number gin_trgm_ops);
    CREATE INDEX users_search_display_name ON users USING gin (LOWER(display_name) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'pg_trgm is unavailable (%): user search reads the whole table', SQLERRM;
END
$$;

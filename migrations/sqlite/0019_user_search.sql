-- The admin search over users (username, email, phone, display name: "contains", any case)
-- through an index instead of reading every row: an FTS5 table with the trigram tokenizer
-- over those columns of `users` (external content: it stores only the index), kept in step by
-- triggers. A needle of three or more characters is a phrase of trigrams, answered by the
-- index; a shorter one has no trigram and reads the table as before. Search indexes are the
-- one thing the dialects do differently (PostgreSQL: pg_trgm), so tests/integration/schema.rs
-- leaves `users_search*` out of its comparison.
CREATE VIRTUAL TABLE users_search USING fts5(
    username_normalized, email_claim, phone_number, display_name,
    content = 'users', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO users_search(users_search) VALUES ('rebuild');

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search(rowid, username_normalized, email_claim, phone_number, display_name)
    VALUES (new.id, new.username_normalized, new.email_claim, new.phone_number, new.display_name);
END;

CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    INSERT INTO users_search(users_search, rowid, username_normalized, email_claim, phone_number, display_name)
    VALUES ('delete', old.id, old.username_normalized, old.email_claim, old.phone_number, old.display_name);
END;

CREATE TRIGGER users_search_update
AFTER UPDATE OF username_normalized, email_claim, phone_number, display_name ON users BEGIN
    INSERT INTO users_search(users_search, rowid, username_normalized, email_claim, phone_number, display_name)
    VALUES ('delete', old.id, old.username_normalized, old.email_claim, old.phone_number, old.display_name);
    INSERT INTO users_search(rowid, username_normalized, email_claim, phone_number, display_name)
    VALUES (new.id, new.username_normalized, new.email_claim, new.phone_number, new.display_name);
END;

-- What `yaoshi import django` last copied from each row of a Django database: the SHA-256 of
-- the row's values, per kind of row (`user`, `password`, `application`, `client_secret`,
-- `access_token`, `refresh_token`) and source key, and the Yaoshi row it became. A re-run
-- writes only rows whose source changed since, so it never duplicates anything, and it never
-- puts back a Django hash that a first sign-in has already replaced with argon2id.
CREATE TABLE django_imports (
    kind        TEXT    NOT NULL,
    source_key  TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (kind, source_key)
);

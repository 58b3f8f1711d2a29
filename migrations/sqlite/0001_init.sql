-- Yaoshi schema, SQLite dialect. Times are unix seconds. Codes, tokens and session ids are
-- stored only as SHA-256 hex digests. Applied migrations must never be edited: add a new file.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT    NOT NULL,
    username_normalized TEXT    NOT NULL UNIQUE,
    email               TEXT,
    email_normalized    TEXT    UNIQUE,
    display_name        TEXT    NOT NULL DEFAULT '',
    password_hash       TEXT,
    active              BOOLEAN NOT NULL DEFAULT 1,
    admin               BOOLEAN NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id     TEXT    PRIMARY KEY,
    secret_hash   TEXT,
    name          TEXT    NOT NULL,
    confidential  BOOLEAN NOT NULL,
    redirect_uris TEXT    NOT NULL DEFAULT '',
    grant_types   TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    trusted       BOOLEAN NOT NULL DEFAULT 0,
    owner_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL
);

CREATE TABLE auth_codes (
    code_hash             TEXT    PRIMARY KEY,
    client_id             TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id               INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    redirect_uri_explicit BOOLEAN NOT NULL,
    scope                 TEXT    NOT NULL,
    code_challenge        TEXT,
    nonce                 TEXT,
    auth_time             INTEGER NOT NULL,
    session_hash          TEXT,
    expires_at            INTEGER NOT NULL,
    consumed_at           INTEGER,
    created_at            INTEGER NOT NULL
);

-- A family is every token descended from one grant (one code redemption or one password
-- login): reuse of a superseded refresh token or of a code revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash  TEXT    PRIMARY KEY,
    family_id   TEXT    NOT NULL,
    client_id   TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    rotated_at  INTEGER,
    successor   TEXT,
    revoked_at  INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user_client ON refresh_tokens(user_id, client_id);

CREATE TABLE access_tokens (
    token_hash  TEXT    PRIMARY KEY,
    family_id   TEXT,
    client_id   TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX access_tokens_family ON access_tokens(family_id);
CREATE INDEX access_tokens_user_client ON access_tokens(user_id, client_id);

CREATE TABLE consents (
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id    TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    scope        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE sessions (
    session_hash TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    auth_time    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE external_identities (
    provider   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email      TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);

CREATE TABLE signing_keys (
    kid          TEXT    PRIMARY KEY,
    alg          TEXT    NOT NULL,
    private_der  TEXT    NOT NULL,
    public_jwk   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    active_from  INTEGER NOT NULL,
    retired_at   INTEGER,
    published_until INTEGER
);

-- Failed sign-in attempts per account and per IP, shared by every instance.
CREATE TABLE throttle (
    key          TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL
);

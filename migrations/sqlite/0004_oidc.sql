-- OpenID Connect: one current signing key per algorithm, and what an ID Token issued on a
-- refresh must repeat from the original authentication.

-- A key is current (the one a rotation replaces) until it gets a retirement time. Two instances
-- creating the first key at once: the second insert is a no-op, so both use the same key.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys(alg) WHERE retired_at IS NULL;

-- One row per token family whose grant issued an ID Token (family id = the code's hash): the
-- session the user signed in with (its stored hash, from which `sid` is derived) and when.
CREATE TABLE oidc_grants (
    family_id    TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_hash TEXT,
    auth_time    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

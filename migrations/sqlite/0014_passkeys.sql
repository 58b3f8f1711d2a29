-- Passkeys (WebAuthn credentials). `credential` is the verified credential as the WebAuthn
-- library serialises it (public key, counter, flags): public data, no secret. `credential_id`
-- (base64url) is unique across accounts, so a discoverable sign-in finds its owner.
-- `user_handle` is the account's WebAuthn user id (a random UUID, the same for all of one
-- account's passkeys), which a discoverable credential returns.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_handle   TEXT    NOT NULL,
    credential_id TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    credential    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys(user_id);

-- A WebAuthn ceremony between its two requests (the options, then the browser's answer):
-- the library's state, serialised, keyed by the SHA-256 of the random id the browser holds.
-- Taken once (deleted as it is read), useless after `expires_at`.
CREATE TABLE webauthn_ceremonies (
    id_hash    TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies(expires_at);

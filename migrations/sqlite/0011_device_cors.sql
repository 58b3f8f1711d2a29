-- The web origins a client's browser code may call the token, revocation, introspection and
-- user info endpoints from (CORS). Each is an origin's ASCII serialisation
-- (`https://app.example`, `http://127.0.0.1:5000`), normalised before it is stored, so a
-- request's `Origin` matches by equality; the index answers "does any client allow it".
CREATE TABLE client_origins (
    client_id TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    origin    TEXT NOT NULL,
    PRIMARY KEY (client_id, origin)
);
CREATE INDEX client_origins_origin ON client_origins(origin);

-- Device authorization requests (RFC 8628). Both codes are stored only as hashes: the device
-- code (256 random bits) as SHA-256, the short user code as a keyed hash. `status` is
-- `pending`, `approved` or `denied`; `user_id` and `auth_time` are set when the user decides.
-- `interval_secs` grows by 5 with every `slow_down` (§3.5); `polled_at` is the last poll.
-- A device code is redeemed once (`consumed_at`).
CREATE TABLE device_codes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    device_hash    TEXT    NOT NULL UNIQUE,
    user_code_hash TEXT    NOT NULL UNIQUE,
    client_id      TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    scope          TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'pending',
    user_id        INTEGER    REFERENCES users(id) ON DELETE CASCADE,
    auth_time      INTEGER,
    interval_secs  INTEGER    NOT NULL,
    polled_at      INTEGER,
    created_at     INTEGER    NOT NULL,
    expires_at     INTEGER    NOT NULL,
    consumed_at    INTEGER
);
CREATE INDEX device_codes_expires ON device_codes(expires_at);

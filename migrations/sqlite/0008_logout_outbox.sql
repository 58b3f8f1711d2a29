-- Back-Channel Logout notices waiting to be delivered: one row per (ended session, client),
-- written in the transaction that ends the session, deleted once the client answered 2xx.
-- The logout token is signed at each attempt from this row, with its fixed `jti` and `iat`
-- (`created_at`), so receivers can drop a repeated delivery. `lease_until` keeps a row to
-- the instance that claimed it while it tries; `given_up_at` marks a row no longer tried
-- (housekeeping deletes it later). `user_id` is no foreign key: the notice of a deleted
-- account must still go out. Never holds a token or secret.
CREATE TABLE logout_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    jti             TEXT     NOT NULL UNIQUE,
    client_id       TEXT     NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id         INTEGER  NOT NULL,
    sid             TEXT     NOT NULL,
    backchannel_uri TEXT     NOT NULL,
    attempts        INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at INTEGER  NOT NULL,
    lease_until     INTEGER  NOT NULL DEFAULT 0,
    created_at      INTEGER  NOT NULL,
    last_error      TEXT,
    given_up_at     INTEGER
);
CREATE INDEX logout_outbox_due ON logout_outbox(next_attempt_at);
CREATE INDEX logout_outbox_given_up ON logout_outbox(given_up_at);

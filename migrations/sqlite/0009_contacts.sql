-- Verified contacts. `email` is the address as its owner typed it, verified or not;
-- `email_claim` its normalised form (not unique: anyone may claim an address, and the first
-- to verify it wins); `email_normalized` (unique since 0001) now holds the normalised address
-- only once verified: it is what sign-in, recovery and `email_verified` read. Addresses
-- stored before this migration were never verified: they become claims.
ALTER TABLE users ADD COLUMN email_claim TEXT;
UPDATE users SET email_claim = email_normalized, email_normalized = NULL;
CREATE INDEX users_email_claim ON users(email_claim);
-- A phone number in E.164, unique among accounts once verified.
ALTER TABLE users ADD COLUMN phone_number TEXT;
ALTER TABLE users ADD COLUMN phone_verified BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX users_phone_number ON users(phone_number);
CREATE UNIQUE INDEX users_verified_phone ON users(phone_number) WHERE phone_verified;
-- The language messages to the account are written in (a tag: `en`, `zh-CN`).
ALTER TABLE users ADD COLUMN locale TEXT;

-- One-time codes sent to an address: to verify it, to reset a password, to sign in by phone.
-- Each carries a 6-digit code (keyed hash) and, for mail, a link token (SHA-256). Rows stay a
-- day after use or expiry: they are also the count behind the per-address send limits.
-- `user_id` is null for a sign-in code sent to a number no account has yet.
CREATE TABLE contact_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    purpose     TEXT    NOT NULL,
    address     TEXT    NOT NULL,
    user_id     INTEGER    REFERENCES users(id) ON DELETE CASCADE,
    link_hash   TEXT    UNIQUE,
    code_hash   TEXT    NOT NULL,
    attempts    INTEGER    NOT NULL DEFAULT 0,
    created_at  INTEGER    NOT NULL,
    expires_at  INTEGER    NOT NULL,
    consumed_at INTEGER
);
CREATE INDEX contact_codes_address ON contact_codes(address, created_at);

-- Mail and SMS waiting to be sent, written in the transaction that made their code, deleted
-- once the transport accepted them (so a code's clear text lives only until it is sent).
-- Leases and retries as in logout_outbox. `params` is the message's JSON.
CREATE TABLE message_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    locale          TEXT    NOT NULL,
    params          TEXT    NOT NULL,
    attempts        INTEGER    NOT NULL DEFAULT 0,
    next_attempt_at INTEGER    NOT NULL,
    lease_until     INTEGER    NOT NULL DEFAULT 0,
    created_at      INTEGER    NOT NULL,
    last_error      TEXT,
    given_up_at     INTEGER
);
CREATE INDEX message_outbox_due ON message_outbox(next_attempt_at);

-- Second factors (TOTP, RFC 6238). `secret_sealed` is the factor's secret sealed with
-- ChaCha20-Poly1305 under the server's factor key (never in clear). A factor is usable once
-- `confirmed_at` is set (its first code was typed); until then it is an enrolment in progress.
-- `last_step` is the last time step whose code was accepted: a code is accepted once.
CREATE TABLE second_factors (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    secret_sealed TEXT    NOT NULL,
    confirmed_at  INTEGER,
    last_step     INTEGER,
    last_used_at  INTEGER,
    created_at    INTEGER NOT NULL
);
CREATE INDEX second_factors_user ON second_factors(user_id);

-- Recovery codes: single-use, stored as keyed hashes; `used_at` set once used.
CREATE TABLE recovery_codes (
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- How a session was authenticated: RFC 8176 `amr` values, space-separated (`pwd`, `otp`,
-- `mfa`, ...); what its ID Tokens state. Sessions opened before this migration say nothing.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';

-- Per client: whether its users must have used a second factor (step-up), and whether the
-- password grant may still be used by accounts that have one (off: refused).
ALTER TABLE clients ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN mfa_password_grant BOOLEAN NOT NULL DEFAULT 0;

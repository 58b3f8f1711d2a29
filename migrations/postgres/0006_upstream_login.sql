-- Signing in with upstream identity providers. external_identities (0001) maps a provider's
-- user (provider, subject) to one account; these tables hold the short-lived state between the
-- steps of a sign-in. Both are keyed by the SHA-256 of a random value that only the browser's
-- HttpOnly cookie holds, and expire after ten minutes.

-- One identity per provider per account, so the account page can unlink by provider.
CREATE UNIQUE INDEX external_identities_user_provider ON external_identities(user_id, provider);

-- A sign-in started at /o/login/start/<provider> and not yet back at the callback: what the
-- callback must match (state, the PKCE verifier to send, the nonce the ID Token must carry),
-- where to continue, and for a "link" flow the signed-in account to link to. Used once.
CREATE TABLE upstream_logins (
    flow_hash     TEXT    PRIMARY KEY,
    provider      TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    pkce_verifier TEXT    NOT NULL,
    nonce         TEXT,
    next          TEXT    NOT NULL,
    link_user_id  BIGINT REFERENCES users(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);

-- A verified provider identity that matches no account yet, waiting on /o/login/finish/ for
-- the person to create an account (or link an existing one).
CREATE TABLE pending_identities (
    pending_hash   TEXT    PRIMARY KEY,
    provider       TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    username       TEXT    NOT NULL,
    display_name   TEXT,
    email          TEXT,
    email_verified BOOLEAN NOT NULL DEFAULT FALSE,
    next           TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

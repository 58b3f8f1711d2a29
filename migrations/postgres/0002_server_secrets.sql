-- Secrets every instance must share (e.g. the key that derives a rotated refresh token's
-- successor, so a retry within the grace window gets the same pair). Created once, never shown.
CREATE TABLE server_secrets (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at BIGINT NOT NULL
);

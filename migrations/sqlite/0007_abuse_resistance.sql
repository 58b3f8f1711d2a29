-- The sign-in throttle (service/throttle.rs): besides the failures in the window, the attempts
-- being checked right now (`pending`, counted before the hash so parallel guesses cannot
-- outrun the budget) and the time before which no further attempt is let through.
ALTER TABLE throttle ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE throttle ADD COLUMN next_allowed INTEGER NOT NULL DEFAULT 0;

-- Security events: sign-ins, lockouts, consents, token reuse, changes of passwords, secrets
-- and keys, admin actions. Kept `event_retention_days`; user_id is no foreign key, so the
-- trail outlives a deleted account. Never holds a secret.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    user_id    INTEGER,
    actor_id   INTEGER,
    client_id  TEXT,
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_at ON events(at);
CREATE INDEX events_user ON events(user_id, kind, ip);
CREATE INDEX events_kind ON events(kind, at);

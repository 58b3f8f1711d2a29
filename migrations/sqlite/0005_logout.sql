-- OpenID Connect logout: where a client may send the browser after RP-initiated logout, and
-- where it wants to be told (back-channel) that a session it took part in has ended.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;

-- The clients that were issued an ID Token within a login session (by the session's stored
-- hash): the ones to notify when it ends.
CREATE TABLE session_clients (
    session_hash TEXT    NOT NULL,
    client_id    TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    user_id      INTEGER  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER  NOT NULL,
    PRIMARY KEY (session_hash, client_id)
);

-- Per client: access tokens as JWTs (RFC 9068) or opaque values, the resource servers its
-- tokens are for (RFC 8707 resource indicators, space-separated absolute URIs: the `aud`),
-- and whether its authorization requests must be pushed first (RFC 9126).
ALTER TABLE clients ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque';
ALTER TABLE clients ADD COLUMN resources TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN require_par BOOLEAN NOT NULL DEFAULT FALSE;

-- Pushed authorization requests (RFC 9126): the request's parameters (form-encoded, without
-- client credentials) under the SHA-256 of the request_uri's random part. `opened_at` is set
-- when a browser first brings it to the authorization endpoint (its lifetime is then
-- extended for signing in), `used_at` when an authorization response was sent for it.
CREATE TABLE pushed_requests (
    request_hash TEXT    PRIMARY KEY,
    client_id    TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    params       TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    opened_at    BIGINT,
    used_at      BIGINT
);
CREATE INDEX pushed_requests_expires ON pushed_requests(expires_at);

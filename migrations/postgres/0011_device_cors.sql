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

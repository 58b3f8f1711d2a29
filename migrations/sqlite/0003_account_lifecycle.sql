-- The usernames of deleted accounts, held back until released_at so nobody can take over a
-- name that other apps and people still associate with the old account.
CREATE TABLE username_tombstones (
    username_normalized TEXT    PRIMARY KEY,
    released_at         INTEGER  NOT NULL
);
CREATE INDEX clients_owner ON clients(owner_id);

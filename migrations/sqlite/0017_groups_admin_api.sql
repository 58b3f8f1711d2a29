-- Groups of users, and roles per client given to users or to groups: what the `groups` scope
-- releases in ID Tokens, user info and introspection. Group names compare case-insensitively
-- (`name_normalized`). A role assignment names exactly one of a user or a group; one role of
-- one client is given to one holder once.
CREATE TABLE user_groups (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT    NOT NULL,
    name_normalized TEXT    NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE user_group_members (
    group_id INTEGER NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX user_group_members_user ON user_group_members(user_id);

CREATE TABLE client_roles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id  TEXT    NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    role       TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
    group_id   INTEGER REFERENCES user_groups(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX client_roles_user ON client_roles(client_id, role, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX client_roles_group ON client_roles(client_id, role, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX client_roles_user_lookup ON client_roles(user_id);
CREATE INDEX client_roles_group_lookup ON client_roles(group_id);

-- The admin API scopes (`admin:users:read`, …) an operator gave a client, space-separated:
-- only these clients may obtain them, and only through the client_credentials grant.
ALTER TABLE clients ADD COLUMN admin_scopes TEXT NOT NULL DEFAULT '';


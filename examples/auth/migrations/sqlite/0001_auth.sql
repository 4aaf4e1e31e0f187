-- Sessions and users on SQLite: Django's django_session and the auth
-- tables, with the columns the sessions-sql, authentication and
-- permissions middleware read. Booleans are 0/1.
CREATE TABLE shallot_sessions (
    session_key TEXT PRIMARY KEY,
    session_data TEXT NOT NULL,
    expire_date INTEGER NOT NULL  -- Unix seconds
);
CREATE INDEX shallot_sessions_expire_date ON shallot_sessions (expire_date);
CREATE TABLE auth_user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL DEFAULT '',  -- Django's encoding: pbkdf2_sha256$iterations$salt$hash
    is_active INTEGER NOT NULL DEFAULT 1,
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE auth_group (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE auth_permission (
    id INTEGER PRIMARY KEY,
    app_label TEXT NOT NULL,
    codename TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (app_label, codename)
);
CREATE TABLE auth_group_permissions (
    group_id INTEGER NOT NULL REFERENCES auth_group (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES auth_permission (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, permission_id)
);
CREATE TABLE auth_user_groups (
    user_id INTEGER NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES auth_group (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE TABLE auth_user_user_permissions (
    user_id INTEGER NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE,
    permission_id INTEGER NOT NULL REFERENCES auth_permission (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, permission_id)
);

-- Demo users (the same file in ../postgres: TRUE and FALSE are SQLite's 1 and 0).
-- alice edits notes through the `editors` group and is staff; bob may
-- only view notes, a permission of his own; carol is a superuser; dave is
-- an editor who is no longer active; eve has no permissions. Each one's
-- password is "<name>-secret", encoded as Django's make_password does
-- (PBKDF2-SHA256), with 10,000 iterations to keep logins in the demo
-- cheap: Django's own default is over a million.
INSERT INTO auth_user (id, username, password, is_active, is_staff, is_superuser) VALUES
    (1, 'alice', 'pbkdf2_sha256$10000$demoalicesalt$RG6jdYcp1x+w6BKm2TKVKug9f2c8kWtKqp/E7/Pi2w8=', TRUE, TRUE, FALSE),
    (2, 'bob', 'pbkdf2_sha256$10000$demobobsalt$3KsIzMg9nGqs3X3BE5+6oN6vSKjCBi+avzgNk6u5jrM=', TRUE, FALSE, FALSE),
    (3, 'carol', 'pbkdf2_sha256$10000$democarolsalt$7fwBXvwyk6eMa5QC8typAra83IcJpVlp+bPknUJDDi8=', TRUE, TRUE, TRUE),
    (4, 'dave', 'pbkdf2_sha256$10000$demodavesalt$+Vs0I+YtChZzGBl15/kWVTeVii+UDmG2w9WRboD1gOY=', FALSE, FALSE, FALSE),
    (5, 'eve', 'pbkdf2_sha256$10000$demoevesalt$b2jDCrIqfuvJe5l6vYkOfjonDIfk9fZ1WMTMS3whgDE=', TRUE, FALSE, FALSE);
INSERT INTO auth_permission (id, app_label, codename, name) VALUES
    (1, 'notes', 'view_note', 'Can view note'),
    (2, 'notes', 'change_note', 'Can change note');
INSERT INTO auth_group (id, name) VALUES (1, 'editors');
INSERT INTO auth_group_permissions (group_id, permission_id) VALUES (1, 1), (1, 2);
INSERT INTO auth_user_groups (user_id, group_id) VALUES (1, 1), (4, 1);
INSERT INTO auth_user_user_permissions (user_id, permission_id) VALUES (2, 1);

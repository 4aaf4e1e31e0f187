-- The notes guests' table on SQLite (an INTEGER PRIMARY KEY numbers itself).
CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE);

-- The table both servers read in bench/sql.sh, with 1,000 rows.
CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL UNIQUE);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO notes (id, title) SELECT i, 'note ' || i FROM n;

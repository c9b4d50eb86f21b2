-- Schema and data for examples/sqlite3-suite (read by suite.sh with .read).
CREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE books(id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                   author INTEGER NOT NULL REFERENCES authors(id), pages INTEGER NOT NULL);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)
  INSERT INTO authors SELECT i, 'author-' || i FROM n;
-- pages = 100 + (i * 37) % 501: sum over i = 1..500 is 175250
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
  INSERT INTO books SELECT i, 'book "' || i || '", vol. ' || (i % 3), 1 + i % 25, 100 + (i * 37) % 501 FROM n;
COMMIT;
CREATE INDEX books_author ON books(author);

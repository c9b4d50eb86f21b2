#!/usr/bin/env bash
# Test suite for examples/sqlite3-suite: starts sqlite3 several times from this wrapper and checks
# every output with ordinary tools (which are NOT targets). Works in the current directory (the
# probe directory under syspect). Prints one line per test and "N passed, N failed" last;
# exits 0 only when every test passed. Each sqlite3 run is bounded by `timeout`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${SYSPECT_PROBE_DIR:-$PWD}/suite
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
sq() { timeout 20 sqlite3 -bail -init /dev/null "$@"; }
passed=0 failed=0
check() {  # check NAME FUNCTION
  local out
  if out=$("$2" 2>&1); then echo "ok   $1"; passed=$((passed + 1))
  else echo "FAIL $1: $(printf '%s' "$out" | tail -n 3)"; failed=$((failed + 1)); fi
}

t_schema() {   # build a database from a SQL file, check counts and an aggregate
  sq lib.db ".read $here/schema.sql" || return 1
  [ "$(sq lib.db 'SELECT count(*) FROM books;')" = 500 ] || return 1
  [ "$(sq lib.db 'SELECT count(*) FROM authors;')" = 25 ] || return 1
  [ "$(sq lib.db 'SELECT sum(pages) FROM books;')" = 175250 ]
}
t_csv() {      # export CSV, re-import into a fresh table, compare sorted files
  sq -csv lib.db 'SELECT id, title, author, pages FROM books;' >books.csv || return 1
  [ "$(wc -l <books.csv)" -eq 500 ] || return 1
  sq csv.db 'CREATE TABLE b(id INTEGER, title TEXT, author INTEGER, pages INTEGER);' \
    '.import --csv books.csv b' || return 1
  sq -csv csv.db 'SELECT * FROM b;' | sort >again.csv
  sort books.csv | cmp - again.csv
}
t_dump() {     # .dump and restore into a new database: identical dumps
  sq lib.db .dump >lib.sql || return 1
  sq restored.db <lib.sql || return 1
  sq restored.db .dump | cmp - lib.sql
}
t_backup() {   # online backup API and integrity check of the copy
  sq lib.db '.backup copy.db' || return 1
  [ "$(sq copy.db 'PRAGMA integrity_check;')" = ok ] || return 1
  [ "$(sq copy.db 'SELECT count(*) FROM books WHERE pages > 400;')" = "$(sq lib.db 'SELECT count(*) FROM books WHERE pages > 400;')" ]
}
t_stdin() {    # queries piped on stdin, output filtered with grep
  printf '%s\n' '.mode list' "SELECT name FROM authors WHERE id IN (3, 7) ORDER BY id;" \
    | sq lib.db | grep -cx 'author-[37]' | grep -qx 2
}
t_json() {     # JSON functions and a transaction that rolls back
  [ "$(sq lib.db "SELECT json_extract(json_object('n', count(*)), '\$.n') FROM books;")" = 500 ] || return 1
  sq lib.db 'BEGIN; DELETE FROM books; ROLLBACK;' || return 1
  [ "$(sq lib.db 'SELECT count(*) FROM books;')" = 500 ]
}
t_error() {    # a broken statement must fail (sqlite3 reports errors with a non-zero exit)
  ! sq lib.db 'SELECT * FROM no_such_table;' >/dev/null 2>&1
}

check schema t_schema
check csv t_csv
check dump t_dump
check backup t_backup
check stdin t_stdin
check json t_json
check error t_error
cat /dev/null >done.txt
echo "sqlite3 suite: $passed of $((passed + failed)) tests passed"
[ "$failed" -eq 0 ]

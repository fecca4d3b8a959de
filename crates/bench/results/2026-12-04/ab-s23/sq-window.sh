#!/bin/bash
# sq-window.sh DB PROJECT_ID: a whole name's window (contacts::window_page) by hand on a
# kept SQLite database, with the SQLite the server is built with (libsqlite3-sys's
# bundled sqlite3.c; sq-run.c runs each statement N times on one connection with a
# 2 MB cache and prints the mean). `before`: every column a filter may name, the terms
# naming the project (the eighteenth session's statement); `after`: the columns of the
# widened contacts_created_idx, the terms without the project; `count`: the match
# count (MatchCount), unchanged.
set -e
DB=$1; export P=$2
SRC=$(ls -d ~/.cargo/registry/src/*/libsqlite3-sys-0.38.2/sqlite3)
[ -x /tmp/sq-run ] || gcc -O2 -DSQLITE_THREADSAFE=0 -I"$SRC" "$(dirname "$0")/sq-run.c" "$SRC/sqlite3.c" -o /tmp/sq-run -lm
T1='((project_id=?1 AND email>=?2 AND email<?3) OR (project_id=?1 AND first_name_key>=?2 AND first_name_key<?3) OR (project_id=?1 AND last_name_key>=?2 AND last_name_key<?3))'
T2='((email>=?2 AND email<?3) OR (first_name_key>=?2 AND first_name_key<?3) OR (last_name_key>=?2 AND last_name_key<?3))'
ALL='rowid, id, project_id, status, stage, tier, customer_type, assigned_to, company_id, email, first_name_key, last_name_key, phone_digits, total_spent, last_order_key, created_at, updated_at, deleted_at'
IDX='rowid, id, email, first_name_key, last_name_key, phone_digits, created_at, deleted_at'
win() { echo "SELECT rowid FROM (SELECT contacts.rowid, contacts.created_at, contacts.id FROM (SELECT $1 FROM contacts WHERE project_id=?1 ORDER BY created_at DESC, id DESC LIMIT 4200) AS contacts WHERE deleted_at IS NULL AND $2 ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT 21 OFFSET 0)"; }
COUNT="SELECT COUNT(*) FROM (SELECT 1 AS one FROM contacts WHERE project_id=?1 AND email>=?2 AND email<?3 UNION ALL SELECT 1 FROM contacts WHERE project_id=?1 AND first_name_key>=?2 AND first_name_key<?3 UNION ALL SELECT 1 FROM contacts WHERE project_id=?1 AND last_name_key>=?2 AND last_name_key<?3 LIMIT 2100) AS m"
for s in anna weber a; do
  echo "== $s (before, after, count)"
  S=$s N=${N:-100} /tmp/sq-run "$DB" "$(win "$ALL" "$T1")" "$(win "$IDX" "$T2")" "$COUNT"
done
S=anna N=1 /tmp/sq-run "$DB" "EXPLAIN QUERY PLAN $(win "$IDX" "$T2")"

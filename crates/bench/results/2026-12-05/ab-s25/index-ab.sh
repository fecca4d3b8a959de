#!/bin/bash
# index-ab.sh DIR OUT ROUNDS [sqlite|postgres DBNAME]: the same server on the kept
# database DIR, alternating the first name's index of migration 000011 ("wide": first
# name, last name, id ...) with the one before it ("narrow": first name, id ...), SCENARIOS
# (by default the writes it slows and the searches it serves) per round and index. The
# index is rebuilt in place between runs; the migrations table is left alone, so the
# server takes the index it finds. Ends with the index of the last run in place.
DIR=$1; OUT=$2; ROUNDS=$3; KIND=${4:-sqlite}; PGDB=$5
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
SERVER=${SERVER:-/work/main/target/release/clientele}
SCENARIOS=${SCENARIOS:-create-contact,search-name,search-full-name}
mkdir -p "$OUT"
index() {
  if [ "$KIND" = sqlite ]; then
    case $1 in
      wide) cols="project_id, first_name_key, last_name_key, id, created_at, deleted_at" ;;
      narrow) cols="project_id, first_name_key, id, created_at, deleted_at" ;;
    esac
    sqlite3 "$DIR/bench.db" "DROP INDEX contacts_first_name_idx; CREATE INDEX contacts_first_name_idx ON contacts ($cols); PRAGMA wal_checkpoint(TRUNCATE);"
  else
    case $1 in
      wide) cols="project_id, first_name_key, last_name_key, id" ;;
      narrow) cols="project_id, first_name_key, id" ;;
    esac
    psql -q -h 127.0.0.1 -U postgres -d "$PGDB" -c "DROP INDEX contacts_first_name_idx" \
      -c "CREATE INDEX contacts_first_name_idx ON contacts ($cols) INCLUDE (created_at, deleted_at)" \
      -c "VACUUM ANALYZE contacts" -c "CHECKPOINT"
  fi
}
for round in $(seq 1 "$ROUNDS"); do
  # Each run adds contacts, and later runs are slower for it: the order alternates.
  order="narrow wide"; [ $((round % 2)) = 0 ] && order="wide narrow"
  for n in $order; do
    index $n
    name=$OUT/$n-$round
    $BENCH --reuse "$DIR" --server-bin "$SERVER" \
      --scenarios "$SCENARIOS" --json "$name.json" > "$name.log" 2>&1
    python3 "$(dirname "$0")/../../2026-12-04/ab-s21/summary.py" "$name" "$n"
  done
done

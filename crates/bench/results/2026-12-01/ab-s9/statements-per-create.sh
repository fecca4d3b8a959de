#!/bin/bash
# Statements PostgreSQL receives per create-contact, for each build given as
# NAME=PATH-TO-clientele: a database of its own with log_min_duration_statement = 0,
# a server on it, two creates to warm the pool, then ten creates with two tags each,
# whose lines in PostgreSQL's log are counted. Needs the local PostgreSQL (trust auth)
# and its log at $LOG (Debian's default; its line prefix names user@database).
set -u
LOG=${LOG:-/var/log/postgresql/postgresql-15-main.log}
P="psql -q -h 127.0.0.1 -U postgres -d test"
port=18181
for build in "$@"; do
  v=${build%%=*}; bin=${build#*=}
  db=rt_$v; port=$((port+1))
  $P -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" \
     -c "ALTER DATABASE $db SET log_min_duration_statement = 0"
  dir=$(mktemp -d)
  (cd "$dir" && CLIENTELE__DATABASE__URL=postgres://postgres@127.0.0.1:5432/$db \
     CLIENTELE__SERVER__BIND=127.0.0.1:$port CLIENTELE__LOG__LEVEL=warn \
     exec "$bin" > server.log 2>&1) &
  pid=$!
  for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$port/health >/dev/null && break; sleep 0.2; done
  S=$(curl -s -X POST http://127.0.0.1:$port/api/v1/signup -H 'Content-Type: application/json' \
      -d "{\"organization_name\":\"RT $v\",\"email\":\"o@rt-$v.example.com\",\"password\":\"correct horse battery\"}")
  TOKEN=$(echo "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  PID=$(echo "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["project"]["id"])')
  for i in $(seq 1 12); do
    [ "$i" = 3 ] && { sleep 0.5; start=$(wc -l < "$LOG"); }
    curl -s -o /dev/null -X POST http://127.0.0.1:$port/api/v1/projects/$PID/contacts \
      -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "{\"first_name\":\"N$i\",\"email\":\"n$i@x.example.com\",\"tags\":[\"bench\",\"new\"]}"
  done
  sleep 0.5
  tail -n +$((start+1)) "$LOG" | grep "@$db " > "$dir/lines.txt"
  echo "$v: ten creates: parse $(grep -c ' parse ' "$dir/lines.txt"), execute $(grep -c ' execute ' "$dir/lines.txt"), simple $(grep -c ' statement: ' "$dir/lines.txt")"
  grep -oE '(parse|execute) [^:]*: .{0,60}|statement: .{0,40}' "$dir/lines.txt" \
    | sed -E 's/__diesel_stmt_[0-9]+/S/' | sort | uniq -c | sort -rn
  kill $pid; wait $pid 2>/dev/null
  $P -c "DROP DATABASE $db"
done

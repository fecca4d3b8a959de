#!/bin/bash
# name-ab.sh DIR OUT ROUNDS NAME=SERVER_BIN...: alternating reused runs of the three
# search scenarios (or SCENARIOS, when set) on the kept database DIR, one per server
# binary each round.
DIR=$1; OUT=$2; ROUNDS=$3; shift 3
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
SCENARIOS=${SCENARIOS:-search-email,search-short,search-name,list-first-page,list-deep-page}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for pair in "$@"; do
    n=${pair%%=*}; bin=${pair#*=}
    name=$OUT/$n-$round
    $BENCH --reuse "$DIR" --server-bin "$bin" \
      --scenarios "$SCENARIOS" --json "$name.json" > "$name.log" 2>&1
    python3 "$(dirname "$0")/../ab-s21/summary.py" "$name" "$n"
  done
done

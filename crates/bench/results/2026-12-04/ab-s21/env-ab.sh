#!/bin/bash
# env-ab.sh DIR OUT ROUNDS SCENARIOS NAME=ENV...: alternating reused runs on the kept
# database DIR, one per server environment (KEY=VALUE, or "-" for none) each round.
DIR=$1; OUT=$2; ROUNDS=$3; SCEN=$4; shift 4
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for pair in "$@"; do
    n=${pair%%=*}; env=${pair#*=}
    name=$OUT/$n-$round
    extra=(); [ "$env" != "-" ] && extra=(--server-env "$env")
    $BENCH --reuse "$DIR" --scenarios "$SCEN" "${extra[@]}" --json "$name.json" > "$name.log" 2>&1
    python3 "$(dirname "$0")/summary.py" "$name" "$n"
  done
done

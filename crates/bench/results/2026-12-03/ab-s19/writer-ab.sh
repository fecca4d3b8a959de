#!/bin/bash
# writer-ab.sh DIR OUT LABEL=BIN... : alternating reused create-contact runs (20 s) on the
# kept database DIR, one per LABEL=BIN in the order given, repeated ROUNDS times (default 3).
# For each run: the tool's JSON, and the server's CPU per thread over 10 s of the
# measured window (threads.sh of ab-s18), from which the writer's CPU per create.
DIR=$1; OUT=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:-target/release/clientele-bench}
for round in $(seq 1 "${ROUNDS:-3}"); do
  for pair in "$@"; do
    label=${pair%%=*}; bin=${pair#*=}
    name=$OUT/wr-$label-$round
    $BENCH --reuse "$DIR" --server-bin "$bin" --scenarios create-contact \
      --duration 20s --json "$name.json" > "$name.log" 2>&1 &
    bpid=$!
    until grep -q "^create-contact:" "$name.log" 2>/dev/null; do sleep 0.5; done
    sleep 6
    pid=$(pgrep -x "$(basename "$bin")" | head -1)
    bash "$HERE/../ab-s18/threads.sh" "$pid" 10 > "$name.threads"
    wait $bpid
    rps=$(python3 -c "import json;d=json.load(open('$name.json'));l=[s for s in d['scenarios'] if s['scenario']=='create-contact'][0]['lanes'][0];print(round(l['requests_per_sec']), l['p50_us'], l['p99_us'])")
    w=$(awk '/sqlite-writer/ {print $2}' "$name.threads")
    echo "$label round $round: creates/s p50 p99 = $rps; writer $w cores; ceiling $(python3 -c "import json;print(round(json.load(open('$name.json'))['ceiling_rps']))")"
  done
done

#!/bin/bash
# env-ab.sh DIR OUT BIN ROUNDS LABEL=ENV[,ENV]...: alternating reused create-contact runs
# (20 s) of one build with each set of server environment variables; over 10 s of each,
# per-thread CPU and runqueue wait (sched.sh) and the writer's CPU per create.
DIR=$1; OUT=$2; BIN=$3; ROUNDS=$4; shift 4
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for pair in "$@"; do
    label=${pair%%=*}; envs=${pair#*=}
    args=(); IFS=',' read -ra kv <<< "$envs"; for e in "${kv[@]}"; do [ -n "$e" ] && args+=(--server-env "$e"); done
    name=$OUT/$label-$round
    $BENCH --reuse "$DIR" --server-bin "$BIN" --scenarios create-contact "${args[@]}" \
      --duration 20s --json "$name.json" > "$name.log" 2>&1 &
    bpid=$!
    until grep -q "^create-contact:" "$name.log" 2>/dev/null; do sleep 0.5; done
    sleep 6
    pid=$(pgrep -x "$(basename "$BIN")" | head -1)
    bash "$(dirname "$0")/sched.sh" "$pid" 10 > "$name.sched"
    wait $bpid
    python3 - "$name" "$label" <<'PY'
import json,sys
name,label=sys.argv[1],sys.argv[2]
d=json.load(open(name+'.json'))
s=[x for x in d['scenarios'] if x['scenario']=='create-contact'][0]; l=s['lanes'][0]
t={ln.split()[0]:ln.split() for ln in open(name+'.sched')}
w=t['sqlite-writer']; h=t.get('actix-rt|system',['']*5)
print(f"{label} {name[-1]}: {l['requests_per_sec']:,.0f}/s p50 {l['p50_us']/1000:.2f} p99 {l['p99_us']/1000:.2f} ms; writer run {w[2]} wait {w[4]} = {float(w[2])*1e6/l['requests_per_sec']:.0f} us/create, {w[8].rstrip(';')} slices/s; http run {h[2]} wait {h[4]}; srv cpu {s['cpu']['server_cores']:.2f}; ceiling {d['ceiling_rps']:,.0f}")
PY
  done
done

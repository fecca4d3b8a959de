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
    python3 - "$name" "$n" <<'PY'
import json,sys
name,n=sys.argv[1],sys.argv[2]
d=json.load(open(name+'.json'))
out=[]
for s in d['scenarios'][1:]:
    l=s['lanes'][0]; c=s['cpu']
    out.append(f"{s['scenario']} {l['requests_per_sec']:,.0f}/s p99 {l['p99_us']/1000:.2f} srv {c['server_cores']:.2f}")
print(f"{n} {name[-1]} (ceiling {d['ceiling_rps']:,.0f}, idle {d['server']['idle_rss_kib']/1024:.1f} MiB, peak {max(s['peak_rss_kib'] for s in d['scenarios'])/1024:.1f}): " + "; ".join(out))
PY
  done
done

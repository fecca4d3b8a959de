#!/bin/bash
# short-ab.sh DIR OUT ROUNDS NAME=SERVER_BIN...: alternating reused runs of search-email
# and search-short on the kept database DIR, one per server binary each round.
DIR=$1; OUT=$2; ROUNDS=$3; shift 3
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for pair in "$@"; do
    n=${pair%%=*}; bin=${pair#*=}
    name=$OUT/$n-$round
    $BENCH --reuse "$DIR" --server-bin "$bin" --scenarios search-email,search-short \
      --json "$name.json" > "$name.log" 2>&1
    python3 - "$name" "$n" <<'PY'
import json,sys
name,n=sys.argv[1],sys.argv[2]
d=json.load(open(name+'.json'))
out=[]
for s in d['scenarios'][1:]:
    l=s['lanes'][0]; c=s['cpu']
    out.append(f"{s['scenario']} {l['requests_per_sec']:,.0f}/s p50 {l['p50_us']/1000:.2f} p99 {l['p99_us']/1000:.2f} p99.9 {l['p999_us']/1000:.2f}")
print(f"{n} {name[-1]} (ceiling {d['ceiling_rps']:,.0f}): " + "; ".join(out))
PY
  done
done

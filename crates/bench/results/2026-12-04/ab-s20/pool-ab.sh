#!/bin/bash
# pool-ab.sh DIR OUT ROUNDS SIZE...: alternating reused runs on the kept PostgreSQL
# database DIR of get-contact, list-first-page, search-email and create-contact with
# the server's pool at each SIZE (CLIENTELE__DATABASE__POOL_SIZE).
DIR=$1; OUT=$2; ROUNDS=$3; shift 3
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for n in "$@"; do
    name=$OUT/pool-$n-$round
    $BENCH --reuse "$DIR" --scenarios get-contact,list-first-page,search-email,create-contact \
      --server-env CLIENTELE__DATABASE__POOL_SIZE=$n --json "$name.json" > "$name.log" 2>&1
    python3 - "$name" "$n" <<'PY'
import json,sys
name,n=sys.argv[1],sys.argv[2]
d=json.load(open(name+'.json'))
out=[]
for s in d['scenarios'][1:]:
    l=s['lanes'][0]; c=s['cpu']
    out.append(f"{s['scenario']} {l['requests_per_sec']:,.0f}/s p50 {l['p50_us']/1000:.2f} p99 {l['p99_us']/1000:.2f}")
print(f"pool {n} {name[-1]} (ceiling {d['ceiling_rps']:,.0f}): " + "; ".join(out))
PY
  done
done

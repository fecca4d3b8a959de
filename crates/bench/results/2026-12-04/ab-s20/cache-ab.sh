#!/bin/bash
# cache-ab.sh DIR OUT BIN ROUNDS CACHE...: alternating reused create-contact runs (20 s)
# with the writer's page cache set to each CACHE (MiB); over 10 s of each, the server's
# per-thread CPU and runqueue wait (sched.sh).
DIR=$1; OUT=$2; BIN=$3; ROUNDS=$4; shift 4
BENCH=${BENCH:-/work/main/target/release/clientele-bench}
mkdir -p "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for c in "$@"; do
    name=$OUT/wc-$c-$round
    $BENCH --reuse "$DIR" --server-bin "$BIN" --scenarios create-contact \
      --server-env CLIENTELE__DATABASE__WRITER_CACHE_MIB=$c \
      --duration 20s --json "$name.json" > "$name.log" 2>&1 &
    bpid=$!
    until grep -q "^create-contact:" "$name.log" 2>/dev/null; do sleep 0.5; done
    sleep 6
    pid=$(pgrep -x "$(basename "$BIN")" | head -1)
    r0=$(awk '{print $4}' /sys/block/vda/stat)
    bash /tmp/s20/sched.sh "$pid" 10 > "$name.sched"
    r1=$(awk '{print $4}' /sys/block/vda/stat)
    wait $bpid
    echo "disk reads (sectors) in 10 s: $((r1-r0))" >> "$name.sched"
    python3 - "$name" "$c" <<'PY'
import json,sys,re
name,c=sys.argv[1],sys.argv[2]
d=json.load(open(name+'.json'))
s=[x for x in d['scenarios'] if x['scenario']=='create-contact'][0]; l=s['lanes'][0]
w=[ln for ln in open(name+'.sched') if ln.startswith('sqlite-writer')][0].split()
rd=open(name+'.sched').read().split('disk reads (sectors) in 10 s: ')[1].strip()
print(f"cache {c} MiB {name[-1]}: {l['requests_per_sec']:,.0f}/s p50 {l['p50_us']/1000:.2f} p99 {l['p99_us']/1000:.2f} ms; writer run {w[2]} wait {w[4]}; {float(w[2])*1e6/l['requests_per_sec']:.0f} us/create; peak RSS {s['peak_rss_kib']/1024:.1f} MiB; ceiling {d['ceiling_rps']:,.0f}; disk read {int(rd)/2/1024:.1f} MiB")
PY
  done
done

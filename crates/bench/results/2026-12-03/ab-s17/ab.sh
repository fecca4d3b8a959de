#!/bin/bash
# D=<kept folder> BIN=<server> ab.sh LABEL [ENV=V ...]: start $BIN on a kept database with env, run
# wrk scenarios (SCEN, default get search list), print one line per scenario.
# DBURL=postgres://... for a kept PostgreSQL database (D is then unused).
DBURL=${DBURL:-sqlite://${D:?the kept database folder (--keep-database prints it)}/bench.db}; IDS=${IDS:-/tmp/getids.txt}
# SQL on the kept database: sqlite3 on the file, psql on a PostgreSQL URL.
q() { case $DBURL in postgres*) psql -At "$DBURL" -c "$1" ;; *) sqlite3 "${DBURL#sqlite://}" "$1" ;; esac; }
# The measured project (the one with most contacts) and its owner.
P=${P:-$(q "SELECT project_id FROM contacts GROUP BY project_id ORDER BY count(*) DESC LIMIT 1")}
OWNER=${OWNER:-$(q "SELECT substr(email, 7, length(email) - 6 - length('@bench.example.com')) FROM users WHERE email LIKE 'owner-%' LIMIT 1")}
BIN=${BIN:?the server binary}
# 8,000 contacts of the project for get (as the tool's get-contact reads).
[ -s "$IDS" ] || q "SELECT id FROM contacts WHERE project_id = '$P' ORDER BY random() LIMIT 8000" > "$IDS"
label=$1; shift
pkill -f ' serve$' ; sleep 1
CLIENTELE__DATABASE__URL=$DBURL CLIENTELE__SERVER__BIND=127.0.0.1:18080 env "$@" $BIN serve > /tmp/srv.log 2>&1 &
SP=$!
for i in $(seq 1 50); do curl -sf localhost:18080/health >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -s -X POST localhost:18080/api/v1/auth/token -H 'content-type: application/json' -d "{\"email\":\"owner-$OWNER@bench.example.com\",\"password\":\"bench owner password $OWNER\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
python3 - "$TOKEN" "$P" "$IDS" <<'PY'
import sys
tok,P,IDS=sys.argv[1:4]
first="Anna Ben Clara David Emma Felix Greta Hugo Ida Jonas Karla Lukas Mia Noah Olga Paul Quinn Rosa Simon Tara Uwe Vera Wim Xenia Yusuf Zoe Amir Bea Chen Dana Eli Fatima".lower().split()
last=open('/tmp/last.txt').read().split()[:48]
prefixes=[f"{f}.{l}" for f in first for l in last]
auth='{["authorization"]="Bearer '+tok+'"}'
open('/tmp/search.lua','w').write('local prefixes = {' + ",".join('"'+p+'"' for p in prefixes) + '}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  local p = prefixes[(i * 7919) % #prefixes + 1]\n  return wrk.format("GET", "/api/v1/projects/'+P+'/contacts?search=" .. p .. "&limit=20", '+auth+')\nend\n')
ids=open(IDS).read().split()
open('/tmp/get.lua','w').write('local ids = {' + ",".join('"'+p+'"' for p in ids) + '}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format("GET", "/api/v1/projects/'+P+'/contacts/" .. ids[(i * 7919) % #ids + 1], '+auth+')\nend\n')
open('/tmp/health.lua','w').write('request = function()\n  return wrk.format("GET", "/health")\nend\n')
open('/tmp/list.lua','w').write('request = function()\n  return wrk.format("GET", "/api/v1/projects/'+P+'/contacts?limit=20", '+auth+')\nend\n')
open('/tmp/create.lua','w').write('local i = 0\nlocal tag = tostring(os.time()) .. tostring(math.random(1000000))\nrequest = function()\n  i = i + 1\n  return wrk.format("POST", "/api/v1/projects/'+P+'/contacts", {["authorization"]="Bearer '+tok+'", ["content-type"]="application/json"}, \'{"first_name":"Bench","last_name":"Create","email":"create.\' .. tag .. "." .. i .. \'@bench.example.com","phone":"+4930\' .. (1000000 + i) .. \'","tags":["bench","new"],"source":"web"}\')\nend\n')
PY
cpu() { awk '{print $14+$15}' /proc/$SP/stat; }
pg() { local s=0; for p in $(pgrep -f 'postgres: '); do read -r a b < <(awk '{print $14, $15}' /proc/$p/stat 2>/dev/null) && s=$((s+a+b)); done; echo $s; }
run() { # name script
  wrk -t1 -c32 -d${WARM:-3}s -s /tmp/$2.lua http://127.0.0.1:18080 >/dev/null
  a=$(cpu); pa=$(pg); wa=$(awk '{print $7}' /sys/block/vda/stat); out=$(wrk -t1 -c32 -d${DUR:-8}s --latency -s /tmp/$2.lua http://127.0.0.1:18080); b=$(cpu); pb=$(pg); wb=$(awk '{print $7}' /sys/block/vda/stat)
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}'); p50=$(echo "$out" | awk '$1=="50%"{print $2}'); p99=$(echo "$out" | awk '$1=="99%"{print $2}'); n2=$(echo "$out" | awk '/Non-2xx/{print $NF}')
  us=$(echo "($b-$a)*10000/($rps*${DUR:-8})" | bc -l | cut -c1-6); pgus=$(echo "($pb-$pa)*10000/($rps*${DUR:-8})" | bc -l | cut -c1-6)
  kib=$(echo "($wb-$wa)/2/($rps*${DUR:-8})" | bc -l | cut -c1-5); printf "%-10s %-8s %10s rps  p50 %8s  p99 %8s  srv-us/req %-7s pg-us/req %-7s disk-KiB/req %-6s %s\n" "$label" "$1" "$rps" "$p50" "$p99" "$us" "$pgus" "$kib" "${n2:+non2xx=$n2}"
}
run health health
for s in ${SCEN:-get search list}; do run $s $s; done
echo "$label VmHWM $(grep VmHWM /proc/$SP/status | awk '{print $2/1024 " MiB"}') VmRSS $(grep VmRSS /proc/$SP/status | awk '{print $2/1024}') RssFile $(grep RssFile /proc/$SP/status | awk '{print $2/1024}')"

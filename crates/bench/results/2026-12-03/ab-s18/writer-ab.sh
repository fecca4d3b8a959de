#!/bin/bash
# writer-ab.sh LABEL BIN SCENARIO: a reused 20 s run of SCENARIO; the writer thread's CPU per request over 10 s of it.
D=${D:?kept folder}; label=$1; bin=$2; scen=${3:-create-contact}; out=${OUT:-/tmp}/wr-$label-$scen
/work/main/target/release/clientele-bench --reuse $D --server-bin $bin --scenarios $scen --duration 20s --json $out.json > $out.log 2>&1 &
until grep -q "$scen:" $out.log; do sleep 0.5; done; sleep 6
P=$(pgrep -f 'clientele serve' | head -1)
tick() { for t in /proc/$P/task/*; do [ "$(cat $t/comm)" = sqlite-writer ] && awk '{print $14+$15}' $t/stat; done; }
io() { awk '{print $7, $8, $5}' /sys/block/vda/stat; }
a=$(tick); read s0 wt0 w0 < <(io); sleep 10; b=$(tick); read s1 wt1 w1 < <(io)
wait
rate=$(grep "^$scen " $out.log | awk '{gsub(",","",$3); print $3}')
p99=$(grep "^$scen " $out.log | awk '{print $6}')
echo "$label $scen rate $rate p99 $p99 writer $(echo "($b-$a)/1000" | bc -l | cut -c1-4) cores, $(echo "($b-$a)*10000/($rate*10)" | bc -l | cut -c1-5) us/req; disk KiB/req $(echo "($s1-$s0)/2/($rate*10)" | bc -l | cut -c1-5), ms/write $(echo "($wt1-$wt0)/($w1-$w0)" | bc -l | cut -c1-4)"

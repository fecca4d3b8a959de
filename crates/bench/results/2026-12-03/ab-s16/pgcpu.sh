#!/bin/bash
# runs cmd in background; samples CPU of postgres processes from 2s to 6s into the run
"$@" > /tmp/pgcpu.out 2>&1 &
sleep 2
t() { local s=0; for p in $(pgrep postgres); do read -r a b < <(awk '{print $14, $15}' /proc/$p/stat 2>/dev/null) && s=$((s+a+b)); done; echo $s; }
tot() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
a=$(t); ta=$(tot); sleep 4; b=$(t); tb=$(tot)
wait
grep -E 'tps' /tmp/pgcpu.out
echo "postgres cores: $(echo "($b-$a)/400" | bc -l | cut -c1-5)  machine busy cores: $(echo "($tb-$ta)/400" | bc -l | cut -c1-5)"

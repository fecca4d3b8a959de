#!/bin/bash
# sched.sh PID SECONDS: per thread name, cores on CPU and cores waiting on a runqueue
# (/proc/PID/task/TID/schedstat: ns on cpu, ns waiting, timeslices), and switches.
P=$1; S=${2:-10}
snap() { for t in /proc/$P/task/*; do n=$(cat $t/comm); read -r a b c < $t/schedstat; v=$(awk '/^voluntary_ctxt_switches/ {print $2}' $t/status); echo "$n $a $b $c $v"; done | awk '{r[$1]+=$2; w[$1]+=$3; s[$1]+=$4; v[$1]+=$5} END {for (k in r) print k, r[k], w[k], s[k], v[k]}' | sort; }
snap > /tmp/s0; sleep $S; snap > /tmp/s1
join /tmp/s0 /tmp/s1 | awk -v s=$S '{printf "%-20s run %.3f wait %.3f cores; slices/s %d; voluntary/s %d\n", $1, ($6-$2)/1e9/s, ($7-$3)/1e9/s, ($8-$4)/s, ($9-$5)/s}' | sort -k3 -rn | head -12

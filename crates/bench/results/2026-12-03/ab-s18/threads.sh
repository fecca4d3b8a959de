#!/bin/bash
# threads.sh PID SECONDS: CPU per thread name over the window, and disk writes.
P=$1; S=${2:-8}
snap() { for t in /proc/$P/task/*; do n=$(cat $t/comm); read -r a b < <(awk '{print $14, $15}' $t/stat); echo "$n $((a+b))"; done | awk '{s[$1]+=$2} END {for (k in s) print k, s[k]}' | sort; }
w0=$(awk '{print $7}' /sys/block/vda/stat); io0=$(awk '{print $8}' /sys/block/vda/stat)
snap > /tmp/t0; sleep $S; snap > /tmp/t1
w1=$(awk '{print $7}' /sys/block/vda/stat)
join /tmp/t0 /tmp/t1 | awk -v s=$S '{printf "%-20s %.2f cores\n", $1, ($3-$2)/100/s}' | sort -k2 -rn | head -12
echo "disk MiB written: $(( (w1-w0)/2048 ))"

#!/bin/bash
# waits.sh DB SECONDS: samples pg_stat_activity of DB every 10 ms; prints counts of
# (state, wait_event_type, wait_event) over all samples.
DB=$1; N=$(( $2 * 50 ))
for i in $(seq $N); do echo "SELECT state, coalesce(wait_event_type,'-'), coalesce(wait_event,'CPU') FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid();"; echo "SELECT pg_sleep(0.02);"; done | psql -h 127.0.0.1 -U postgres -d test -At -F' ' | grep -v '^$' | sort | uniq -c | sort -rn

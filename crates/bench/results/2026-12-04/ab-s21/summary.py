"""summary.py NAME LABEL: one line for the reused run NAME.json (every scenario but the
ceiling): rate, p50/p99/p99.9, the server's CPU (and PostgreSQL's, when it ran), and the server's idle and peak memory."""
import json
import sys

name, label = sys.argv[1], sys.argv[2]
d = json.load(open(name + '.json'))
out = []
for s in d['scenarios'][1:]:
    l = s['lanes'][0]
    out.append(f"{s['scenario']} {l['requests_per_sec']:,.0f}/s p50 {l['p50_us']/1000:.2f} "
               f"p99 {l['p99_us']/1000:.2f} p99.9 {l['p999_us']/1000:.2f} "
               f"srv {s['cpu']['server_cores']:.2f}"
               + (f" db {s['cpu']['database_cores']:.2f}"
                  if s['cpu'].get('database_cores') is not None else ""))
peak = max(s['peak_rss_kib'] for s in d['scenarios']) / 1024
print(f"{label} {name[-1]} (ceiling {d['ceiling_rps']:,.0f}, idle "
      f"{d['server']['idle_rss_kib']/1024:.1f} MiB, peak {peak:.1f}): " + "; ".join(out))

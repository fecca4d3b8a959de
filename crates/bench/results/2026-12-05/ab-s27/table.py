"""table.py: per run of sq/ and pg/, each search scenario's rate, p99 and CPU per search
(server, and PostgreSQL's where used), in µs."""
import json, glob
for db in ['sq', 'pg']:
    for f in sorted(glob.glob(f'{db}/*.json'), key=lambda p: (p[-6], p)):
        d = json.load(open(f))
        out = []
        for s in d['scenarios']:
            if not s['scenario'].startswith('search'):
                continue
            l = s['lanes'][0]; r = l['requests_per_sec']; c = s['cpu']
            db_us = f" db {1e6 * c['database_cores'] / r:4.0f}" if c.get('database_cores') else ''
            out.append(f"{s['scenario']:16} {r:6.0f}/s p99 {l['p99_us']/1000:5.1f} ms srv {1e6 * c['server_cores'] / r:4.0f}{db_us} µs")
        print(f"{f:14} ceiling {d['ceiling_rps']:6.0f}  " + ' | '.join(out))

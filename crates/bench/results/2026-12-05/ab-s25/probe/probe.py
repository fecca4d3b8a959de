"""probe.py DIR PORT: each query of QUERIES, one request at a time, 5 times; the median
time and the number of contacts on the page."""
import json, sys, time, urllib.request, statistics
d = json.load(open(sys.argv[1] + '/fixture.json'))
f = d['fixture']
base = f'http://127.0.0.1:{sys.argv[2]}/api/v1'
body = json.dumps({'email': f['owner']['email'], 'password': f['owner']['password']}).encode()
tok = json.load(urllib.request.urlopen(urllib.request.Request(base + '/auth/token', body, {'Content-Type': 'application/json'})))['access_token']
for q in ['anna%20weber', 'weber%20anna', 'anna%20web', 'ann%20weber', 'an%20weber', 'a%20weber', 'a%20we', 'weber%20a', 'anna%20w', 'anna.weber', 'anna', 'weber']:
    ts = []
    for _ in range(5):
        r = urllib.request.Request(f"{base}/projects/{f['project_id']}/contacts?search={q}&limit=20", headers={'Authorization': 'Bearer ' + tok})
        t = time.perf_counter(); b = json.load(urllib.request.urlopen(r)); ts.append(time.perf_counter() - t)
    print(f"{q:16} {statistics.median(ts)*1000:8.2f} ms  {len(b.get('items', b.get('contacts', [])))} on the page")

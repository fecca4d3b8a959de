"""probe.py DIR PORT [QUERY ...]: each query (URL-encoded search text), one request at a
time against a server started by hand on the kept database DIR, 5 times after one
unmeasured request; prints the median time and the number of contacts on the page."""
import json, sys, time, urllib.request, statistics
d = json.load(open(sys.argv[1] + '/fixture.json'))
f = d['fixture']
base = f'http://127.0.0.1:{sys.argv[2]}/api/v1'
body = json.dumps({'email': f['owner']['email'], 'password': f['owner']['password']}).encode()
tok = json.load(urllib.request.urlopen(urllib.request.Request(base + '/auth/token', body, {'Content-Type': 'application/json'})))['access_token']
queries = sys.argv[3:] or ['anna%20weber', 'ann%20weber', 'an%20weber', 'a%20weber', 'ben%20moeller', 'ben%20weber', 'be%20weber', 'b%20weber', 'bench%20writer']
for q in queries:
    ts = []
    for i in range(6):
        r = urllib.request.Request(f"{base}/projects/{f['project_id']}/contacts?search={q}&limit=20", headers={'Authorization': 'Bearer ' + tok})
        t = time.perf_counter(); b = json.load(urllib.request.urlopen(r)); el = time.perf_counter() - t
        if i:
            ts.append(el)
    print(f"{q:18} {statistics.median(ts)*1000:9.2f} ms  {len(b.get('items', b.get('contacts', [])))} on the page")

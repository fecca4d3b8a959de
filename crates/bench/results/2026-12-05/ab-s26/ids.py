import json, sys, urllib.request, urllib.parse
d = json.load(open(sys.argv[1] + '/fixture.json')); f = d['fixture']
base = f'http://127.0.0.1:{sys.argv[2]}/api/v1'
body = json.dumps({'email': f['owner']['email'], 'password': f['owner']['password']}).encode()
tok = json.load(urllib.request.urlopen(urllib.request.Request(base + '/auth/token', body, {'Content-Type': 'application/json'})))['access_token']
out = {}
for q in sys.argv[3:]:
    pages = []; cursor = None
    for _ in range(3):
        url = f"{base}/projects/{f['project_id']}/contacts?search={q}&limit=20" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        b = json.load(urllib.request.urlopen(urllib.request.Request(url, headers={'Authorization': 'Bearer ' + tok})))
        pages.append([c['id'] for c in b['contacts']]); cursor = b.get('next_cursor')
        if not cursor: break
    out[q] = pages
print(json.dumps(out))

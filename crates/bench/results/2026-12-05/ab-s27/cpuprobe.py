"""cpuprobe.py DIR PORT PID N QUERY...: N requests per query (search text, URL-encoded),
one at a time over one keep-alive connection; prints the server's CPU per request
(utime+stime from /proc/PID/stat) and the median wall time."""
import json, sys, time, http.client, os, statistics
d = json.load(open(sys.argv[1] + '/fixture.json'))['fixture']
port, pid, n = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection('127.0.0.1', port)
body = json.dumps({'email': d['owner']['email'], 'password': d['owner']['password']})
c.request('POST', '/api/v1/auth/token', body, {'Content-Type': 'application/json'})
tok = json.loads(c.getresponse().read())['access_token']
tick = os.sysconf('SC_CLK_TCK')
def cpu():
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick
for q in sys.argv[5:]:
    path = f"/api/v1/projects/{d['project_id']}/contacts?search={q}&limit=20"
    h = {'Authorization': 'Bearer ' + tok}
    for _ in range(50):
        c.request('GET', path, headers=h); r = c.getresponse(); r.read()
    ts = []
    c0 = cpu()
    for _ in range(n):
        t = time.perf_counter(); c.request('GET', path, headers=h); r = c.getresponse(); r.read(); ts.append(time.perf_counter() - t)
        assert r.status == 200, r.status
    c1 = cpu()
    print(f"{q:16} server CPU {1e6*(c1-c0)/n:7.0f} us/request   median {1e3*statistics.median(ts):6.3f} ms")

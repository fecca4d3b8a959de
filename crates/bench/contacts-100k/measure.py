import json, subprocess, sys, base64, sqlite3, datetime, urllib.request, time, statistics
API = "http://127.0.0.1:18080/api/v1"
cid, pid = open("ids.txt").read().split()
req = urllib.request.Request(API + "/auth/token", data=json.dumps({"email": "owner@big.com", "password": "correct horse battery"}).encode(), headers={"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(req))["access_token"]
db = sqlite3.connect("db.sqlite")
def cursor_at(sort_col, order, depth):
    row = db.execute(f"SELECT {sort_col}, id FROM contacts WHERE project_id=? AND deleted_at IS NULL ORDER BY {sort_col} {order}, id {order} LIMIT 1 OFFSET ?", (pid, depth - 1)).fetchone()
    key = row[0]
    if sort_col == "created_at":
        t = datetime.datetime.strptime(key, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
        key = str(int(t.timestamp()) * 1_000_000 + t.microsecond)
    col = {"created_at": "created_at", "last_name_key": "last_name", "email": "email"}[sort_col]
    raw = f"{col}\n{order}\n{key}\n{row[1]}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
cases = [
    ("list first page (created_at desc, 20)", "limit=20"),
    ("list 10,000 deep by cursor", "limit=20&cursor=" + cursor_at("created_at", "desc", 10000)),
    ("list by last_name asc, first page", "limit=20&sort_by=last_name&sort_order=asc"),
    ("list by last_name asc, 10,000 deep", "limit=20&sort_by=last_name&sort_order=asc&cursor=" + cursor_at("last_name_key", "asc", 10000)),
    ("page form page=1 with total", "page=1&page_size=20"),
    ("page form page=501 (offset 10,000) with total", "page=501&page_size=20"),
    ("search email prefix user4242", "search=user4242"),
    ("search last name prefix last777", "search=last777"),
    ("search + filter tier=pro&tag=vip", "search=user1&tier=pro&tag=vip"),
    ("filter tag=vip&status=active", "tag=vip&status=active"),
]
n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
for name, q in cases:
    url = f"{API}/projects/{pid}/contacts?{q}"
    times = []
    for i in range(n + 10):
        r = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
        t0 = time.perf_counter()
        body = urllib.request.urlopen(r).read()
        dt = (time.perf_counter() - t0) * 1000
        if i >= 10: times.append(dt)
    times.sort()
    cnt = len(json.loads(body)["contacts"])
    print(f"{name:48s} rows={cnt:3d}  p50={times[len(times)//2]:7.2f} ms  p99={times[int(len(times)*0.99)-1]:7.2f} ms")

"""worst.py DIR N: the loose scan's worst case on a kept SQLite database (no server
running on it): N more contacts in the measured project, copies of its first N with
every first name distinct ("Zq000001", "Zq000002", ...), so that a first word "zq" starts
N first names of one contact each. Ids, emails and names are new; everything else,
the last name included, is the copied contact's."""
import json, sqlite3, sys, uuid
d = sys.argv[1]; n = int(sys.argv[2])
project = json.load(open(d + '/fixture.json'))['fixture']['project_id']
c = sqlite3.connect(d + '/bench.db'); c.execute('PRAGMA busy_timeout = 5000')
c.create_function('new_id', 0, lambda: str(uuid.uuid4()))
cols = [r[1] for r in c.execute('PRAGMA table_info(contacts)')]
override = {
    'id': 'new_id()',
    'first_name': "'Zq' || printf('%06d', rowid)",
    'first_name_key': "'zq' || printf('%06d', rowid)",
    'display_name': "'Zq' || printf('%06d', rowid)",
    'email': "'zq' || printf('%06d', rowid) || '@worst.example'",
    'tags': "'[]'",
    'company_id': 'NULL',
}
select = ', '.join(override.get(k, k) for k in cols)
with c:
    c.execute(f"INSERT INTO contacts ({', '.join(cols)}) SELECT {select} FROM contacts WHERE project_id = ? ORDER BY rowid LIMIT ?", (project, n))
print(c.execute("SELECT COUNT(*), COUNT(DISTINCT first_name_key), SUM(last_name_key LIKE 'weber%') FROM contacts WHERE project_id = ? AND first_name_key LIKE 'zq%'", (project,)).fetchone())

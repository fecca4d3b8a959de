SET plan_cache_mode = force_generic_plan;
\set p '01a241ac-682d-7561-950b-2265a966904e'
\set c '01a241ac-6810-74c1-9e6a-c54b30b965c8'
PREPARE s(text, text, text, text) AS
SELECT * FROM contacts WHERE project_id = $1 AND customer_id = $2 AND contacts.id IN (
 SELECT id FROM (
  SELECT * FROM (SELECT id, created_at FROM contacts WHERE project_id = $1 AND email >= $3 AND email < $4 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 21) AS t0
  UNION SELECT * FROM (SELECT id, created_at FROM contacts WHERE project_id = $1 AND first_name_key >= $3 AND first_name_key < $4 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 21) AS t1
  UNION SELECT * FROM (SELECT id, created_at FROM contacts WHERE project_id = $1 AND last_name_key >= $3 AND last_name_key < $4 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 21) AS t2
  ORDER BY 2 DESC, 1 DESC LIMIT 21 OFFSET 0) AS page)
ORDER BY created_at DESC, id DESC;
\timing on
EXECUTE s(:'p', :'c', 'anna.weber', 'anna.weber' || chr(1114111));
EXECUTE s(:'p', :'c', 'anna.weber', 'anna.weber' || chr(1114111));
EXECUTE s(:'p', :'c', 'anna', 'anna' || chr(1114111));
EXECUTE s(:'p', :'c', 'anna', 'anna' || chr(1114111));
EXECUTE s(:'p', :'c', 'an', 'an' || chr(1114111));
EXECUTE s(:'p', :'c', 'a', 'a' || chr(1114111));
EXECUTE s(:'p', :'c', 'a', 'a' || chr(1114111));
EXECUTE s(:'p', :'c', 'm', 'm' || chr(1114111));

SET plan_cache_mode = force_generic_plan;
\set p '01a2415b-2cb3-72c6-8201-16d0fc040283'
\set c '01a2415b-2c98-7753-9c6d-95c5ba4866ae'
PREPARE s(text, text, text, text) AS
SELECT * FROM contacts WHERE project_id = $1 AND customer_id = $2 AND contacts.id IN (
 SELECT id FROM (
  SELECT * FROM (SELECT id, created_at FROM contacts WHERE project_id = $1 AND email >= $3 AND email < $4 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 21) AS t0
  UNION SELECT * FROM (SELECT id, created_at FROM contacts WHERE project_id = $1 AND first_name_key >= $3 AND first_name_key < $4 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 21) AS t1
  UNION SELECT * FROM (SELECT id, created_at FROM contacts WHERE project_id = $1 AND last_name_key >= $3 AND last_name_key < $4 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 21) AS t2
  ORDER BY 2 DESC, 1 DESC LIMIT 21 OFFSET 0) AS page)
ORDER BY created_at DESC, id DESC;
EXPLAIN (ANALYZE, BUFFERS, SUMMARY) EXECUTE s(:'p', :'c', 'anna.weber', 'anna.weber' || chr(1114111));
EXPLAIN (ANALYZE, SUMMARY) EXECUTE s(:'p', :'c', 'paul.garcia', 'paul.garcia' || chr(1114111));
EXPLAIN (ANALYZE, SUMMARY) EXECUTE s(:'p', :'c', 'simon.lange', 'simon.lange' || chr(1114111));
EXPLAIN (ANALYZE, SUMMARY) EXECUTE s(:'p', :'c', 'ben.moeller', 'ben.moeller' || chr(1114111));
EXPLAIN (ANALYZE, SUMMARY) EXECUTE s(:'p', :'c', 'wim.werner', 'wim.werner' || chr(1114111));
EXPLAIN (ANALYZE, SUMMARY) EXECUTE s(:'p', :'c', 'hugo.peters', 'hugo.peters' || chr(1114111));
EXPLAIN (ANALYZE, SUMMARY) EXECUTE s(:'p', :'c', 'tara.meyer', 'tara.meyer' || chr(1114111));

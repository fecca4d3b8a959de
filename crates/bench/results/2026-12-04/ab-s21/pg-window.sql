SET plan_cache_mode = force_generic_plan;
\set p '01a241ac-682d-7561-950b-2265a966904e'
\set c '01a241ac-6810-74c1-9e6a-c54b30b965c8'
PREPARE w(text, text, text, text, bigint) AS
SELECT * FROM (SELECT * FROM contacts WHERE project_id = $1 AND customer_id = $2 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC LIMIT $5) AS contacts
WHERE ((contacts.email >= $3 AND contacts.email < $4) OR (contacts.first_name_key >= $3 AND contacts.first_name_key < $4) OR (contacts.last_name_key >= $3 AND contacts.last_name_key < $4))
ORDER BY created_at DESC, id DESC LIMIT 21;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE w(:'p', :'c', 'a', 'a' || chr(1114111), 4000);
\timing on
EXECUTE w(:'p', :'c', 'a', 'a' || chr(1114111), 4000);
EXECUTE w(:'p', :'c', 'a', 'a' || chr(1114111), 4000);
EXECUTE w(:'p', :'c', 'an', 'an' || chr(1114111), 4000);
EXECUTE w(:'p', :'c', 'ann', 'ann' || chr(1114111), 4000);
EXECUTE w(:'p', :'c', 'zq', 'zq' || chr(1114111), 4000);
EXECUTE w(:'p', :'c', 'zq', 'zq' || chr(1114111), 4000);

SET plan_cache_mode = force_generic_plan;
\set p '01a241ac-682d-7561-950b-2265a966904e'
\set c '01a241ac-6810-74c1-9e6a-c54b30b965c8'
PREPARE w(text, text, text, bigint, text, text, bigint, bigint) AS
SELECT * FROM contacts WHERE contacts.project_id = $1 AND contacts.customer_id = $2 AND contacts.id IN (SELECT id FROM (SELECT * FROM (
  SELECT contacts.id, contacts.created_at, contacts.email AS k_email, contacts.first_name_key AS k_first, contacts.last_name_key AS k_last, contacts.phone_digits AS k_phone
  FROM contacts WHERE contacts.project_id = $3 AND contacts.deleted_at IS NULL ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT $4) AS w
 WHERE (w.k_email >= $5 AND w.k_email < $6) OR (w.k_first >= $5 AND w.k_first < $6) OR (w.k_last >= $5 AND w.k_last < $6)
 ORDER BY 2 DESC, 1 DESC LIMIT $7 OFFSET $8) AS hits)
ORDER BY contacts.created_at DESC, contacts.id DESC;
\timing on
EXECUTE w(:'p', :'c', :'p', 4200, 'zq', 'zq' || chr(1114111), 21, 0);
EXECUTE w(:'p', :'c', :'p', 4200, 'zq', 'zq' || chr(1114111), 21, 0);
EXECUTE w(:'p', :'c', :'p', 4200, 'zq', 'zq' || chr(1114111), 21, 0);
EXECUTE w(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 21, 0);
EXECUTE w(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 21, 0);
EXECUTE w(:'p', :'c', :'p', 4200, 'an', 'an' || chr(1114111), 21, 0);
EXECUTE w(:'p', :'c', :'p', 4200, 'ann', 'ann' || chr(1114111), 21, 0);

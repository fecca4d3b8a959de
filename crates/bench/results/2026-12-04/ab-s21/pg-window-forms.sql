-- The short search's window statement in its final form (filters on the window's rows)
-- and in its first form (filters inside the window), by hand, generic plan.
SET plan_cache_mode = force_generic_plan;
\set p '01a241ac-682d-7561-950b-2265a966904e'
\set c '01a241ac-6810-74c1-9e6a-c54b30b965c8'
PREPARE final(text, text, text, bigint, text, text, text, bigint, bigint) AS
SELECT * FROM contacts WHERE contacts.project_id = $1 AND contacts.customer_id = $2 AND contacts.id IN (SELECT id FROM (
  SELECT contacts.id AS id FROM (
    SELECT contacts.id, contacts.project_id, contacts.status, contacts.stage, contacts.tier, contacts.customer_type, contacts.assigned_to, contacts.company_id, contacts.email, contacts.first_name_key, contacts.last_name_key, contacts.phone_digits, contacts.total_spent, contacts.last_order_key, contacts.created_at, contacts.updated_at, contacts.deleted_at
    FROM contacts WHERE contacts.project_id = $3 ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT $4) AS contacts
  WHERE (contacts.status = $7) AND (contacts.deleted_at IS NULL)
    AND (((contacts.project_id = $3 AND contacts.email >= $5 AND contacts.email < $6) OR (contacts.project_id = $3 AND contacts.first_name_key >= $5 AND contacts.first_name_key < $6)) OR (contacts.project_id = $3 AND contacts.last_name_key >= $5 AND contacts.last_name_key < $6))
  ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT $8 OFFSET $9) AS hits)
ORDER BY contacts.created_at DESC, contacts.id DESC;
PREPARE first(text, text, text, bigint, text, text, text, bigint, bigint) AS
SELECT * FROM contacts WHERE contacts.project_id = $1 AND contacts.customer_id = $2 AND contacts.id IN (SELECT id FROM (SELECT * FROM (
  SELECT contacts.id, contacts.created_at, contacts.email AS k_email, contacts.first_name_key AS k_first, contacts.last_name_key AS k_last, contacts.phone_digits AS k_phone
  FROM contacts WHERE contacts.project_id = $3 AND contacts.status = $7 AND contacts.deleted_at IS NULL ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT $4) AS w
 WHERE (w.k_email >= $5 AND w.k_email < $6) OR (w.k_first >= $5 AND w.k_first < $6) OR (w.k_last >= $5 AND w.k_last < $6)
 ORDER BY 2 DESC, 1 DESC LIMIT $8 OFFSET $9) AS hits)
ORDER BY contacts.created_at DESC, contacts.id DESC;
EXPLAIN (ANALYZE, COSTS OFF) EXECUTE final(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'active', 21, 0);
\timing on
EXECUTE final(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'active', 21, 0);
EXECUTE final(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'active', 21, 0);
EXECUTE final(:'p', :'c', :'p', 4200, 'zq', 'zq' || chr(1114111), 'active', 21, 0);
EXECUTE final(:'p', :'c', :'p', 4200, 'zq', 'zq' || chr(1114111), 'active', 21, 0);
-- A filter that matches no contact here (every contact is active).
EXECUTE final(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'inactive', 21, 0);
EXECUTE final(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'inactive', 21, 0);
EXECUTE first(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'inactive', 21, 0);
EXECUTE first(:'p', :'c', :'p', 4200, 'a', 'a' || chr(1114111), 'inactive', 21, 0);

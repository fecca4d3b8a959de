-- A whole name's window (contacts::window_page, the columns of contacts_created_idx,
-- the terms without the project) by hand on the kept PostgreSQL database, generic plan
-- as the server's connections use it: psql -v pid=PROJECT_ID -d clientele_bench_... -f pg-window.sql
set plan_cache_mode = force_generic_plan;
prepare w(text, text, text, bigint) as
SELECT contacts.id FROM (
  SELECT id, email, first_name_key, last_name_key, phone_digits, created_at, deleted_at
  FROM contacts WHERE project_id = $1 ORDER BY created_at DESC, id DESC LIMIT $4) AS contacts
WHERE contacts.deleted_at IS NULL
  AND ((contacts.email >= $2 AND contacts.email < $3)
    OR (contacts.first_name_key >= $2 AND contacts.first_name_key < $3)
    OR (contacts.last_name_key >= $2 AND contacts.last_name_key < $3))
ORDER BY contacts.created_at DESC, contacts.id DESC LIMIT 21 OFFSET 0;
explain (analyze, buffers, costs off) execute w(:'pid', 'anna', 'anna' || chr(1114111), 4200);
explain (analyze, buffers, costs off) execute w(:'pid', 'anna', 'anna' || chr(1114111), 4200);
explain (analyze, buffers, costs off) execute w(:'pid', 'weber', 'weber' || chr(1114111), 4200);
explain (analyze, buffers, costs off) execute w(:'pid', 'weber', 'weber' || chr(1114111), 4200);
explain (analyze, buffers, costs off) execute w(:'pid', 'a', 'a' || chr(1114111), 4200);

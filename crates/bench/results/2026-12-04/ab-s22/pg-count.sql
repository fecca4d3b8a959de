-- The match count of a longer search (MatchCount in crates/persistence/src/contacts.rs)
-- by hand on the kept PostgreSQL database, generic plan as the server's connections
-- use it: psql -v pid=PROJECT_ID -d clientele_bench_... -f pg-count.sql
set plan_cache_mode = force_generic_plan;
prepare c(text, text, text, bigint) as
SELECT COUNT(*) FROM (
  SELECT 1 AS one FROM contacts WHERE project_id = $1 AND email >= $2 AND email < $3
  UNION ALL
  SELECT 1 FROM contacts WHERE project_id = $1 AND first_name_key >= $2 AND first_name_key < $3
  UNION ALL
  SELECT 1 FROM contacts WHERE project_id = $1 AND last_name_key >= $2 AND last_name_key < $3
  LIMIT $4) AS m;
explain (analyze, buffers, costs off) execute c(:'pid', 'anna', 'anna' || chr(1114111), 2100);
explain (analyze, buffers, costs off) execute c(:'pid', 'anna', 'anna' || chr(1114111), 2100);
explain (analyze, buffers, costs off) execute c(:'pid', 'rhea', 'rhea' || chr(1114111), 2100);
explain (analyze, buffers, costs off) execute c(:'pid', 'weber', 'weber' || chr(1114111), 2100);
explain (analyze, buffers, costs off) execute c(:'pid', 'weber', 'weber' || chr(1114111), 2100);

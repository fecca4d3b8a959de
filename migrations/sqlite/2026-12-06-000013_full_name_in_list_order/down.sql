DROP INDEX contacts_first_name_idx;
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, last_name_key, id, created_at, deleted_at);

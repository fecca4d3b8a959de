DROP INDEX contacts_created_idx;
CREATE INDEX contacts_created_idx ON contacts (project_id, created_at, id);

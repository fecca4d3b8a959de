-- A search takes each term's first rows in list order from the term's own index
-- (contacts::search_page). With the default order's key and the live-only filter in
-- the index, an index-only scan answers it: at a million contacts a common prefix
-- matches hundreds, and reading each from the table was most of a search's time.
DROP INDEX contacts_email_idx;
DROP INDEX contacts_first_name_idx;
DROP INDEX contacts_last_name_idx;
DROP INDEX contacts_phone_idx;
CREATE INDEX contacts_email_idx ON contacts (project_id, email, id) INCLUDE (created_at, deleted_at);
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, id) INCLUDE (created_at, deleted_at);
CREATE INDEX contacts_last_name_idx ON contacts (project_id, last_name_key, id) INCLUDE (created_at, deleted_at);
CREATE INDEX contacts_phone_idx ON contacts (project_id, phone_digits, id) INCLUDE (created_at, deleted_at);

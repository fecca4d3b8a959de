-- A search for a common name or a few letters looks for its page among the newest rows
-- of the list (contacts::window_page): reading the list's index in order and testing
-- each row's email, names and phone against the terms. With those columns in the
-- index, the window is read from it alone, with no read of the table per row. SQLite
-- has no INCLUDE: they follow the key. New contacts are added at the index's end, so
-- a wider entry costs a create little.
DROP INDEX contacts_created_idx;
CREATE INDEX contacts_created_idx ON contacts (project_id, created_at, id, email, first_name_key, last_name_key, phone_digits, deleted_at);

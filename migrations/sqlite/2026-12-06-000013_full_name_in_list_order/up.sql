-- A full name with a whole last name (`anna weber`: first name anna, last name weber)
-- reads its contacts in list order, newest first, from the first name's index: with
-- the time after the last name, the first page is its first twenty entries, not every
-- Anna Weber sorted (about 650 at a million contacts). Longer last names (Webers) are
-- a range of their own (contacts::term_branches).
DROP INDEX contacts_first_name_idx;
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, last_name_key, created_at, id, deleted_at);

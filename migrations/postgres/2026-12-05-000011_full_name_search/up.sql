-- A search of several words is also a full name (contacts::Term::Name): the first name
-- is one of the words (or starts with it) and the last name starts with the others.
-- With the last name after the first in the first name's index, a whole first name and
-- the start of a last name are one seek, answered by an index-only scan. A search by
-- the first name alone reads the same range as before; nothing sorts by first name.
DROP INDEX contacts_first_name_idx;
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, last_name_key, id) INCLUDE (created_at, deleted_at);

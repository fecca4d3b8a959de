-- A contact belongs to its project's customer. PostgreSQL proves it with one foreign
-- key (project_id, customer_id) -> projects (its migration of the same name); SQLite
-- cannot change a table's keys without rebuilding the table, so these triggers check
-- the same on every insert and on any change of either column.
CREATE TRIGGER contacts_customer_of_project_insert
BEFORE INSERT ON contacts
WHEN NEW.customer_id IS NOT (SELECT customer_id FROM projects WHERE id = NEW.project_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a contact''s customer is its project''s');
END;

CREATE TRIGGER contacts_customer_of_project_update
BEFORE UPDATE OF project_id, customer_id ON contacts
WHEN NEW.customer_id IS NOT (SELECT customer_id FROM projects WHERE id = NEW.project_id)
BEGIN
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: a contact''s customer is its project''s');
END;

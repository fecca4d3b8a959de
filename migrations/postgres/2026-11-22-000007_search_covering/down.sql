DROP INDEX contacts_email_idx;
DROP INDEX contacts_first_name_idx;
DROP INDEX contacts_last_name_idx;
DROP INDEX contacts_phone_idx;
CREATE INDEX contacts_email_idx ON contacts (project_id, email, id);
CREATE INDEX contacts_first_name_idx ON contacts (project_id, first_name_key, id);
CREATE INDEX contacts_last_name_idx ON contacts (project_id, last_name_key, id);
CREATE INDEX contacts_phone_idx ON contacts (project_id, phone_digits, id);

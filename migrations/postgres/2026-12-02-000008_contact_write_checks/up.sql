-- A contact's create checked each of its foreign keys by a query of its own: the
-- customer, the project, and for every tag the project again and the contact. One key,
-- (project, customer) -> projects, proves both of the first two, and also that the
-- contact's customer is its project's customer, which two keys did not. A tag's project
-- is its contact's (written from it), and the tag goes with the contact, so the tag's
-- own key to projects only repeated a check. 6 checks -> 3 for a contact with 2 tags.
ALTER TABLE projects ADD CONSTRAINT projects_id_customer_key UNIQUE (id, customer_id);
ALTER TABLE contacts
    ADD CONSTRAINT contacts_project_customer_fkey FOREIGN KEY (project_id, customer_id)
    REFERENCES projects (id, customer_id) ON DELETE CASCADE;
ALTER TABLE contacts DROP CONSTRAINT contacts_customer_id_fkey;
ALTER TABLE contacts DROP CONSTRAINT contacts_project_id_fkey;
ALTER TABLE contact_tags DROP CONSTRAINT contact_tags_project_id_fkey;

-- Most contacts have no company: an entry for each of them was an index write per
-- create that no lookup by company (always company_id = x) can use.
DROP INDEX contacts_company_idx;
CREATE INDEX contacts_company_idx ON contacts (company_id) WHERE company_id IS NOT NULL;

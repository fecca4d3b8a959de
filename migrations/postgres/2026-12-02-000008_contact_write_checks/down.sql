DROP INDEX contacts_company_idx;
CREATE INDEX contacts_company_idx ON contacts (company_id);
ALTER TABLE contact_tags
    ADD CONSTRAINT contact_tags_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE contacts
    ADD CONSTRAINT contacts_project_id_fkey FOREIGN KEY (project_id)
    REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE contacts
    ADD CONSTRAINT contacts_customer_id_fkey FOREIGN KEY (customer_id)
    REFERENCES customers (id) ON DELETE CASCADE;
ALTER TABLE contacts DROP CONSTRAINT contacts_project_customer_fkey;
ALTER TABLE projects DROP CONSTRAINT projects_id_customer_key;

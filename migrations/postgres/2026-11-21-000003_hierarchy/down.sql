DROP INDEX customers_updated_idx;
DROP TABLE channels;
DROP INDEX projects_billing_account_idx;
DROP INDEX projects_customer_idx;
ALTER TABLE customers DROP COLUMN settings_locks;

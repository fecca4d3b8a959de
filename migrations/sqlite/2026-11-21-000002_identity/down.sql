DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE project_members;
DROP TABLE users;
DROP TABLE projects;
DROP TABLE billing_accounts;

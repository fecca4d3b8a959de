BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 100000)
INSERT INTO contacts (id, customer_id, project_id, kind, first_name, last_name, display_name, email, phone, first_name_key, last_name_key, phone_digits, stage, status, tier, customer_type, tags, created_at, updated_at, version, total_spent, last_order_key)
SELECT printf('01000000-%04x-7000-8000-%012x', i/65536, i), ':CID', ':PID', 'individual',
  'First' || i, 'Last' || (i*7919 % 100000), 'First' || i || ' Last' || (i*7919 % 100000),
  'user' || i || '@example' || (i % 50) || '.com', '+4930' || (1000000 + i),
  'first' || i, 'last' || (i*7919 % 100000), '4930' || (1000000 + i),
  CASE i % 4 WHEN 0 THEN 'lead' WHEN 1 THEN 'prospect' WHEN 2 THEN 'customer' ELSE 'churned' END,
  CASE WHEN i % 10 = 0 THEN 'inactive' ELSE 'active' END,
  CASE i % 4 WHEN 0 THEN 'free' WHEN 1 THEN 'basic' WHEN 2 THEN 'pro' ELSE 'enterprise' END,
  'retail', CASE WHEN i % 3 = 0 THEN '["vip"]' ELSE '[]' END,
  strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds') || '000',
  strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds') || '000', 1, (i * 37) % 100000, 0
FROM n;
INSERT INTO contact_tags (project_id, tag, contact_id) SELECT project_id, 'vip', id FROM contacts WHERE tags = '["vip"]';
COMMIT;

\set n random(1, 2000)
SELECT p.*, c.* FROM projects p LEFT JOIN contacts c ON c.project_id = p.id AND c.customer_id = p.customer_id AND c.id = (SELECT id FROM ids WHERE n = :n) WHERE p.id = '01a23b66-5f09-769f-90e4-9bb92eeabb6f' AND p.customer_id = '01a23b66-5ee1-7697-a429-332a160c3ba1' LIMIT 1;

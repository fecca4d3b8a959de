\set n random(1, 2000)
SELECT c.* FROM contacts c WHERE c.id = (SELECT id FROM ids WHERE n = :n) AND c.project_id = '01a23b66-5f09-769f-90e4-9bb92eeabb6f' AND c.customer_id = '01a23b66-5ee1-7697-a429-332a160c3ba1';

\set n random(1, 2000)
SELECT id FROM ids WHERE n = :n;
